"""An import killed mid-way (after the answers are inserted, before COMMIT) leaves the store
as it was; the same file can then be imported normally."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import PAUSE_BEFORE_COMMIT_ENV, PAUSE_MARKER, RawDataStore, store_summary

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from senacs_workbench.restricted.intake import import_file
    from senacs_workbench.core.workspace import Workspace
    import_file(Workspace(Path(sys.argv[1])), Path(sys.argv[2]), int(sys.argv[3]))
    print("TERMINÉ")
    """
)


def test_killed_import_leaves_the_store_as_before(national_workspace: Workspace, tmp_path: Path) -> None:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "v1.csv"), YEAR)
    before = store_summary(national_workspace)
    before_answers = RawDataStore(national_workspace).answers(YEAR)
    frame = export_frame()
    frame.loc[0, "budget_total"] = "999999"
    second = write_csv(frame, tmp_path / "v2.csv")

    env = {**os.environ, PAUSE_BEFORE_COMMIT_ENV: "60"}
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(national_workspace.root), str(second), str(YEAR)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # warnings may come first
            seen.append(line)
            if PAUSE_MARKER in line:
                break
        else:
            pytest.fail("l'import n'a pas atteint la pause avant validation :\n" + "".join(seen))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL

    assert store_summary(national_workspace) == before
    after_answers = RawDataStore(national_workspace).answers(YEAR)
    assert after_answers.equals(before_answers)

    outcome = import_file(national_workspace, second, YEAR)  # not « already imported »: nothing was kept
    assert not outcome.already_imported and outcome.version == 2
    wide = RawDataStore(national_workspace).wide(YEAR).set_index("structure_id")
    assert wide.loc["S1000", "budget_total"] == 999999
