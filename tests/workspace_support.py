"""A national workspace with a committee, a designated preparer (``prep``) and a correspondent.

Shared by tests that need real governance (import it: ``from workspace_support import …``;
never from ``conftest``).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.trust.demo_keys import adopt_demo_governance

NATIONAL_GOVERNANCE: dict[str, Any] = {
    "territories": [
        {
            "territory": "FR",
            "committee": [
                {"user": "ccaf", "name": "Camille Caf", "institution": "caf"},
                {"user": "ffed", "name": "Florent Fédé", "institution": "federation"},
            ],
            "preparer": {
                "user": "prep",
                "name": "Pat Préparateur",
                "designated_on": "2025-01-15",
                "designated_by": ["ccaf", "ffed"],
            },
            "correspondents": [{"user": "corr", "name": "Claire Correspondante", "institution": "caf"}],
        }
    ]
}


def national_workspace_at(path: Path, extra_territories: list[dict[str, Any]] | None = None) -> Workspace:
    """Create a national workspace at ``path`` with :data:`NATIONAL_GOVERNANCE` (plus ``extra_territories``)."""
    workspace = init_workspace(path)
    governance = copy.deepcopy(NATIONAL_GOVERNANCE)
    governance["territories"] += extra_territories or []
    workspace.governance_path.write_text(yaml.safe_dump(governance, allow_unicode=True), encoding="utf-8")
    adopt_demo_governance(workspace)
    return workspace


_LOCK_HOLDER = """
import sys
from pathlib import Path
from senacs_workbench.core.workspace_lock import workspace_lock
with workspace_lock(Path(sys.argv[1]), sys.argv[2]):
    print("pris", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def lock_held_elsewhere(root: Path, operation: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the workspace lock at ``root`` for ``operation`` while the block runs,
    or until a line is written to its stdin (waited for: the block starts once the lock is taken)."""
    process = subprocess.Popen([sys.executable, "-c", _LOCK_HOLDER, str(root), operation],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "SENACS_USER": "prep"})
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "pris"
        yield process
    finally:
        process.kill()
        process.wait()
