"""Fixtures of the campaign tests: a workspace with released bundles (and a store), tiny notebooks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from sample_bundles import cells, microdata, record_store, release

from senacs_workbench.core import territories as geo
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.trust.demo_keys import adopt_demo_governance

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
YEARS = (2023, 2024)
DEPARTEMENTS = [*geo.departements_of("75"), "01", "75"]
GOVERNANCE = {
    "territories": [{
        "territory": "FR",
        "committee": [{"user": "ccaf", "name": "Camille Caf", "institution": "caf"},
                      {"user": "ffed", "name": "Florent Fédé", "institution": "federation"}],
        "preparer": {"user": "prep", "name": "Pat Préparateur", "designated_on": "2025-01-15",
                     "designated_by": ["ccaf", "ffed"]},
        "correspondents": [],
    }]
}


@pytest.fixture(scope="session", autouse=True)
def acting_preparer() -> Iterator[None]:
    """Worker processes and kernels inherit the acting user: the designated preparer."""
    old = os.environ.get("SENACS_USER")
    os.environ["SENACS_USER"] = "prep"
    yield
    if old is None:
        os.environ.pop("SENACS_USER", None)
    else:
        os.environ["SENACS_USER"] = old


def new_workspace(path: Path) -> Workspace:
    workspace = init_workspace(path)
    workspace.governance_path.write_text(yaml.safe_dump(GOVERNANCE, allow_unicode=True), encoding="utf-8")
    adopt_demo_governance(workspace)
    return workspace


@pytest.fixture(scope="session")
def released_template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Released bundles for 2023 and 2024 (national, régions, départements; some cells suppressed) + store."""
    workspace = new_workspace(tmp_path_factory.mktemp("template") / "ws")
    for year in YEARS:
        micro = microdata(year, DEPARTEMENTS)
        release(workspace, year, cells(micro, year))
        record_store(workspace, year, micro)
    return workspace


@pytest.fixture
def released_workspace(released_template: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the released workspace (tests write reports and state into it)."""
    target = tmp_path / "ws"
    shutil.copytree(released_template.root, target, symlinks=True)
    return Workspace(target)


def write_notebook(folder: Path, name: str, code: str, audience: str = "committee",
                   parameters: str = 'x = 1\noutput_dir = "."') -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "senacs": {"audience": audience}}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params, nbformat.v4.new_code_cell(code)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


TINY_OK = ("import json, pathlib\n"
           "pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
           "(pathlib.Path(output_dir) / 'key_figures.json').write_text(json.dumps({'x': x}))\n"
           "print('résultat', x)")


def write_campaign(path: Path, body: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def pin_notebooks(workspace: Workspace, campaign_file: Path) -> None:
    """Have the (demonstration) committee pin, by hash, the notebooks of the campaign file's folder
    (``reviewed_notebooks`` in the governance): only reviewed code renders for the committee."""
    import hashlib

    body = yaml.safe_load(campaign_file.read_text(encoding="utf-8")) or {}
    if not body.get("notebooks"):
        return
    folder = (campaign_file.parent / str(body["notebooks"])).resolve()
    raw = yaml.safe_load(workspace.governance_path.read_text(encoding="utf-8")) or {}
    pins = {p["path"]: p["sha256"] for p in raw.get("reviewed_notebooks") or []}
    pins |= {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.ipynb"))}
    raw["reviewed_notebooks"] = [{"path": p, "sha256": h} for p, h in sorted(pins.items())]
    workspace.governance_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    adopt_demo_governance(workspace)


def run_reviewed(workspace: Workspace, campaign_file: Path, **options: object) -> Any:
    """``run_campaign`` after pinning the campaign's notebooks (tests' notebooks are reviewed by the test)."""
    from senacs_workbench.restricted.campaign import run_campaign

    pin_notebooks(workspace, campaign_file)
    return run_campaign(workspace, campaign_file, **options)  # type: ignore[arg-type]


def load_reviewed(workspace: Workspace, campaign_file: Path) -> Any:
    from senacs_workbench.restricted.campaign import load_campaign

    pin_notebooks(workspace, campaign_file)
    return load_campaign(workspace, campaign_file)
