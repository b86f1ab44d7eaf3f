"""A département committee's dashboard, on the bundles the real publish pipeline made (``senacs demo``).

The demo publishes the nation, then the demo région and département workspaces from the same
answers, each adding the released bundles above it (``senacs compare add``). The Dordogne's
dashboard must show its own figures next to its région's and the nation's, taken from those
received bundles with their n, response rate and ``s``.

LEAK TEST: for every suppressed euro sum the Dordogne dashboard can show (its own cells, the
other départements of Nouvelle-Aquitaine, the région and the nation, whole territory and by
breakdown), the true value, recomputed here with plain pandas from the national workspace's raw
answers (independent of the engine and of the tabulation code), never reaches the browser: DOM,
websocket frames, HTTP bodies and downloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from dashboard_browser import choose, open_dashboard, options, wait_text
from leak_detector import leaks
from test_dashboards_leak import Capture

from senacs_workbench.apps.serve import DashboardServer, serve
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.formatting import format_euros
from senacs_workbench.core.workspace import open_workspace
from senacs_workbench.released.dashboard.data import load_catalog
from senacs_workbench.released.published import PublishedReader

pytestmark = pytest.mark.slow

DEPARTEMENT, REGION, YEAR = "24", "75", 2025
BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")
SEPARATOR = r"[\s\u202f\u00a0.,]?"
MIN_DISTINCTIVE = 10_000
"""Truths below this are not searched for: small numbers occur everywhere on a page."""


@pytest.fixture(scope="module")
def demo_root(demo_cli_run: tuple[Path, Any]) -> Path:
    path, result = demo_cli_run
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def departement_published(demo_root: Path) -> Path:
    return demo_root / "territoires" / f"departement-{DEPARTEMENT}" / "published"


@pytest.fixture(scope="module")
def departement_server(departement_published: Path) -> Iterator[DashboardServer]:
    server = serve(departement_published, port=0, pool_size=1, preheat=True)
    try:
        server.wait_ready(240)
        yield server
    finally:
        server.stop()


def number_pattern(value: float) -> str:
    """A regex for the integer part of ``value`` written any usual way (1234567, 1 234 567, 1.234.567…)."""
    digits = str(round(value))
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return r"(?<!\d)" + SEPARATOR.join(groups) + r"(?!\d|[\s\u202f\u00a0.,]\d{3})"


def raw_answers(national_root: Path, year: int) -> pd.DataFrame:
    """One row per responding structure of the latest data version: its place, breakdowns and euro answers."""
    codebook = load_codebook(year)
    euros = [q.id for q in codebook.questions if q.unit == "€"]
    con = duckdb.connect(str(open_workspace(national_root).store_path), read_only=True)
    try:
        version = con.execute("SELECT max(version) FROM structures WHERE year = ?", [year]).fetchone()[0]
        structures = con.execute(
            "SELECT structure_id, departement, region FROM structures WHERE year = ? AND version = ? AND respondent",
            [year, version]).fetchdf()
        answers = con.execute(
            "SELECT structure_id, variable, value, value_num FROM answers WHERE year = ? AND version = ? "
            f"AND variable IN ({', '.join('?' * len(euros + list(BREAKDOWNS)))})",
            [year, version, *euros, *BREAKDOWNS]).fetchdf()
    finally:
        con.close()
    numbers = answers[answers.variable.isin(euros)].pivot(index="structure_id", columns="variable", values="value_num")
    codes = answers[answers.variable.isin(BREAKDOWNS)].pivot(index="structure_id", columns="variable", values="value")
    return structures.set_index("structure_id").join(codes).join(numbers).reset_index()


def truths_of_suppressed_sums(national_root: Path, published: Path) -> dict[str, tuple[str, float]]:
    """{regex: (description, true value)} for every suppressed euro sum the dashboard can show."""
    raw = raw_answers(national_root, YEAR)
    catalog = load_catalog(published)
    found: dict[str, str] = {}
    for variable in [v for v in catalog.variables(YEAR) if catalog.question(v, YEAR).unit == "€"]:
        cells = catalog.cells(YEAR, variable)
        hidden = cells[(cells.statistic == "sum") & (cells.status != "V")]
        for cell in hidden.itertuples(index=False):
            rows = raw
            if cell.level != "national":
                rows = rows[rows[cell.level] == cell.territory]
            if cell.breakdown:
                if cell.breakdown not in rows:
                    continue
                rows = rows[rows[cell.breakdown] == cell.category]
            truth = rows[variable].dropna().sum() if variable in rows else 0.0
            if abs(truth) >= MIN_DISTINCTIVE:
                found[number_pattern(truth)] = (
                    f"{variable} {cell.level} {cell.territory} {cell.breakdown}={cell.category}", float(truth))
    return found


def test_the_dashboard_opens_on_the_departement_with_its_region_and_the_nation(
        browser: Any, departement_server: DashboardServer, demo_root: Path) -> None:
    page = browser.new_page()
    try:
        open_dashboard(page, departement_server, "tableau_de_bord", charts=1)
        territory = page.locator(".senacs-select-territory select")
        assert territory.input_value() is not None
        assert "Dordogne (24)" in page.locator(".senacs-select-territory select option:checked").text_content()
        chart = page.locator(".senacs-chart-comparison svg").first.text_content().replace("\xa0", " ")
        assert "Dordogne" in chart and "Nouvelle-Aquitaine" in chart and "France entière" in chart
        assert "n = " in chart and "taux de réponse" in chart
        note = page.locator(".senacs-sources").text_content()
        assert "publication nationale" in note and "publication régionale" in note
        # the nation's figures are the national committee's, as released (n of respondents of the question)
        question = page.locator(".senacs-select-question select").input_value()
        national = PublishedReader(demo_root / "published").table(
            YEAR, level="national", variable=question, statistic="respondents", breakdown="")
        respondents = int(national.value.iloc[0])
        rows = page.locator("table.senacs-aggregates tr").all_text_contents()
        france = [r for r in rows if "France entière" in r and "Ensemble" in r]
        assert france, rows[:5]
        assert re.search(number_pattern(respondents), france[0].replace("\xa0", " ")), (respondents, france[0])
        # a neighbouring département of the région, from the région's release
        choose(page, "territory", "Gironde (33)")
        wait_text(page, ".senacs-sources", "publication régionale")
    finally:
        page.close()


def test_no_true_value_of_a_suppressed_sum_reaches_the_browser(
        browser: Any, departement_server: DashboardServer, demo_root: Path, departement_published: Path) -> None:
    truths = truths_of_suppressed_sums(demo_root, departement_published)
    assert len(truths) >= 5, "the demo's département view holds suppressed euro sums worth attacking"
    pattern = re.compile("|".join(f"(?:{p})" for p in truths))
    for _, value in truths.values():  # positive controls: every way a page could write it is seen
        for form in (format_euros(value), f"{value:.1f}", f"{value:,.0f}", f"{value:.0f}"):
            assert leaks(f"<td>{form}</td>", pattern), form
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    capture = Capture(page, departement_server.urls["tableau_de_bord"].rstrip("/"))
    try:
        open_dashboard(page, departement_server, "tableau_de_bord", charts=1)
        choose(page, "section", "Toutes les rubriques")
        euro_questions = [q.label for q in load_codebook(YEAR).questions if q.unit == "€"]
        shown = [q for q in options(page, "question") if q in euro_questions]
        assert shown, options(page, "question")
        # the Dordogne's view shows every département of the région, the région and the nation (chart and
        # table, whole territory and the chosen breakdown): every euro question by every breakdown
        for question in shown:
            choose(page, "question", question)
            for breakdown in options(page, "breakdown"):
                choose(page, "breakdown", breakdown)
                found = leaks(page.content(), pattern)
                assert found == [], (question, breakdown,
                                     [truths[p][0] for p in truths for f in found if re.search(p, f)])
        page.wait_for_timeout(500)
        assert len(capture.frames) > 50
        assert capture.leaks(pattern) == []
    finally:
        context.close()
