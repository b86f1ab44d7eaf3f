"""The shipped notebooks, dashboards and campaign files, found through one function wherever the package runs from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign.spec import load_campaign

ROOT = Path(__file__).resolve().parents[2]


def test_in_a_checkout_the_shipped_folders_are_the_top_level_ones() -> None:
    for name in ("notebooks", "dashboards", "parameters"):
        assert shipped(name) == (ROOT / name).resolve()  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        shipped("restricted")  # type: ignore[arg-type]


def test_a_copied_example_campaign_file_runs_the_shipped_notebooks(released_template: Workspace,
                                                                    tmp_path: Path) -> None:
    copied = tmp_path / "ailleurs" / "campagne-2024.yaml"
    copied.parent.mkdir()
    shutil.copy(shipped("parameters") / "campagne-2024.yaml", copied)
    campaign = load_campaign(released_template, copied)
    assert campaign.notebooks_dir == shipped("notebooks")
    assert campaign.runs and all(Path(run.notebook_path).parent == shipped("notebooks") for run in campaign.runs)
