"""The coherence notebook (restricted audience, papermill parameters) and the demo step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.coherence import demo_coherence
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.overview import banner_html, coherence_overview
from senacs_workbench.restricted.coherence.resolution import list_findings

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "coherence_review.ipynb"
BANNER = "Document de travail réservé au préparateur et aux correspondants"


def test_notebook_is_marked_restricted_and_thin() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["metadata"]["senacs"]["audience"] == "restricted"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"]["tags"]
    parameters = "".join(code[0]["source"])
    assert "territory" in parameters and "year" in parameters and "workspace_dir" in parameters
    assert notebook["cells"].index(code[0]) == 1  # the French introduction comes first
    assert len(code) <= 4
    assert BANNER in "".join("".join(c["source"]) for c in notebook["cells"])


def test_overview_and_demo(checked: Workspace) -> None:
    overview = coherence_overview(checked, 2024, "FR")
    assert overview.audience == "restricted" and BANNER in banner_html()
    assert overview.findings == int(overview.by_rule["Total"].sum()) > 0
    assert overview.progress["Constats"].sum() == overview.findings
    lines: list[str] = []
    done = demo_coherence(checked, 2024, echo=lines.append)
    assert done["confirmed"] and done["corrected"] and done["withdrawn"]
    statuses = list_findings(checked, 2024).set_index("finding_id")["status"]
    assert statuses[done["confirmed"]] == fs.CONFIRMED
    assert statuses[done["corrected"]] == fs.CORRECTED
    assert statuses[done["withdrawn"]] == fs.WITHDRAWN
    text = "\n".join(lines)
    assert "Historique de" in text and "Contrôle de cohérence :" in text


@pytest.mark.slow
def test_notebook_runs_with_papermill(checked: Workspace, tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    output = tmp_path / "coherence_review.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={"territory": "FR", "year": 2024, "workspace_dir": str(checked.root)},
        kernel_name="python3",
        progress_bar=False,
    )
    executed = json.loads(output.read_text(encoding="utf-8"))
    assert executed["metadata"]["senacs"]["audience"] == "restricted"
    outputs = json.dumps([c.get("outputs", []) for c in executed["cells"]], ensure_ascii=False)
    assert BANNER in outputs and "Constats par règle et par gravité" in outputs
