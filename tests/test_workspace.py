from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from senacs_workbench.core.errors import WorkspaceError
from senacs_workbench.core.workspace import init_workspace, open_workspace, write_text_atomic

ROOT = Path(__file__).resolve().parent.parent


def test_init_creates_layout_with_owner_only_restricted_zone(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws", name="Test", territory="departement:24")
    assert stat.S_IMODE(workspace.restricted.stat().st_mode) == 0o700
    assert workspace.published.is_dir() and workspace.reports.is_dir()
    assert workspace.config["territory"] == "departement:24"
    assert open_workspace(tmp_path / "ws").root == workspace.root


def test_init_twice_and_inside_checkout_are_refused(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="existe déjà"):
        init_workspace(tmp_path / "ws")
    if (ROOT / ".git").exists():
        with pytest.raises(WorkspaceError, match="en dehors"):
            init_workspace(ROOT / "senacs-workspace")


def test_open_refuses_missing_and_loosened_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="senacs init"):
        open_workspace(tmp_path / "nothing")
    workspace = init_workspace(tmp_path / "ws")
    os.chmod(workspace.restricted, 0o755)
    with pytest.raises(WorkspaceError, match="chmod 700"):
        open_workspace(workspace.root)


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    write_text_atomic(target, "ancien")
    write_text_atomic(target, "nouveau", mode=0o400)
    assert target.read_text() == "nouveau"
    assert stat.S_IMODE(target.stat().st_mode) == 0o400
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.parametrize(("configured", "expected"), [(None, "FR"), ("FR", "FR"), ("24", "departement:24"),
                                                      ("region:75", "region:75")])
def test_the_workspace_owns_its_territory(tmp_path: Path, configured: str | None, expected: str) -> None:
    workspace = init_workspace(tmp_path / "ws", territory=configured or "FR")
    if configured is None:
        config = workspace.config
        del config["territory"]
        write_text_atomic(workspace.config_path, yaml.safe_dump(config))
    assert workspace.territory.key == expected


def test_a_workspace_with_a_bad_territory_says_so_in_french(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws", territory="departement:999")
    with pytest.raises(WorkspaceError, match=r"workspace\.yaml : territoire « departement:999 » illisible") as raised:
        _ = workspace.territory
    assert raised.value.file == str(workspace.config_path)


def test_init_keeps_the_name_it_is_given(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws", name="Démonstration SENACS — Dordogne", territory="departement:24")
    assert workspace.config["name"] == "Démonstration SENACS — Dordogne"
    assert init_workspace(tmp_path / "plain").config["name"] == "plain"
