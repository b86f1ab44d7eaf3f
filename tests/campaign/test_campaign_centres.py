"""Centre reports for a whole territory (issue 18): ``structure_id: all`` or a territory in the campaign file.

The ids come from the store (as the preparer: checked and logged, no answer read), one run per
structure of the run's year, each written to that centre's own owner-only folder.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from campaign_support import DEPARTEMENTS, TINY_OK, load_reviewed, run_reviewed, write_campaign, write_notebook
from sample_bundles import microdata

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign import CampaignError
from senacs_workbench.trust.audit_log import entries


def _expected(year: int, departement: str | None = None) -> list[str]:
    """The template's structures of ``year`` (sample_bundles.microdata, as recorded in its store)."""
    frame = microdata(year, DEPARTEMENTS)
    if departement is not None:
        frame = frame[frame.departement == departement]
    return sorted(frame.structure_id)


def _campaign(tmp_path: Path, structure_id: object, year: object = 2024) -> Path:
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "mine", TINY_OK, audience="centre",
                   parameters='structure_id = ""\nyear = 2024\nx = 1\noutput_dir = "."')
    return write_campaign(tmp_path / "centres.yaml", {"name": "centres", "notebooks": str(notebooks), "runs": [
        {"notebook": "mine", "parameters": {"structure_id": structure_id, "year": year}}]})


def test_all_gives_one_run_per_structure_of_the_year(released_workspace: Workspace, tmp_path: Path) -> None:
    campaign = load_reviewed(released_workspace, _campaign(tmp_path, "all", [2023, 2024]))
    for year in (2023, 2024):
        runs = [r for r in campaign.runs if r.parameters["year"] == year]
        assert [r.parameters["structure_id"] for r in runs] == _expected(year)
        for run in runs:
            assert run.audience == "centre"
            assert run.folder == Path("centre") / run.parameters["structure_id"] / "centres"
            assert run.group == f"structure:{run.parameters['structure_id']}"
    assert _expected(2023) != _expected(2024)  # structures leave and join: the ids are the year's
    listed = [e for e in entries(released_workspace.audit_log_path)
              if (e.get("details") or {}).get("form") == "structure_ids"]
    assert [(e["user"], e["action"], e["details"]["year"]) for e in listed] == [
        ("prep", "read_answers", 2023), ("prep", "read_answers", 2024)]


@pytest.mark.parametrize("selector", ["departement:24", ["departement:24"], ["departement:24", "S24000"]])
def test_a_territory_gives_its_structures_only(released_workspace: Workspace, tmp_path: Path,
                                               selector: object) -> None:
    campaign = load_reviewed(released_workspace, _campaign(tmp_path, selector))
    assert [r.parameters["structure_id"] for r in campaign.runs] == _expected(2024, "24")
    assert len({r.run_id for r in campaign.runs}) == len(campaign.runs)


@pytest.mark.parametrize(("structure_id", "year", "user", "message"), [
    ("departement:999", 2024, "prep", "Territoire inconnu"),
    ("departement:13", 2024, "prep", "aucune structure de département Bouches-du-Rhône"),
    ("all", 2024, "ccaf", "Accès refusé"),
])
def test_selectors_are_refused_in_french_before_anything_runs(
        released_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        structure_id: str, year: int, user: str, message: str) -> None:
    monkeypatch.setenv("SENACS_USER", user)
    with pytest.raises(CampaignError, match=message):
        load_reviewed(released_workspace, _campaign(tmp_path, structure_id, year))
    assert not list((released_workspace.reports / "centre").iterdir())


@pytest.mark.slow
def test_each_centre_of_a_territory_gets_its_own_owner_only_folder(released_workspace: Workspace,
                                                                    tmp_path: Path) -> None:
    report = run_reviewed(released_workspace, _campaign(tmp_path, "departement:24"), progress=False, workers=1)
    assert report.ok, report.summary_fr()
    centre = released_workspace.reports / "centre"
    assert sorted(p.name for p in centre.iterdir()) == _expected(2024, "24")
    for outcome in report.outcomes:
        assert outcome.html is not None
        own = centre / outcome.parameters["structure_id"]
        assert outcome.html.parent == own / "centres"
        assert stat.S_IMODE(own.stat().st_mode) == 0o700
        assert (own / "centres" / "index.html").read_text(encoding="utf-8").count("<li>") == 1  # its own only
