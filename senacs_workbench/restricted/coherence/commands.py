"""Functions for the ``senacs`` command line and the demo: each returns the French text to print.

Wiring (cli.py, by the lead)::

    senacs check --year Y [--territory T]              -> check(ws, Y, T)
    senacs findings list [--year Y] [--territory T] [--status S] [--structure ID] [--rule R] [--all]
                                                       -> findings_list(ws, ...)
    senacs findings ask --year Y [--territory T] [--structure ID ...] [--exchange TXT]
                                                       -> findings_ask(ws, ...)
    senacs findings resolve N confirm|withdraw --why TXT [--exchange TXT]
                                                       -> findings_resolve(ws, N, outcome, why=..., exchange=...)
    senacs correct STRUCTURE VARIABLE VALUE --why TXT --year Y [--finding N] [--exchange TXT]
                   [--source centre|caf|federation]   -> correct(ws, ...)
    senacs corrections import FILE [--year Y] [--source ...]
                                                       -> corrections_import(ws, FILE, ...)
    senacs review-sheets --year Y [--territory T]      -> review_sheets(ws, Y, T)
    senacs review import FILE                          -> review_import(ws, FILE)
    senacs history STRUCTURE VARIABLE --year Y         -> history(ws, STRUCTURE, VARIABLE, Y)
    senacs status                                      -> coherence_status(ws) / render_coherence_status(...)

The commands that write (check, findings ask / resolve, correct, corrections import, review
sheets and review import) hold the workspace lock (:mod:`senacs_workbench.core.workspace_lock`)
while they write, as imports, campaigns, publications, backups and erasures do: a backup never
sees half a correction, an erasure never races a correction of the structure it erases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.core.workspace_lock import workspace_lock
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections import correct_answer, render_history, value_history
from senacs_workbench.restricted.coherence.corrections_file import import_corrections
from senacs_workbench.restricted.coherence.engine import run_check
from senacs_workbench.restricted.coherence.resolution import (
    ask_findings,
    list_findings,
    render_findings,
    resolve_finding,
)
from senacs_workbench.restricted.coherence.review import import_review_answers, write_review_sheets
from senacs_workbench.restricted.coherence.sheets import coherence_dir, write_question_sheets

Echo = Callable[[str], None]
P = ParamSpec("P")


def _locked(operation: str) -> Callable[[Callable[P, str]], Callable[P, str]]:
    """Run the decorated command (first argument: the workspace) holding the workspace lock for
    ``operation`` (French, as the lock's holder is named to a second writer)."""

    def decorate(command: Callable[P, str]) -> Callable[P, str]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> str:
            workspace = args[0]
            assert isinstance(workspace, Workspace)
            with workspace_lock(workspace.root, operation):
                return command(*args, **kwargs)

        return wrapper

    return decorate


@_locked("le contrôle de cohérence")
def check(workspace: Workspace, year: int, territory: str | None = None) -> str:
    return run_check(workspace, year, territory).message_fr


def findings_list(
    workspace: Workspace,
    year: int | None = None,
    territory: str | None = None,
    status: str | None = None,
    structure: str | None = None,
    rule: str | None = None,
    show_all: bool = False,
) -> str:
    if status and status not in fs.STATUSES:
        raise fs.FindingError(
            f"État « {status} » inconnu (attendu : {', '.join(fs.STATUSES)}).", status=status
        )
    statuses: Any = status if status else (None if show_all else list(fs.ACTIVE))
    frame = list_findings(workspace, year, territory=territory, status=statuses, structure=structure, rule=rule)
    return render_findings(frame, limit=None if show_all else 50)


@_locked("l'envoi des questions aux centres")
def findings_ask(
    workspace: Workspace,
    year: int,
    territory: str | None = None,
    structures: Sequence[str] | None = None,
    exchange: str | None = None,
) -> str:
    """Write the question sheets of the centres with unresolved findings and mark the open ones asked."""
    sheets = write_question_sheets(workspace, year, territory, structures=structures)
    frame = list_findings(workspace, year, territory=territory, status=fs.OPEN)
    if structures is not None:
        frame = frame[frame["structure_id"].isin(list(structures))]
    moved = ask_findings(workspace, [int(i) for i in frame["finding_id"]], exchange=exchange)
    return (
        f"{sheets.message_fr} {moved} constat(s) passé(s) à l'état « question posée au centre ». "
        f"Fiches dans {coherence_dir(workspace, year)}."
    )


@_locked("la clôture d'un constat")
def findings_resolve(
    workspace: Workspace, finding_id: int, outcome: str, *, why: str, exchange: str | None = None
) -> str:
    return resolve_finding(workspace, finding_id, outcome, note=why, exchange=exchange)


@_locked("une correction")
def correct(
    workspace: Workspace,
    structure: str,
    variable: str,
    value: str,
    *,
    why: str,
    year: int,
    finding: int | None = None,
    exchange: str | None = None,
    source: str = "centre",
) -> str:
    return correct_answer(
        workspace, year, structure, variable, value, why=why, exchange=exchange, finding_id=finding, source=source
    ).message_fr


@_locked("l'import d'une fiche de corrections")
def corrections_import(workspace: Workspace, path: Path, *, year: int | None = None, source: str = "centre") -> str:
    return import_corrections(workspace, Path(path), year=year, source=source).message_fr


@_locked("l'écriture des fiches de relecture")
def review_sheets(workspace: Workspace, year: int, territory: str | None = None) -> str:
    result = write_review_sheets(workspace, year, territory)
    return f"{result.message_fr} Fiches dans {coherence_dir(workspace, year) / 'relecture'}."


@_locked("l'import d'une fiche de relecture")
def review_import(workspace: Workspace, path: Path) -> str:
    numbers = import_review_answers(workspace, Path(path))
    if not numbers:
        return f"{Path(path).name} : le centre n'a contesté aucune valeur."
    listed = ", ".join(f"n° {n}" for n in numbers)
    return f"{Path(path).name} : {len(numbers)} objection(s) du centre enregistrée(s) comme constat(s) ({listed})."


def history(workspace: Workspace, structure: str, variable: str, year: int) -> str:
    return render_history(value_history(workspace, year, structure, variable), year, structure, variable)
