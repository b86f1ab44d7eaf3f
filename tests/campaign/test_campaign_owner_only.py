"""Outputs for audiences narrower than the committee are owner-only, whatever the umask (issue 18).

``reports/restricted/<territory>/`` (one folder per département) and ``reports/centre/<id>/`` come
out with 0700 folders and 0600 files under a permissive umask, and the workspace refuses to
open when one of them has been loosened, like ``restricted/``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_support import TINY_OK, run_reviewed, write_campaign, write_notebook

from senacs_workbench.core.errors import WorkspaceError
from senacs_workbench.core.workspace import OWNER_ONLY_REPORTS, Workspace, init_workspace, open_workspace
from senacs_workbench.released.analysis.audience import AUDIENCES, COMMITTEE

pytestmark = pytest.mark.slow


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[Path, int]:
    return {path: stat.S_IMODE(path.lstat().st_mode) for path in [root, *root.rglob("*")]}


def test_the_owner_only_folders_are_the_audiences_narrower_than_the_committee() -> None:
    assert set(OWNER_ONLY_REPORTS) == set(AUDIENCES) - {COMMITTEE}


def test_init_makes_the_narrow_audiences_folders_owner_only(tmp_path: Path, permissive_umask: None) -> None:
    workspace = init_workspace(tmp_path / "ws")
    for name in OWNER_ONLY_REPORTS:
        assert stat.S_IMODE((workspace.reports / name).stat().st_mode) == 0o700
    assert stat.S_IMODE(workspace.reports.stat().st_mode) == 0o755  # the committee's reports follow the umask


@pytest.mark.parametrize("name", OWNER_ONLY_REPORTS)
def test_open_refuses_a_loosened_narrow_audience_folder(tmp_path: Path, name: str) -> None:
    workspace = init_workspace(tmp_path / "ws")
    os.chmod(workspace.reports / name, 0o755)
    with pytest.raises(WorkspaceError, match="chmod -R go-rwx") as raised:
        open_workspace(workspace.root)
    assert str(workspace.reports / name) in str(raised.value)


def test_restricted_and_centre_outputs_are_owner_only_under_a_permissive_umask(
        released_workspace: Workspace, tmp_path: Path, permissive_umask: None) -> None:
    for name in OWNER_ONLY_REPORTS:  # a workspace made before: the folders do not exist yet
        (released_workspace.reports / name).rmdir()
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "infra", TINY_OK, audience="restricted",
                   parameters='departement = "24"\nx = 1\noutput_dir = "."')
    write_notebook(notebooks, "mine", TINY_OK, audience="centre",
                   parameters='structure_id = ""\nx = 1\noutput_dir = "."')
    write_notebook(notebooks, "public", TINY_OK)
    path = write_campaign(tmp_path / "etroite.yaml", {"name": "etroite", "notebooks": str(notebooks), "runs": [
        {"notebook": "infra", "parameters": {"departement": ["24", "33"]}},
        {"notebook": "mine", "parameters": {"structure_id": ["S24000", "S33000"]}},
        {"notebook": "public"},
    ]})
    report = run_reviewed(released_workspace, path, progress=False, workers=1)
    assert report.ok, report.summary_fr()
    folders = {o.run_id: o.html.parent.relative_to(released_workspace.reports) for o in report.outcomes if o.html}
    assert folders == {"infra__24": Path("restricted/24/etroite"), "infra__33": Path("restricted/33/etroite"),
                       "mine__S24000": Path("centre/S24000/etroite"), "mine__S33000": Path("centre/S33000/etroite"),
                       "public": Path("committee/etroite")}
    for name in OWNER_ONLY_REPORTS:
        modes = _modes(released_workspace.reports / name)
        files = {p: m for p, m in modes.items() if p.is_file()}
        assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".ipynb" for p in files)
        assert any(p.name == "key_figures.json" for p in files)  # written by the notebook's kernel
        assert {m for p, m in modes.items() if p.is_dir()} == {0o700}, modes
        assert set(files.values()) == {0o600}, files
    public = _modes(released_workspace.reports / "committee" / "etroite")
    assert {m for p, m in public.items() if p.is_file()} == {0o644}  # the committee's follow the umask
    open_workspace(released_workspace.root)
