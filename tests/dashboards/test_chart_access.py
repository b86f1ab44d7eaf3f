"""Dashboard charts say what they show: suppressed values visibly absent, series not by colour alone, text alternative.

No browser: the plotly figures are checked as built (fast).
"""

from __future__ import annotations

import pandas as pd

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.chart_access import PALETTE, SUPPRESSED_PATTERN
from senacs_workbench.released.dashboard import charts
from senacs_workbench.released.dashboard.data import comparison_set, load_catalog


def _suppressed_points(figure) -> list[tuple[float | None, str]]:
    """(height, pattern) of every bar labelled ``s``."""
    found = []
    for trace in figure.data:
        if trace.type != "bar":
            continue
        shapes = trace.marker.pattern.shape
        for i, text in enumerate(trace.text):
            if text == "s":
                found.append((trace.y[i], shapes[i] if isinstance(shapes, tuple | list) else shapes))
    return found


def _mixed_figures(workspace: Workspace):
    """Figures of small territories with both published and suppressed bars."""
    catalog = load_catalog(workspace.published)
    breakdown = catalog.codebook(2024).question("type_structure")
    for code in ("40", "24", "01"):
        keys = comparison_set(("departement", code))
        for variable in ("budget_total", "salaries", "etp", "statut_locaux"):
            cells = catalog.cells(2024, variable, keys)
            question = catalog.question(variable, 2024)
            for figure in (charts.comparison_figure(cells, question, keys, 2024),
                           charts.breakdown_figure(cells, question, keys[0], "type_structure", breakdown, 2024)):
                texts = [t for trace in figure.data for t in trace.text]
                if "s" in texts and any(t not in ("s", "–") for t in texts):
                    yield figure


def test_a_suppressed_value_is_a_hatched_bar_never_a_zero_bar(released_workspace: Workspace) -> None:
    figures = list(_mixed_figures(released_workspace))
    assert figures, "small départements have suppressed cells beside published ones"
    for figure in figures:
        _check_suppressed(figure)


def _check_suppressed(figure) -> None:
    suppressed = _suppressed_points(figure)
    published = [y for trace in figure.data for y, t in zip(trace.y, trace.text) if t != "s" and y is not None]
    for height, pattern in suppressed:
        assert height is not None and height > 0 and height == max(published)
        assert pattern == SUPPRESSED_PATTERN
    footnote = " ".join(a.text for a in figure.layout.annotations)
    assert "barre hachurée" in footnote
    alt = charts.description(figure)
    assert alt.startswith("Graphique en barres : ") and "secret statistique" in alt
    assert ") : s" in alt
    for trace in figure.data:  # every published figure is in the text alternative
        for text in trace.text:
            if text not in ("s", "–"):
                assert text.replace("\xa0", " ").replace("\u202f", " ") in alt


def test_series_differ_by_pattern_and_colour_blind_palette(released_workspace: Workspace) -> None:
    catalog = load_catalog(released_workspace.published)
    keys = comparison_set(("departement", "33"))
    cells = catalog.cells(2024, "statut_locaux", keys)
    figure = charts.comparison_figure(cells, catalog.question("statut_locaux", 2024), keys, 2024)
    assert len(figure.data) >= 2
    patterns, colours = set(), set()
    for trace in figure.data:
        shapes = [s for s, t in zip(trace.marker.pattern.shape, trace.text) if t != "s"]
        fills = [c for c, t in zip(trace.marker.color, trace.text) if t != "s"]
        patterns |= set(shapes)
        colours |= set(fills)
        assert len(set(shapes)) <= 1 and len(set(fills)) <= 1
    assert len(patterns) == len(figure.data), "one pattern per series"
    assert colours <= set(PALETTE)
    assert "En bref : " in charts.description(figure)


def test_a_suppressed_point_of_a_trend_is_a_rule_not_a_zero(released_workspace: Workspace) -> None:
    question = load_catalog(released_workspace.published).question("budget_total", 2024)
    key = ("departement", "40")
    frame = charts.trend_frame([
        (2022, key, 1000.0, 4, "V", 1.0, "V"),
        (2023, key, None, 2, "S", 0.5, "V"),
        (2024, key, 1200.0, 4, "V", 1.0, "V"),
    ])
    figure = charts.trend_figure(frame, question, "mean", "")
    ys = [y for trace in figure.data for y in trace.y]
    assert 0 not in ys and 0.0 not in ys
    assert [s.x0 for s in figure.layout.shapes] == ["2023"]
    assert [a.text.split("<br>")[0] for a in figure.layout.annotations if a.xref == "x"] == ["s"]
    marker = figure.data[0].marker.symbol
    assert marker == "circle" and figure.data[0].line.dash == "solid"
    alt = charts.description(figure)
    assert "Graphique en courbes" in alt and "en hausse" in alt and "2023 : s" in alt


def test_the_text_alternative_reads_every_value_in_order() -> None:
    from senacs_workbench.released.chart_access import Point, Series, describe

    text = describe("Part des structures", [Series("Oui", (Point("A", "40 %", 0.4), Point("B", "s", None, True),
                                                            Point("C", "10 %", 0.1)))])
    assert text == ("Graphique en barres : Part des structures. En bref : Oui : valeur la plus élevée pour A (40 %), "
                    "la plus basse pour C (10 %). Valeurs : Oui — A : 40 %, B : s, C : 10 %. 1 valeur soumise au "
                    "secret statistique (s), non publiée.")
    assert pd.isna(float("nan"))
