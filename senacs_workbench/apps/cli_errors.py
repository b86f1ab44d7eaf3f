"""The command line's own usage errors, in French.

click reports a missing argument, an unknown option or a value its types refuse (a file that
does not exist, a word where a number is expected, a value outside a choice) in English
(« Error: Invalid value for 'FILE': File 'x.csv' does not exist. »). :func:`usage_error` turns
any :class:`click.ClickException` into a :class:`~senacs_workbench.core.errors.UsageError`
with a French message and structured fields (``parameter``, ``value``, ``file`` for a path),
which the ``senacs`` command prints like every other :class:`SenacsError` (no traceback,
exit status 2). Messages already in French (raised by the workbench's own checks) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from senacs_workbench.core.errors import UsageError

_KINDS = {"file": "Le fichier", "directory": "Le dossier", "path": "Le chemin"}


def _quoted(text: str) -> str:
    """``'x'`` (Python repr as click writes it) → « x »."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return f"« {text} »"


def _path_message(tail: str) -> Callable[[re.Match[str]], str]:
    def render(match: re.Match[str]) -> str:
        return f"{_KINDS.get(match['kind'].lower(), 'Le chemin')} {_quoted(match['path'])} {tail}"

    return render


_VALUE_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern, re.DOTALL), render)
    for pattern, render in (
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) does not exist\.$", _path_message("n'existe pas.")),
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) is a directory\.$", _path_message("est un dossier.")),
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) is a file\.$", _path_message("est un fichier.")),
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) is not readable\.$", _path_message("n'est pas lisible.")),
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) is not writable\.$",
         _path_message("n'est pas accessible en écriture.")),
        (r"^(?P<kind>File|Directory|Path) (?P<path>.+) is not executable\.$",
         _path_message("n'est pas exécutable.")),
        (r"^(?P<value>.+) is not a valid integer(?: range)?\.$",
         lambda m: f"{_quoted(m['value'])} n'est pas un nombre entier."),
        (r"^(?P<value>.+) is not a valid float(?: range)?\.$",
         lambda m: f"{_quoted(m['value'])} n'est pas un nombre."),
        (r"^(?P<value>.+) is not a valid boolean\..*$",
         lambda m: f"{_quoted(m['value'])} n'est pas une valeur oui/non."),
        (r"^(?P<value>.+) is not in the range (?P<range>.+)\.$",
         lambda m: f"{_quoted(m['value'])} est hors de l'intervalle {m['range']}."),
        (r"^(?P<value>.+) is not one of (?P<choices>.+)\.$",
         lambda m: f"{_quoted(m['value'])} n'est pas une valeur possible (valeurs possibles : {m['choices']})."),
        (r"^(?P<value>.+) is not (?P<choice>'[^']*')\.$",
         lambda m: f"{_quoted(m['value'])} n'est pas une valeur possible (valeur possible : {m['choice']})."),
    )
)

_USAGE_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern, re.DOTALL), render)
    for pattern, render in (
        (r"^No such command (?P<name>'[^']*')\.(?: Did you mean (?P<close>'[^']*')\?)?$",
         lambda m: f"Commande inconnue : {_quoted(m['name'])}."
         + (f" Vouliez-vous dire {_quoted(m['close'])} ?" if m["close"] else "")),
        (r"^Missing command\.$", lambda m: "Commande manquante."),
        (r"^Got unexpected extra arguments? \((?P<args>.*)\)$", lambda m: f"Argument(s) en trop : {m['args']}."),
        (r"^Option (?P<name>.+) requires an argument\.$",
         lambda m: f"L'option {_quoted(m['name'])} attend une valeur."),
        (r"^Option (?P<name>.+) requires (?P<n>\d+) arguments\.$",
         lambda m: f"L'option {_quoted(m['name'])} attend {m['n']} valeurs."),
        (r"^Option (?P<name>.+) does not take a value\.$",
         lambda m: f"L'option {_quoted(m['name'])} ne prend pas de valeur."),
        (r"^Argument (?P<name>.+) takes (?P<n>\d+) values\.$",
         lambda m: f"L'argument {_quoted(m['name'])} attend {m['n']} valeurs."),
    )
)


def _translate(message: str, table: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]) -> str:
    for pattern, render in table:
        match = pattern.match(message.strip())
        if match:
            return render(match)
    return message


def _parameter_name(param: click.Parameter | None, ctx: click.Context | None, hint: Any = None) -> str | None:
    if hint:
        names = hint if isinstance(hint, list | tuple) else [hint]
        return " / ".join(str(n).strip("'\"") for n in names)
    if param is None:
        return None
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    return (param.human_readable_name or param.name or "").upper()


def _command_path(ctx: click.Context | None) -> str | None:
    return None if ctx is None else ctx.command_path


def usage_error(exc: click.ClickException) -> UsageError:
    """The French :class:`UsageError` for a click error (missing or invalid parameter, unknown
    option or command, unreadable file)."""
    ctx = getattr(exc, "ctx", None)
    fields: dict[str, Any] = {"command": _command_path(ctx)}
    if isinstance(exc, click.MissingParameter):
        name = _parameter_name(exc.param, ctx, exc.param_hint)
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        label = {"argument": "Argument obligatoire manquant", "option": "Option obligatoire manquante"}.get(
            kind, "Paramètre obligatoire manquant"
        )
        message = f"{label} : {name}." if name else f"{label}."
        fields["parameter"] = name
    elif isinstance(exc, click.BadParameter):
        name = _parameter_name(exc.param, ctx, exc.param_hint)
        detail = _translate(exc.message, _VALUE_MESSAGES)
        message = f"Valeur invalide pour {_quoted(name)} : {detail}" if name else f"Valeur invalide : {detail}"
        fields["parameter"] = name
        path = re.match(r"^(?:File|Directory|Path) (?P<path>'.+'|\".+\") ", exc.message)
        if path:
            fields["file"] = path["path"][1:-1]
    elif isinstance(exc, click.NoSuchOption):
        message = f"Option inconnue : {_quoted(exc.option_name)}."
        if exc.possibilities:
            message += " Vouliez-vous dire " + " ou ".join(_quoted(p) for p in sorted(exc.possibilities)) + " ?"
        fields["parameter"] = exc.option_name
    elif isinstance(exc, click.FileError):
        message = f"Impossible d'ouvrir le fichier {_quoted(exc.ui_filename)} : {exc.message}"
        fields["file"] = exc.ui_filename
    else:
        message = _translate(exc.format_message(), _USAGE_MESSAGES)
    if not message.endswith((".", "?", "!")):
        message += "."
    if ctx is not None:
        message += f"\nAide : {ctx.command_path} --help"
    return UsageError(message, **{k: v for k, v in fields.items() if v is not None})
