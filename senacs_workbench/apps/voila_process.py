"""Entry point of one dashboard's Voilà process (``python -m senacs_workbench.apps.voila_process``).

The same as ``python -m voila``, after :mod:`senacs_workbench.core.deferred_imports` has deferred
the slow import that Voilà's jsonschema would otherwise pay at every start.
"""

from __future__ import annotations

import sys

import senacs_workbench  # noqa: F401  (installs the deferred imports)

if __name__ == "__main__":
    from voila.app import main

    sys.exit(main())
