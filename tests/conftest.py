"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from workspace_support import national_workspace_at

from senacs_workbench.core.workspace import Workspace


@pytest.fixture
def national_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A national workspace (territory FR) whose designated preparer is ``prep`` (the acting user)."""
    workspace = national_workspace_at(tmp_path / "ws")
    monkeypatch.setenv("SENACS_USER", "prep")
    return workspace


DEMO_YEARS = "2024-2025"
DEMO_SCALE = "0.02"


@pytest.fixture(scope="session")
def demo_cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``senacs demo`` run once per session as a user runs it (the CLI tests and the bundle re-audit share it).

    While developing, ``SENACS_TEST_DEMO=<folder>`` reuses a demo already run with the same years and
    scale (``senacs demo --workspace <folder> --years 2024-2025 --scale 0.02``); CI never sets it."""
    reused = os.environ.get("SENACS_TEST_DEMO")
    if reused:
        return Path(reused), subprocess.CompletedProcess(["senacs", "demo"], 0, "(démo réutilisée)", "")
    path = tmp_path_factory.mktemp("demo") / "ws"
    result = subprocess.run(
        [sys.executable, "-m", "senacs_workbench.apps.cli", "demo", "--workspace", str(path),
         "--years", DEMO_YEARS, "--scale", DEMO_SCALE],
        capture_output=True, text=True, env={**os.environ, "SENACS_USER": "prep"}, timeout=1500,
    )
    return path, result
