"""senacs-workbench: analysis workbench for the SENACS survey of French social centres."""

from senacs_workbench.core.deferred_imports import install as _defer_slow_imports

__version__ = "0.1.0"

_defer_slow_imports()
