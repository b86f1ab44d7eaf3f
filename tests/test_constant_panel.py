"""The constant panel (issue 6): published as a protected breakdown, drawn by the trends notebook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from workspace_support import national_workspace_at

from senacs_workbench.apps.cli import main
from senacs_workbench.core.codebook import BREAKDOWNS, PANEL_BREAKDOWN, PANEL_IN, PANEL_OUT
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.released.analysis import trends
from senacs_workbench.released.analysis.trends import TREND_FIGURES
from senacs_workbench.released.published import PublishedReader
from senacs_workbench.restricted.constant_panel import PanelError, panel_window, parse_period
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.store import RawDataStore

YEARS = (2024, 2025)
VARIABLES = [*BREAKDOWNS, *(i.variable for _, _, indicators, _ in TREND_FIGURES for i in indicators)]


def _release(workspace: Workspace, year: int) -> str:
    outcome = publish_year(workspace, year, only=VARIABLES)
    approve(workspace, year, user="ccaf")
    approve(workspace, year, user="ffed")
    return outcome.message_fr


@pytest.fixture(scope="module")
def panel_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    mp = pytest.MonkeyPatch()
    mp.setenv("SENACS_USER", "prep")
    root = tmp_path_factory.mktemp("panel")
    workspace = national_workspace_at(root / "ws")
    for path in generate(list(YEARS), root / "incoming", scale=0.08):
        if path.suffix == ".csv" and path.name.startswith("senacs_"):
            import_file(workspace, path, int(path.stem.split("_")[1]))
    # 2024 released before any panel is defined: no panel breakdown
    _release(workspace, 2024)
    result = CliRunner().invoke(main, ["panel", "--years", "2024-2025", "--workspace", str(workspace.root)])
    assert result.exit_code == 0, result.output
    assert "2024–2025" in result.output
    for year in YEARS:
        _release(workspace, year)
    yield workspace
    mp.undo()


def test_every_year_of_the_period_is_released_with_the_panel_breakdown(panel_workspace: Workspace) -> None:
    assert panel_window(panel_workspace) == (2024, 2025)
    reader = PublishedReader(panel_workspace.published)
    # 2024 was released again (v2) once the panel was set; the first release stays readable
    assert sorted(p.name for p in (panel_workspace.published / "released" / "2024").iterdir()) == ["v1", "v2"]
    store = RawDataStore(panel_workspace)
    ids = [set(store.wide(y, "FR", variables=["type_structure"])["structure_id"]) for y in YEARS]
    members = ids[0] & ids[1]
    assert 0 < len(members) < len(ids[1])
    for year in YEARS:
        assert reader.bundle(year).manifest["panel_years"] == [2024, 2025]
        cells = reader.table(year, level="national", breakdown=PANEL_BREAKDOWN, variable="type_structure",
                             statistic="structures")
        counts = cells.set_index("category")["value"]
        assert counts[PANEL_IN] == len(members)
        assert counts[PANEL_OUT] == len(ids[YEARS.index(year)]) - len(members)
    # the panel breakdown is protected like any other: the département cells have suppressions
    table = reader.table(2025, breakdown=PANEL_BREAKDOWN, variable="budget_total", statistic="sum")
    assert (table["status"] != "V").any()
    assert table.loc[table["status"] != "V", "value"].isna().all()


def test_republishing_with_the_same_panel_changes_nothing(panel_workspace: Workspace, monkeypatch) -> None:
    import senacs_workbench.restricted.constant_panel as constant_panel

    def no_raw_read(*args, **kwargs):
        raise AssertionError("panel members read although nothing changed")

    # nothing to publish: the panel's members (raw data of every campaign) are not read
    monkeypatch.setattr(constant_panel, "panel_members", no_raw_read)
    outcome = publish_year(panel_workspace, 2025, only=VARIABLES)
    assert not outcome.changed and "rien n'a changé" in outcome.message_fr


def test_the_trends_report_draws_the_panel(panel_workspace: Workspace) -> None:
    report = trends.build(panel_workspace.published, "FR", 2024, 2025)
    assert report.extra["panel_published"] is True
    panel = next(s for s in report.sections if s.title == "Panel constant")
    assert "mêmes chaque année" in panel.text
    store = RawDataStore(panel_workspace)
    ids = [set(store.wide(y, "FR", variables=["type_structure"])["structure_id"]) for y in YEARS]
    assert report.extra["panel_structures"] == len(ids[0] & ids[1])
    assert {f.id for f in panel.figures} >= {"panel_emploi", "panel_budget"}
    employment = next(f for f in panel.figures if f.id == "panel_emploi").data
    assert sorted(employment["year"].unique()) == list(YEARS)
    assert (employment["category"] == PANEL_IN).all()
    # another period than the published panel: size only, no panel curve
    other = trends.build(panel_workspace.published, "FR", 2025, 2025)
    assert other.extra["panel_published"] is False


def test_a_bad_period_is_refused_in_french() -> None:
    for text in ("2024", "2025-2024", "abc-def"):
        with pytest.raises(PanelError, match="Période du panel invalide"):
            parse_period(text)


def test_the_campaign_runner_counts_the_same_panel(panel_workspace: Workspace) -> None:
    from senacs_workbench.restricted.analysis.panel import panel_size

    store = RawDataStore(panel_workspace)
    ids = [set(store.wide(y, "FR", variables=["type_structure"])["structure_id"]) for y in YEARS]
    assert panel_size(panel_workspace, "FR", *YEARS) == len(ids[0] & ids[1])
    assert panel_size(panel_workspace, "FR", 2023, 2025) is None  # 2023 not imported
    assert panel_size(panel_workspace, "FR", *YEARS, user="intrus") is None  # no raw-data access
