"""The campaign file's ``standalone`` and ``pdf`` options, per audience and per run, on tiny notebooks.

(The real reports opened alone in chromium and their PDF text: ``test_campaign_run.py``.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from campaign_support import TINY_OK, load_reviewed, new_workspace, run_reviewed, write_campaign, write_notebook

from senacs_workbench.restricted.campaign import CampaignError
from senacs_workbench.restricted.campaign.execute import PLOTLY_JS, PLOTLY_TAG, plotly_js


@pytest.fixture
def tiny(tmp_path: Path):
    workspace = new_workspace(tmp_path / "ws")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "public", TINY_OK)
    write_notebook(notebooks, "infra", TINY_OK, audience="restricted")
    write_notebook(notebooks, "mine", TINY_OK, audience="centre",
                   parameters='structure_id = ""\nx = 1\noutput_dir = "."')
    return workspace, notebooks, tmp_path


def _file(tmp_path: Path, notebooks: Path, runs: list[dict], **options: object) -> Path:
    return write_campaign(tmp_path / "exports.yaml", {"name": "exports", "notebooks": str(notebooks), **options,
                                                      "runs": runs})


RUNS = [{"notebook": "public"}, {"notebook": "infra"}, {"notebook": "mine", "parameters": {"structure_id": "S1"}}]


@pytest.mark.parametrize(("options", "standalone", "pdf"), [
    ({}, {"centre"}, set()),
    ({"standalone": ["restricted"], "pdf": True}, {"centre", "restricted"}, {"committee", "restricted", "centre"}),
    ({"standalone": True, "pdf": ["centre"]}, {"committee", "restricted", "centre"}, {"centre"}),
    ({"standalone": False, "pdf": False}, {"centre"}, set()),  # a centre's report always travels alone
])
def test_options_per_audience(tiny, options: dict, standalone: set[str], pdf: set[str]) -> None:
    workspace, notebooks, tmp_path = tiny
    campaign = load_reviewed(workspace, _file(tmp_path, notebooks, RUNS, **options))
    assert {r.audience for r in campaign.runs if r.standalone} == standalone
    assert {r.audience for r in campaign.runs if r.pdf} == pdf


def test_a_run_overrides_its_audience(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    runs = [{"notebook": "public", "standalone": True, "pdf": True}, {"notebook": "infra", "pdf": False}]
    campaign = load_reviewed(workspace, _file(tmp_path, notebooks, runs, pdf=True))
    assert [(r.notebook, r.standalone, r.pdf) for r in campaign.runs] == [("public", True, True),
                                                                           ("infra", False, False)]


@pytest.mark.parametrize(("options", "runs", "message"), [
    ({"standalone": ["public"]}, RUNS, "standalone = \\['public'\\] : true, false ou une liste de publics"),
    ({"pdf": "oui"}, RUNS, "pdf = 'oui'"),
    ({}, [{"notebook": "public", "pdf": "oui"}], "run 1 \\(public\\) : pdf = 'oui' : true ou false"),
    ({}, [{"notebook": "mine", "standalone": False, "parameters": {"structure_id": "S1"}}],
     "standalone = false refusé : le tableau d'un centre lui est remis seul"),
])
def test_bad_options_are_refused_in_french(tiny, options: dict, runs: list[dict], message: str) -> None:
    workspace, notebooks, tmp_path = tiny
    with pytest.raises(CampaignError, match=message):
        load_reviewed(workspace, _file(tmp_path, notebooks, runs, **options))


@pytest.mark.slow
def test_a_standalone_committee_folder_has_no_shared_plotly_and_pdfs_are_printed(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    report = run_reviewed(workspace, _file(tmp_path, notebooks, [{"notebook": "public", "parameters": {"x": [1, 2]}}],
                                           standalone=["committee"], pdf=True), progress=False, workers=1)
    assert report.ok, report.summary_fr()
    folder = workspace.reports / "committee" / "exports"
    assert not (folder / PLOTLY_JS).exists()
    for outcome in report.outcomes:
        page = outcome.html.read_text(encoding="utf-8")
        assert PLOTLY_TAG not in page and plotly_js() in page
        assert outcome.pdf is not None and outcome.pdf.exists()
        text = subprocess.run(["pdftotext", str(outcome.pdf), "-"], check=True, capture_output=True, text=True).stdout
        assert "public" in text and f"résultat {outcome.parameters['x']}" in text
        from pdfua import Severity, validate

        errors = [f"{f.rule_id}: {f.message}" for f in validate(str(outcome.pdf)).findings
                  if f.severity is Severity.ERROR]
        assert errors == [], errors  # the report's PDF is PDF/UA like the plaquette
    # --resume: nothing runs again, nothing is printed again
    printed = {o.run_id: o.pdf.stat().st_mtime_ns for o in report.outcomes if o.pdf}
    again = run_reviewed(workspace, tmp_path / "exports.yaml", resume=True, progress=False, workers=1)
    assert {o.status for o in again.outcomes} == {"skipped"}
    assert {o.run_id: o.pdf.stat().st_mtime_ns for o in again.outcomes if o.pdf} == printed
