"""Make the attacker toolkit (``attacks.py``) importable from the tests of this folder, and
require the test oracles.

acro (a per-table output checker) and pytauargus (tau-Argus Modular) are oracles the attack and
audit tests compare the engine with. They are required, not optional: a missing one fails the
run here, with its name and how to install it, instead of skipping or replacing the comparison.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

REQUIRED_ORACLES: dict[str, str] = {
    "acro": "python3 -m pip install --no-deps 'acro==1.0.2' (scripts/test.sh does it)",
    "pytauargus": "python3 -m pip install -e '.[test]' (scripts/test.sh does it)",
}


def _require_oracles() -> None:
    missing = []
    for module, install in REQUIRED_ORACLES.items():
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc}); install: {install}")
    if missing:
        raise ImportError("Required test oracle(s) missing: " + "; ".join(missing))


_require_oracles()
