"""A real campaign (the repository's notebooks, real kernels under papermill) on released bundles."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import papermill
import pytest
from campaign_support import NOTEBOOKS, write_campaign

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign import run_campaign
from senacs_workbench.restricted.campaign.execute import PLOTLY_JS, plotly_js

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("SENACS_CHROMIUM", "/usr/bin/chromium")

CAMPAIGN = {
    "name": "essai",
    "notebooks": str(NOTEBOOKS),
    "timeout": 300,
    "pdf": True,
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


def test_html_has_no_code_and_committee_reports_share_one_plotly(campaign) -> None:
    workspace, _, report = campaign
    for outcome in report.outcomes:
        full = outcome.html.read_text(encoding="utf-8")
        page = full.replace(plotly_js(), "")  # the code of the page, not plotly.js's own
        assert "territorial.run(" not in page and "charts.show_report" not in page and "import " not in page
        body = page[page.index("<body"):]
        assert "hl-ipython3" not in body and 'class="jp-CodeMirrorEditor' not in body
        assert "Plotly.newPlot" in page
        assert not re.search(r"<script[^>]+src=\"https?:", page)  # no require.js, MathJax… from the network
        if outcome.audience == "committee":
            assert page.count(f'<script src="{PLOTLY_JS}"') == 1
            assert len(page) < 1_500_000  # no embedded plotly.js (~3.5 MB)
            assert (outcome.html.parent / PLOTLY_JS).stat().st_size > 3_000_000
        else:  # a centre's report travels alone: plotly.js inside, no shared copy beside it
            assert "<script src=" not in page and plotly_js() in full and len(full) > 3_000_000
            assert not (outcome.html.parent / PLOTLY_JS).exists()
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


def _open_alone(page_path: Path, tmp_path: Path) -> tuple[int, int, list[str], int]:
    """Copy ``page_path`` ALONE into an empty folder and open it in chromium, offline: (plotly charts,
    charts drawn, failed requests, script elements with a src)."""
    from playwright.sync_api import sync_playwright

    alone = tmp_path / "seul"
    alone.mkdir()
    copy = alone / page_path.name
    shutil.copyfile(page_path, copy)
    assert [p.name for p in alone.iterdir()] == [page_path.name]
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(copy.as_uri(), wait_until="load", timeout=120_000)
            charts = page.locator(".plotly-graph-div").count()
            # plotly.js runs at load: without it (typeof Plotly undefined), no chart will ever be drawn
            page.wait_for_function("(charts) => typeof Plotly === 'undefined' || "
                                   "document.querySelectorAll('.main-svg').length >= charts", arg=charts,
                                   timeout=60_000)
            drawn = page.locator(".plotly-graph-div .main-svg").count()
            scripts = page.locator("script[src]").count()
        finally:
            browser.close()
    return charts, drawn, failed, scripts


def test_a_centre_report_copied_alone_draws_its_charts_in_chromium(campaign, tmp_path: Path) -> None:
    _, _, report = campaign
    centre = next(o for o in report.outcomes if o.notebook == "centre_report")
    charts, drawn, failed, scripts = _open_alone(centre.html, tmp_path)
    assert charts > 0 and drawn >= charts, (charts, drawn)
    assert failed == [] and scripts == 0


def test_a_committee_report_copied_alone_needs_its_shared_plotly(campaign, tmp_path: Path) -> None:
    """The failure the standalone option prevents: a shared-plotly page sent alone shows no chart."""
    _, _, report = campaign
    portrait = next(o for o in report.outcomes if o.run_id == "territorial_analysis__departement-24__2024")
    charts, drawn, failed, _ = _open_alone(portrait.html, tmp_path)
    assert charts > 0 and drawn == 0
    assert [url.rsplit("/", 1)[-1] for url in failed] == [PLOTLY_JS]


def _h1(page: str) -> list[str]:
    """The page's first-level headings (the report's title among them), as text."""
    headings = [re.sub(r"<a [^>]*>.*?</a>", "", h) for h in re.findall(r"<h1[^>]*>(.*?)</h1>", page, re.S)]
    assert headings
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", h)).split()) for h in headings]


def test_every_report_has_a_pdf_with_its_title_and_the_index_links_both(campaign) -> None:
    _, _, report = campaign
    for outcome in report.outcomes:
        assert outcome.pdf is not None and outcome.pdf == outcome.html.with_suffix(".pdf")
        assert outcome.pdf.read_bytes().startswith(b"%PDF")
        text = subprocess.run(["pdftotext", str(outcome.pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        for title in _h1(outcome.html.read_text(encoding="utf-8")):
            assert title in " ".join(text.split()), (title, text[:300])
        if outcome.notebook == "centre_report":
            assert "Tableaux automatisés — Centre social 24-0" in " ".join(text.split())  # its own title
            assert outcome.pdf.stat().st_mode & 0o077 == 0  # owner-only, like its HTML
        assert "n = " in text  # the figures are printed, not only the headings
        index = (outcome.html.parent / "index.html").read_text(encoding="utf-8")
        assert f'href="{outcome.html.name}"' in index and f'href="{outcome.pdf.name}"' in index


def test_one_report_of_each_notebook_has_no_serious_accessibility_violation(campaign) -> None:
    """axe-core (WCAG 2.1 AA rules) in chromium on one report of each notebook, its charts drawn."""
    from accessibility_support import blocking_violations
    from playwright.sync_api import sync_playwright

    _, _, report = campaign
    first: dict[str, Path] = {}
    for outcome in report.outcomes:
        first.setdefault(outcome.notebook, outcome.html)
    assert set(first) == {"territorial_analysis", "thematic_analysis", "trends", "centre_report"}
    found: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(offline=True).new_page()
            for notebook, path in first.items():
                page.goto(path.as_uri(), wait_until="load", timeout=120_000)
                charts = page.locator(".plotly-graph-div").count()
                page.wait_for_function("(charts) => document.querySelectorAll('.main-svg').length >= charts",
                                       arg=charts, timeout=60_000)
                assert page.evaluate("document.documentElement.lang") == "fr", notebook
                if charts:
                    alternatives = page.locator("figure.senacs-figure details.senacs-chart-alt p")
                    assert alternatives.count() == charts, notebook
                    assert all(text.startswith("Graphique en") for text in alternatives.all_text_contents())
                found[notebook] = blocking_violations(page)
        finally:
            browser.close()
    assert found == {notebook: [] for notebook in first}, found
