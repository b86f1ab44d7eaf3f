"""A real campaign (the repository's notebooks, real kernels under papermill) on released bundles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from campaign_support import NOTEBOOKS, write_campaign

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign import run_campaign
from senacs_workbench.restricted.campaign.execute import PLOTLY_JS

pytestmark = pytest.mark.slow

CAMPAIGN = {
    "name": "essai",
    "notebooks": str(NOTEBOOKS),
    "timeout": 300,
    "runs": [
        {"notebook": "territorial_analysis", "territories": ["FR", "departement:24"], "parameters": {"year": 2024}},
        {"notebook": "thematic_analysis", "territories": ["region:75"],
         "parameters": {"theme": "jeunesse", "year": 2024}},
        {"notebook": "trends", "territories": ["24"], "parameters": {"first_year": 2023, "last_year": 2024}},
        {"notebook": "centre_report", "parameters": {"structure_id": "S24000", "year": 2024}},
    ],
}


@pytest.fixture(scope="module")
def campaign(released_template: Workspace, tmp_path_factory: pytest.TempPathFactory):
    import shutil

    root = tmp_path_factory.mktemp("campaign") / "ws"
    shutil.copytree(released_template.root, root, symlinks=True)
    workspace = Workspace(root)
    path = write_campaign(root.parent / "essai.yaml", CAMPAIGN)
    report = run_campaign(workspace, path, progress=False)
    return workspace, path, report


def test_campaign_runs_every_notebook_and_writes_outputs_and_index(campaign) -> None:
    workspace, _, report = campaign
    assert report.ok, report.summary_fr()
    assert report.exit_code == 0
    assert len(report.outcomes) == 5
    committee = workspace.reports / "committee" / "essai"
    index = (committee / "index.html").read_text(encoding="utf-8")
    assert index.index("France") < index.index("Région Nouvelle-Aquitaine") < index.index("Département Dordogne")
    for outcome in report.outcomes:
        assert outcome.html is not None and outcome.html.exists()
        assert (outcome.artefacts / "key_figures.json").exists()
        folder = outcome.html.parent
        assert f'href="{outcome.html.name}"' in (folder / "index.html").read_text(encoding="utf-8")


def test_audience_metadata_and_folders(campaign) -> None:
    workspace, _, report = campaign
    for outcome in report.outcomes:
        notebook = nbformat.read(outcome.notebook_output, as_version=4)
        assert notebook.metadata["senacs"]["audience"] == outcome.audience
        relative = outcome.html.relative_to(workspace.reports)
        assert relative.parts[0] == outcome.audience
        if outcome.notebook == "centre_report":
            assert outcome.audience == "centre"
            assert relative.parts[:2] == ("centre", "S24000")
        else:
            assert outcome.audience == "committee"


def test_html_has_no_code_and_uses_one_shared_plotly(campaign) -> None:
    workspace, _, report = campaign
    for outcome in report.outcomes:
        page = outcome.html.read_text(encoding="utf-8")
        assert "territorial.run(" not in page and "charts.show_report" not in page and "import " not in page
        body = page[page.index("<body"):]
        assert "hl-ipython3" not in body and 'class="jp-CodeMirrorEditor' not in body
        assert page.count(f'<script src="{PLOTLY_JS}"') == 1
        assert "Plotly.newPlot" in page
        assert len(page) < 1_500_000  # no embedded plotly.js (~3.5 MB)
        assert (outcome.html.parent / PLOTLY_JS).stat().st_size > 3_000_000
    committee = workspace.reports / "committee" / "essai"
    assert len(list(committee.glob("*.js"))) == 1


def test_figures_show_n_response_rate_and_suppressed_cells(campaign) -> None:
    _, _, report = campaign
    portrait = next(o for o in report.outcomes if o.run_id == "territorial_analysis__departement-24__2024")
    page = portrait.html.read_text(encoding="utf-8")
    assert "taux de réponse" in page and "n = " in page
    cells = []
    for outcome in report.outcomes:
        figures = json.loads((outcome.artefacts / "key_figures.json").read_text(encoding="utf-8"))
        cells += [c for f in figures["figures"] for c in f["cells"]]
    suppressed = [c for c in cells if c["status"] in ("A", "B", "D")]
    assert suppressed and all(c["shown"] == "s" and c["value"] is None for c in suppressed)
    assert all(c["n"] is not None for c in cells if c["status"] == "V")


def test_trends_states_the_panel_size(campaign) -> None:
    _, _, report = campaign
    trends = next(o for o in report.outcomes if o.notebook == "trends")
    figures = json.loads((trends.artefacts / "key_figures.json").read_text(encoding="utf-8"))
    assert figures["extra"]["panel_structures"] >= 0
    assert re.search(r"Panel constant : \d+ structures présentes chaque année", trends.html.read_text("utf-8"))


def test_centre_report_marks_answers_entered_by_others(campaign) -> None:
    _, _, report = campaign
    centre = next(o for o in report.outcomes if o.notebook == "centre_report")
    page = centre.html.read_text(encoding="utf-8")
    assert "Votre réponse" in page and "la Caf" in page
    figures = json.loads((centre.artefacts / "key_figures.json").read_text(encoding="utf-8"))
    assert "salaries" in figures["extra"]["entered_by_others"]


def test_campaign_figures_equal_a_fresh_kernel_papermill_run(campaign, tmp_path: Path) -> None:
    workspace, _, report = campaign
    outcome = next(o for o in report.outcomes if o.run_id == "territorial_analysis__departement-24__2024")
    fresh = tmp_path / "fresh"
    papermill.execute_notebook(
        str(NOTEBOOKS / "territorial_analysis.ipynb"), str(tmp_path / "fresh.ipynb"),
        parameters={"territory": "departement:24", "year": 2024, "published_dir": str(workspace.published),
                    "output_dir": str(fresh)},
        progress_bar=False, kernel_name="python3",
    )
    ours = json.loads((outcome.artefacts / "key_figures.json").read_text(encoding="utf-8"))
    theirs = json.loads((fresh / "key_figures.json").read_text(encoding="utf-8"))
    assert ours == theirs


def test_resume_skips_every_unchanged_run(campaign) -> None:
    workspace, path, _ = campaign
    again = run_campaign(workspace, path, resume=True, progress=False)
    assert again.ok and {o.status for o in again.outcomes} == {"skipped"}
