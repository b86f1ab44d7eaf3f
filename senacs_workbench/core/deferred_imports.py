"""Defer ``rfc3987_syntax``, jsonschema's IRI format checker, until it is first used.

jsonschema imports it when jsonschema itself is imported (``jsonschema/_format.py``), and importing
it builds a Lark grammar: 1–2 s of processor time in every process that imports nbformat
(papermill, Voilà, the campaign workers, ``senacs demo``), for a format checker that none of them
calls. On a 2-core machine running dozens of such processes that is minutes (upstream:
python-jsonschema/jsonschema#1428).

:func:`install` puts a stand-in module in ``sys.modules`` whose ``is_valid_syntax`` imports the
real module on its first call: jsonschema validates IRIs exactly as before, only later. Nothing is
done when the module is absent or already imported. ``senacs_workbench/__init__.py`` installs it,
so every process that imports the package first gets it; the Voilà processes start through
:mod:`senacs_workbench.apps.voila_process` for the same reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

DEFERRED = "rfc3987_syntax"


class _DeferredModule(types.ModuleType):
    """Stands for the module until an attribute other than ``is_valid_syntax`` is read, or it is called."""

    def is_valid_syntax(self, syntax_rule: str, value: str) -> bool:
        return bool(_load().is_valid_syntax(syntax_rule, value))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probes __path__, __spec__…: not a use of the module
            raise AttributeError(name)
        return getattr(_load(), name)


def _load() -> types.ModuleType:
    """Import the real module in place of the stand-in (once) and return it."""
    current = sys.modules.get(DEFERRED)
    if current is not None and not isinstance(current, _DeferredModule):
        return current
    stand_in = sys.modules.pop(DEFERRED, None)
    try:
        return importlib.import_module(DEFERRED)
    except BaseException:
        if stand_in is not None:
            sys.modules[DEFERRED] = stand_in
        raise


def install() -> None:
    """Put the stand-in in place, if the module is installed and not imported yet."""
    if DEFERRED in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(DEFERRED)
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    stand_in = _DeferredModule(DEFERRED)
    # ``from rfc3987_syntax import is_valid_syntax`` reads a module attribute: bind it to the instance.
    stand_in.__dict__["is_valid_syntax"] = stand_in.is_valid_syntax
    sys.modules[DEFERRED] = stand_in
