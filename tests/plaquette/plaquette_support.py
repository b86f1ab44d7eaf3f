"""Released bundles for the plaquette tests (until the real publication lands), shared per module."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plaquette_cells import plant, release_in_workspace, synthetic_cells

from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.demo.governance import demo_governance
from senacs_workbench.trust.demo_keys import adopt_demo_governance

YEAR = 2024
SECRET_BUDGET = 9_876_543.0  # true value of a suppressed cell (dominance) of the Dordogne
SECRET_SALARIES = 31_337.0  # true value of a suppressed cell (frequency) of the Dordogne
SECRET_REGION_BENEVOLES = 424_242.0  # true value of a suppressed cell of Nouvelle-Aquitaine

needs_chromium = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists() and shutil.which("chromium") is None,
    reason="chromium is not installed",
)


def write_edito(workspace: Workspace, slug: str) -> None:
    """The committee's édito of ``slug`` (a plaquette with the placeholder édito cannot be approved)."""
    folder = workspace.published / "plaquette" / "edito"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{slug}.md").write_text(f"---\ncaf: La Caf\nfederation: La fédération\n---\nL'édito de {slug}.\n",
                                       encoding="utf-8")


def released_workspace(root: Path, *, demo: bool = False, editos: tuple[str, ...] = ("FR", "24")) -> Workspace:
    """A workspace with a released bundle of YEAR and the committee's édito of ``editos``."""
    workspace = init_workspace(root, demo=demo)
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    cells = synthetic_cells(YEAR)
    cells = plant(cells, variable="budget_total", statistic="sum", territory="24", value=SECRET_BUDGET, status="B")
    cells = plant(cells, variable="budget_total", statistic="mean", territory="24", value=SECRET_BUDGET / 40,
                  status="D")
    cells = plant(cells, variable="salaries", statistic="sum", territory="24", value=SECRET_SALARIES, status="A")
    cells = plant(cells, variable="benevoles_activite", statistic="sum", territory="75", level="region",
                  value=SECRET_REGION_BENEVOLES, status="D")
    release_in_workspace(workspace, cells, YEAR)
    for slug in editos:
        write_edito(workspace, slug)
    return workspace


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return released_workspace(tmp_path_factory.mktemp("plaquette") / "ws")
