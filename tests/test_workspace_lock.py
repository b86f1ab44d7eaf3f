"""The workspace lock shared by campaigns, publications, backups and erasures."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from workspace_support import lock_held_elsewhere

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.core.workspace_lock import WorkspaceBusy, holding, workspace_lock
from senacs_workbench.restricted.publication.publish import publish_year


@pytest.fixture
def held(national_workspace: Workspace) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the lock for a campaign until a line is written to its stdin."""
    with lock_held_elsewhere(national_workspace.root, "la campagne « 2025 »") as process:
        yield process


def test_a_publication_is_refused_while_a_campaign_holds_the_workspace(
        national_workspace: Workspace, held: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENACS_WORKSPACE_LOCK_TIMEOUT", "0.2")
    with pytest.raises(WorkspaceBusy) as refused:
        publish_year(national_workspace, 2024)
    message = str(refused.value)
    assert f"la campagne « 2025 » (utilisateur {pwd.getpwuid(os.getuid()).pw_name}, processus" in message
    assert "est occupé" in message and "la publication de la campagne 2024" in message
    assert refused.value.details["operation"] == "la publication de la campagne 2024"


def test_a_second_writer_waits_for_the_holder_within_its_bound(
        national_workspace: Workspace, held: subprocess.Popen[str]) -> None:
    assert held.stdin is not None
    held.stdin.write("fin\n")
    held.stdin.flush()
    with workspace_lock(national_workspace.root, "la sauvegarde", timeout=60):
        assert holding(national_workspace.root) == "la sauvegarde"
    assert holding(national_workspace.root) is None


def test_the_lock_is_not_reentrant_and_refuses_at_once(tmp_path: Path) -> None:
    with (workspace_lock(tmp_path, "la campagne « a »"),
          pytest.raises(WorkspaceBusy, match="la campagne « a »"),
          workspace_lock(tmp_path, "la publication", timeout=3600)):
        pass
    with workspace_lock(tmp_path, "la publication"):
        pass
