"""The coherence review reads the raw data as the preparer: a campaign runs it with nothing released (issue 6).

Its notebook declares ``"reads": "store"`` in its ``senacs`` metadata, so the campaign checks its
year against the imported data instead of the released bundles; committee notebooks still need
a released bundle.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from campaign_support import (
    NOTEBOOKS,
    TINY_OK,
    load_reviewed,
    new_workspace,
    run_reviewed,
    write_campaign,
    write_notebook,
)

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.restricted.campaign import CampaignError
from senacs_workbench.restricted.campaign.spec import released_years
from senacs_workbench.restricted.coherence.commands import check
from senacs_workbench.restricted.intake import import_file

YEAR = 2025


@pytest.fixture
def imported_only(tmp_path: Path) -> Workspace:
    """National workspace: one synthetic year imported and checked, nothing published."""
    workspace = new_workspace(tmp_path / "ws")
    paths = generate([YEAR], tmp_path / "incoming", seed=5, scale=0.02)
    import_file(workspace, next(p for p in paths if p.name == f"senacs_{YEAR}.csv"), YEAR)
    check(workspace, YEAR)
    assert released_years(workspace) == set()
    return workspace


def coherence_run(year: int) -> dict:
    return {"notebook": "coherence_review", "audience": "restricted", "territories": ["national"],
            "parameters": {"year": year}}


@pytest.mark.slow
def test_coherence_review_runs_on_imported_data_with_nothing_released(imported_only: Workspace,
                                                                        tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "coherence.yaml",
                          {"name": "coherence", "notebooks": str(NOTEBOOKS), "runs": [coherence_run(YEAR)]})
    report = run_reviewed(imported_only, path, progress=False, workers=1)
    assert report.ok, report.summary_fr()
    [outcome] = report.outcomes
    assert outcome.audience == "restricted" and outcome.html is not None
    assert outcome.html.parent == imported_only.reports / "restricted" / "FR" / "coherence"
    text = outcome.html.read_text(encoding="utf-8")
    found = re.search(r"(\d+) constat\(s\)", text)
    assert found and int(found.group(1)) > 0, "the review shows the findings of the coherence check"
    assert not list(imported_only.published.rglob("*.parquet"))
    # --resume skips it while nothing changed, and runs it again once the store changed
    assert [o.status for o in run_reviewed(imported_only, path, resume=True, progress=False, workers=1).outcomes] \
        == ["skipped"]
    paths = generate([YEAR], tmp_path / "late", seed=6, scale=0.02)
    import_file(imported_only, next(p for p in paths if p.name == f"senacs_{YEAR}.csv"), YEAR)
    assert [o.status for o in run_reviewed(imported_only, path, resume=True, progress=False, workers=1).outcomes] \
        == ["done"]


def test_years_are_checked_against_imported_data_for_store_notebooks_only(imported_only: Workspace,
                                                                         tmp_path: Path) -> None:
    notebooks = tmp_path / "nb"
    committee = write_notebook(notebooks, "reads_store", TINY_OK)  # a committee notebook may not read the store
    notebook = nbformat.read(committee, as_version=4)
    notebook.metadata["senacs"]["reads"] = "store"
    nbformat.write(notebook, committee)
    path = write_campaign(tmp_path / "refused.yaml", {"notebooks": str(NOTEBOOKS), "runs": [
        coherence_run(YEAR - 1),  # not imported
        {"notebook": "territorial_analysis", "territories": ["FR"], "parameters": {"year": YEAR}},
    ]})
    with pytest.raises(CampaignError) as error:
        load_reviewed(imported_only, path)
    text = str(error.value)
    assert f"run 1 (coherence_review) : year = {YEAR - 1} : aucune donnée importée" in text
    assert f"run 2 (territorial_analysis) : year = {YEAR} : aucun jeu de tableaux validé" in text

    path = write_campaign(tmp_path / "committee.yaml", {"notebooks": str(notebooks),
                                                        "runs": [{"notebook": "reads_store"}]})
    with pytest.raises(CampaignError, match="seul un carnet réservé"):
        load_reviewed(imported_only, path)

    path = write_campaign(tmp_path / "accepted.yaml", {"notebooks": str(NOTEBOOKS), "runs": [coherence_run(YEAR)]})
    assert [r.run_id for r in load_reviewed(imported_only, path).runs] == [f"coherence_review__FR__{YEAR}"]
