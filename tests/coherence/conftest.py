"""Fixtures of the coherence tests: a national workspace with synthetic campaigns, built once.

The pristine workspace (campaigns 2022-2024 of the generator at scale 0.15, seed 2024) is built
once per session; each test that changes the store gets its own copy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workspace_support import national_workspace_at

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.trust.demo_keys import adopt_demo_governance

YEARS = (2022, 2023, 2024)
CHECKED_YEAR = 2024
SEED = 2024
SCALE = 0.15
FEDERATION_CORRESPONDENT = {"user": "fedcorr", "name": "Fanny Fédération", "institution": "federation"}


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from senacs_workbench.demo.synthetic import generate
    from senacs_workbench.restricted.intake import import_file

    root = tmp_path_factory.mktemp("coherence") / "ws"
    previous = os.environ.get("SENACS_USER")
    os.environ["SENACS_USER"] = "prep"
    try:
        workspace = national_workspace_at(root)
        governance = yaml.safe_load(workspace.governance_path.read_text(encoding="utf-8"))
        governance["territories"][0]["correspondents"].append(FEDERATION_CORRESPONDENT)
        workspace.governance_path.write_text(yaml.safe_dump(governance, allow_unicode=True), encoding="utf-8")
        adopt_demo_governance(workspace)
        incoming = root.parent / "incoming"
        generate(YEARS, incoming, seed=SEED, scale=SCALE)
        for year in YEARS:
            import_file(workspace, incoming / f"senacs_{year}.csv", year)
    finally:
        if previous is None:
            os.environ.pop("SENACS_USER", None)
        else:
            os.environ["SENACS_USER"] = previous
    return root


def _copy(source: Path, target: Path) -> Workspace:
    shutil.copytree(source, target)
    os.chmod(target / "restricted", 0o700)
    return Workspace(target)


def _derived(pristine: Path, tmp_path_factory: pytest.TempPathFactory, name: str, *, ask: bool) -> Path:
    from senacs_workbench.restricted.coherence.commands import findings_ask
    from senacs_workbench.restricted.coherence.engine import run_check

    root = tmp_path_factory.mktemp(name) / "ws"
    previous = os.environ.get("SENACS_USER")
    os.environ["SENACS_USER"] = "prep"
    try:
        workspace = _copy(pristine, root)
        run_check(workspace, CHECKED_YEAR)
        if ask:
            findings_ask(workspace, CHECKED_YEAR)
    finally:
        if previous is None:
            os.environ.pop("SENACS_USER", None)
        else:
            os.environ["SENACS_USER"] = previous
    return root


@pytest.fixture(scope="session")
def checked_pristine(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _derived(pristine, tmp_path_factory, "checked", ask=False)


@pytest.fixture(scope="session")
def asked_pristine(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _derived(pristine, tmp_path_factory, "asked", ask=True)


@pytest.fixture
def workspace(pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A copy of the pristine workspace; the acting user is the preparer ``prep``."""
    monkeypatch.setenv("SENACS_USER", "prep")
    yield _copy(pristine, tmp_path / "ws")


@pytest.fixture
def checked(checked_pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A copy after ``run_check`` of 2024."""
    monkeypatch.setenv("SENACS_USER", "prep")
    yield _copy(checked_pristine, tmp_path / "ws")


@pytest.fixture
def asked(asked_pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A copy after ``run_check`` of 2024 and the question sheets sent (findings asked)."""
    monkeypatch.setenv("SENACS_USER", "prep")
    yield _copy(asked_pristine, tmp_path / "ws")


@pytest.fixture(scope="session")
def ground_truth(pristine: Path) -> dict[int, pd.DataFrame]:
    return {
        year: pd.read_csv(pristine.parent / "incoming" / f"ground_truth_{year}.csv", sep=";", dtype=str)
        for year in YEARS
    }
