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
from leak_detector import texts
from test_dashboards_leak import Capture

from senacs_workbench.apps.serve import DashboardServer, serve
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.formatting import format_euros
from senacs_workbench.core.workspace import open_workspace
from senacs_workbench.released.dashboard.data import load_catalog
from senacs_workbench.released.dashboard.state import Selectors
from senacs_workbench.released.published import PublishedReader

pytestmark = pytest.mark.slow

DEPARTEMENT, REGION, YEAR = "24", "75", 2025
BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")
SEPARATOR = r"[\s\u202f\u00a0.,]?"
MIN_DISTINCTIVE = 100_000
"""Truths below this are not searched for: smaller numbers occur by chance in 2 000 websocket frames
(ports, process ids, counters)."""
MIN_CONTROL = 1_000
"""Released sums from this size are the control: the page must show them."""


@pytest.fixture(scope="module")
def demo_root(demo_cli_run: tuple[Path, Any]) -> Path:
    path, result = demo_cli_run
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return path


WORKSPACES = {"departement": Path("territoires") / f"departement-{DEPARTEMENT}", "national": Path(".")}


@pytest.fixture(scope="module", params=list(WORKSPACES))
def view(request: pytest.FixtureRequest, demo_root: Path) -> Iterator[tuple[str, Path, DashboardServer]]:
    """The Dordogne's workspace, then the national one (which shows the Dordogne from its own release)."""
    published = demo_root / WORKSPACES[request.param] / "published"
    server = serve(published, port=0, pool_size=1, preheat=True)
    try:
        server.wait_ready(240)
        yield request.param, published, server
    finally:
        server.stop()


def selected_territory(page: Any) -> str:
    return page.locator(".senacs-select-territory select option:checked").text_content().replace("\xa0", " ")


def open_on_dordogne(page: Any, kind: str, server: DashboardServer) -> None:
    open_dashboard(page, server, "tableau_de_bord", charts=1)
    if kind == "national":  # the nation's dashboard opens on France
        assert "France entière" in selected_territory(page)
        choose(page, "level", "Département")
        choose(page, "territory", "Dordogne (24)")


NUMBER = re.compile(r"(?<![\w.,:/])\d+(?:[\s\u202f\u00a0.,]\d+)*")
"""A number as any page may write it: 1234567, 1 234 567, 1.234.567, 1234567.0, 1 234 567,89 €; not a
port, a time or a path segment (``127.0.0.1:44351``, ``19:25``, ``/v1/``)."""
GROUP = re.compile(r"(\d+)([\s\u202f\u00a0.,]?)")


def integers_in(payload: str | bytes) -> set[str]:
    """Every integer a reader could see in ``payload`` (and in the files it carries as data: URIs):
    each run of digit groups read with and without its thousands separators."""
    found: set[str] = set()
    for text in texts(payload):
        text = text.replace("\\u202f", " ").replace("\\u00a0", " ")
        for token in NUMBER.finditer(text):
            parts = GROUP.findall(token.group(0))
            groups = [g for g, _ in parts]
            for start, head in enumerate(groups):
                if start and parts[start - 1][1] in ".,":
                    continue  # decimals (7.77539) do not start a number
                found.add(head.lstrip("0") or "0")
                value = head
                for group in groups[start + 1:]:
                    if len(group) != 3:
                        break
                    value += group
                    found.add(value.lstrip("0") or "0")
    return found


def truth_key(value: float) -> str:
    return str(round(abs(value)))  # sign-blind: "-61 332 €" still shows 61332


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


Truths = dict[str, tuple[str, float]]


def truths_of_sums(national_root: Path, published: Path, *, dordogne_view: bool) -> tuple[Truths, Truths]:
    """{integer: (description, true value)} for every euro sum the dashboard can show, suppressed and
    released (with ``dordogne_view``: only those of the Dordogne's view, its région's départements,
    région and nation). The released ones are the control: the same recomputation finds them on the page."""
    raw = raw_answers(national_root, YEAR)
    catalog = load_catalog(published)
    shown = set(catalog.chart_keys(("departement", DEPARTEMENT), YEAR))
    hidden: Truths = {}
    released: Truths = {}
    for variable in [v for v in catalog.variables(YEAR) if catalog.question(v, YEAR).unit == "€"]:
        cells = catalog.cells(YEAR, variable)
        for cell in cells[cells.statistic == "sum"].itertuples(index=False):
            if dordogne_view and (cell.level, cell.territory) not in shown:
                continue
            rows = raw
            if cell.level != "national":
                rows = rows[rows[cell.level] == cell.territory]
            if cell.breakdown:
                if cell.breakdown not in rows:
                    continue
                rows = rows[rows[cell.breakdown] == cell.category]
            truth = rows[variable].dropna().sum() if variable in rows else 0.0
            if abs(truth) >= (MIN_DISTINCTIVE if cell.status != "V" else MIN_CONTROL):
                found = hidden if cell.status != "V" else released
                found[truth_key(truth)] = (
                    f"{variable} {cell.level} {cell.territory} {cell.breakdown}={cell.category}", float(truth))
    return {k: v for k, v in hidden.items() if k not in released}, released


def test_the_departement_is_compared_with_its_region_and_the_nation(
        browser: Any, view: tuple[str, Path, DashboardServer], demo_root: Path) -> None:
    kind, published, server = view
    page = browser.new_page()
    try:
        open_on_dordogne(page, kind, server)
        assert selected_territory(page) == "Dordogne (24)"
        chart = page.locator(".senacs-chart-comparison svg").first.text_content().replace("\xa0", " ")
        assert "Dordogne" in chart and "Nouvelle-Aquitaine" in chart and "France entière" in chart
        assert "n = " in chart and "taux de réponse" in chart
        note = page.locator(".senacs-sources").text_content()
        if kind == "departement":  # the région and the nation from the bundles received
            assert "publication nationale" in note and "publication régionale" in note
        else:  # the nation's own release holds them all
            assert note == ""
        # the nation's figures are the national committee's, as released (n of respondents of the question)
        question = Selectors(load_catalog(published)).question.value  # the question the dashboard opens on
        national = PublishedReader(demo_root / "published").table(
            YEAR, level="national", variable=question, statistic="respondents", breakdown="")
        respondents = int(national.value.iloc[0])
        headers = page.locator("table.senacs-aggregates th").all_text_contents()
        rows = page.evaluate("() => [...document.querySelectorAll('table.senacs-aggregates tbody tr')]"
                             ".map(r => [...r.cells].map(c => c.textContent.replaceAll('\\u00a0', ' ')))")
        france = [dict(zip(headers, r)) for r in rows if r[:2] == ["national", "FR"] and "Ensemble" in r]
        assert france, rows[:3]
        assert france[0]["Répondants"].replace(" ", "") == str(respondents), (respondents, france[0])
        if kind == "departement":  # a neighbouring département of the région, from the région's release
            choose(page, "territory", "Gironde (33)")
            wait_text(page, ".senacs-sources", "publication régionale")
    finally:
        page.close()


@pytest.mark.parametrize("view", ["departement"], indirect=True)  # the committees most workspaces serve
def test_no_true_value_of_a_suppressed_sum_reaches_the_browser(
        browser: Any, view: tuple[str, Path, DashboardServer], demo_root: Path) -> None:
    kind, published, server = view
    truths, released = truths_of_sums(demo_root, published, dordogne_view=kind == "national")
    assert len(truths) >= 5, "the demo's département view holds suppressed euro sums worth attacking"
    for _, value in truths.values():  # positive controls: every way a page could write it is seen
        for form in (format_euros(value), f"{value:.1f}", f"{value:,.0f}", f"{value:.0f}"):
            assert truth_key(value) in integers_in(f"<td>{form}</td>"), form
    seen_released: set[str] = set()
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    capture = Capture(page, server.urls["tableau_de_bord"].rstrip("/"))
    try:
        open_on_dordogne(page, kind, server)
        choose(page, "section", "Toutes les rubriques")
        euro_questions = [q.label for q in load_codebook(YEAR).questions if q.unit == "€"]
        shown = [q for q in options(page, "question") if q in euro_questions]
        assert shown, options(page, "question")
        # the Dordogne's view shows every département of the région, the région and the nation (chart and
        # table, whole territory and the chosen breakdown): every euro question by every breakdown, from
        # the Dordogne's workspace (received bundles) and from the nation's (its own release)
        for question in shown:
            choose(page, "question", question)
            for breakdown in options(page, "breakdown"):
                choose(page, "breakdown", breakdown)
                on_page = integers_in(page.content())
                found = on_page & truths.keys()
                assert not found, (question, breakdown, [truths[k][0] for k in found])
                seen_released |= on_page & released.keys()
        # control: the recomputation and the reading of the page agree where the release shows the sum
        assert len(seen_released) >= max(1, len(released) // 2), sorted(set(released) - seen_released)[:10]
        page.wait_for_timeout(500)
        assert len(capture.frames) > 50
        received = set().union(*(integers_in(payload) for payload in (*capture.frames, *capture.bodies)))
        assert not received & truths.keys(), [truths[k][0] for k in received & truths.keys()]
    finally:
        context.close()
