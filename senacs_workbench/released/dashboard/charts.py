"""Plotly figures of released cells (plain ``go.Figure``: cheap to ship, no live widget state).

Every figure shows, for each territory or category, its n and its response rate; a
suppressed cell is drawn as an unfilled hatched bar labelled ``s`` (never a zero-height bar),
series differ by pattern or marker as well as colour (:mod:`~senacs_workbench.released.chart_access`),
and the figure carries its French text alternative in ``layout.meta`` (:func:`description`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from senacs_workbench.core.codebook import Question
from senacs_workbench.released.chart_access import (
    SUPPRESSED_LEGEND,
    SUPPRESSED_LINE_LEGEND,
    Point,
    Series,
    bar_heights,
    bar_marker,
    colour,
    describe,
    line_style,
    placeholder_height,
    suppressed_rules,
)
from senacs_workbench.released.dashboard.data import TerritoryKey, answers_of, ordered_codes, pick, territory_label
from senacs_workbench.released.dashboard.values import format_value, n_and_rate
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE

STATISTIC_TITLES = {"mean": "Moyenne", "median": "Médiane", "sum": "Total", "share": "Part"}
MAIN_STATISTIC = "mean"


FOOTNOTE = CONFIDENTIALITY_FOOTNOTE if len(CONFIDENTIALITY_FOOTNOTE) <= 120 else CONFIDENTIALITY_FOOTNOTE[:120] + "…"


def description(figure: go.Figure) -> str:
    """The French text alternative a figure of this module carries (message and figures)."""
    meta = figure.layout.meta
    return str(meta.get("description", "")) if isinstance(meta, dict) else ""


def _figure(traces: list[dict[str, Any]], title: str, subtitle: str, *, percent_axis: bool, alt: str,
            xaxis: dict[str, Any] | None = None, suppressed_note: str = "",
            shapes: list[dict[str, Any]] | None = None, marks: list[dict[str, Any]] | None = None) -> go.Figure:
    """One validation pass (layout built as a dict, no heavy template): cheap enough for live updates."""
    footnote = f"{suppressed_note}<br>{FOOTNOTE}" if suppressed_note else FOOTNOTE
    layout: dict[str, Any] = {
        "title": {"text": f"{title}<br><sup>{subtitle}</sup>", "x": 0.01, "xanchor": "left"},
        "template": "none",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "separators": ", ",
        "margin": {"l": 60, "r": 20, "t": 90, "b": 110},
        "height": 430,
        "legend": {"orientation": "h", "y": -0.28},
        "barmode": "group",
        "font": {"family": "DejaVu Sans, Arial, sans-serif"},
        "yaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af",
                  **({"tickformat": ".0%"} if percent_axis else {})},
        "xaxis": xaxis or {},
        "annotations": [{"text": footnote, "xref": "paper", "yref": "paper", "x": 0, "y": -0.42, "showarrow": False,
                         "font": {"size": 9, "color": "#57606a"}, "xanchor": "left", "align": "left"},
                        *(marks or [])],
        "shapes": shapes or [],
        "meta": {"description": alt},
    }
    return go.Figure(data=traces, layout=layout)


def _is_suppressed(status: str | None) -> bool:
    return bool(status) and status != "V"


def _bars(x: list[str], series: list[tuple[str, list[tuple[float | None, str]], list[str]]],
          hoverinfo: str) -> list[dict[str, Any]]:
    """Grouped bar traces; suppressed cells as hatched unfilled bars as tall as the tallest published one."""
    height = placeholder_height([v for _, shown, _ in series for v, s in shown if not _is_suppressed(s)])
    traces = []
    for i, (name, shown, texts) in enumerate(series):
        suppressed = [_is_suppressed(s) for _, s in shown]
        values = [v if s == "V" else None for v, s in shown]
        traces.append({"type": "bar", "x": x, "y": bar_heights(values, suppressed, height), "name": name,
                       "marker": bar_marker(i, suppressed), "text": texts, "textposition": "outside",
                       "cliponaxis": False, "hoverinfo": hoverinfo})
    return traces


def _alt(title: str, subtitle: str, categories: list[str],
         series: list[tuple[str, list[tuple[float | None, str]], list[str]]], kind: str = "bar") -> str:
    described = [
        Series(name, tuple(Point(c, t, v if s == "V" else None, _is_suppressed(s))
                           for c, (v, s), t in zip(categories, shown, texts)))
        for name, shown, texts in series
    ]
    return describe(title, described, kind=kind, context=subtitle)


def _any_suppressed(series: list[tuple[str, list[tuple[float | None, str]], list[str]]]) -> bool:
    return any(_is_suppressed(s) for _, shown, _ in series for _, s in shown)


def comparison_figure(cells: pd.DataFrame, question: Question, keys: list[TerritoryKey], year: int) -> go.Figure:
    """The territory against its région and the nation (whole territories)."""
    ticks, names = [], []
    for key in keys:
        rate, _, rate_status = pick(cells, key, "response_rate")
        respondents = pick(cells, key, "respondents")[1]
        names.append(f"{territory_label(key)} ({n_and_rate(respondents, rate, rate_status or 'V')})")
        ticks.append(f"{territory_label(key)}<br>{n_and_rate(respondents, rate, rate_status or 'V')}")
    series = []
    if question.type.is_numeric:
        statistic = MAIN_STATISTIC
        shown = [(v, s) for v, _, s in (pick(cells, k, statistic) for k in keys)]
        texts = [format_value(v, statistic, question, s) if s else "–" for v, s in shown]
        series.append((STATISTIC_TITLES[statistic], shown, texts))
        title = f"{STATISTIC_TITLES[statistic]} — {question.label}"
    else:
        for answer in answers_of(cells, question):
            shown = [(v, s) for v, _, s in (pick(cells, k, "share", answer=answer) for k in keys)]
            texts = [format_value(v, "share", question, s) if s else "–" for v, s in shown]
            series.append((question.category_label(answer), shown, texts))
        title = f"Répartition des réponses — {question.label}"
    others = ", ".join(territory_label(k) for k in keys[1:]) if len(keys) > 1 else "lui-même"
    subtitle = f"Campagne {year} · {territory_label(keys[0])} comparé à {others}"
    traces = _bars(ticks, series, "x+text" if question.type.is_numeric else "x+name+text")
    return _figure(traces, title, subtitle, percent_axis=not question.type.is_numeric,
                   alt=_alt(title, subtitle, names, series),
                   suppressed_note=SUPPRESSED_LEGEND if _any_suppressed(series) else "")


def breakdown_figure(cells: pd.DataFrame, question: Question, key: TerritoryKey, breakdown: str,
                     breakdown_question: Question, year: int) -> go.Figure:
    """One territory by the categories of a breakdown (type de structure, mode de gestion…)."""
    part = cells[(cells.level == key[0]) & (cells.territory == key[1]) & (cells.breakdown == breakdown)]
    categories = ordered_codes(part.category, breakdown_question.answer_codes)
    ticks, names = [], []
    for category in categories:
        _, n, _ = pick(cells, key, "respondents", breakdown=breakdown, category=category)
        rate, _, rate_status = pick(cells, key, "response_rate", breakdown=breakdown, category=category)
        label = breakdown_question.category_label(category)
        names.append(f"{label} ({n_and_rate(n, rate, rate_status or 'V')})")
        ticks.append(f"{label}<br>{n_and_rate(n, rate, rate_status or 'V')}")
    series = []
    if question.type.is_numeric:
        statistic = MAIN_STATISTIC
        shown = [(v, s) for v, _, s in (pick(cells, key, statistic, breakdown=breakdown, category=c)
                                        for c in categories)]
        texts = [format_value(v, statistic, question, s) if s else "–" for v, s in shown]
        series.append((STATISTIC_TITLES[statistic], shown, texts))
        title = f"{STATISTIC_TITLES[statistic]} par {breakdown_question.label.lower()}"
    else:
        for answer in answers_of(part, question):
            shown = [(v, s) for v, _, s in (pick(cells, key, "share", answer=answer, breakdown=breakdown, category=c)
                                            for c in categories)]
            texts = [format_value(v, "share", question, s) if s else "–" for v, s in shown]
            series.append((question.category_label(answer), shown, texts))
        title = f"Réponses par {breakdown_question.label.lower()}"
    subtitle = f"{question.label} · {territory_label(key)} · campagne {year}"
    traces = _bars(ticks, series, "x+text" if question.type.is_numeric else "x+name+text")
    return _figure(traces, title, subtitle, percent_axis=not question.type.is_numeric,
                   alt=_alt(title, subtitle, names, series),
                   suppressed_note=SUPPRESSED_LEGEND if _any_suppressed(series) else "")


TrendPoint = tuple[int, TerritoryKey, "float | None", "int | None", str, "float | None", str]
"""(year, territory, value, n, status, response rate, response-rate status)."""


def trend_frame(points: list[TrendPoint]) -> pd.DataFrame:
    return pd.DataFrame(points, columns=["year", "key", "value", "n", "status", "rate", "rate_status"])


def trend_figure(frame: pd.DataFrame, question: Question, statistic: str, answer: str) -> go.Figure:
    """One line per territory across released campaigns; labels give value, n and response rate."""
    traces: list[dict[str, Any]] = []
    described: list[Series] = []
    suppressed_points: list[tuple[object, str, str]] = []
    for i, (key, part) in enumerate(frame.groupby("key", sort=False)):
        part = part.sort_values("year")
        years = [str(y) for y in part.year]
        values = [format_value(v, statistic, question, s) if s else "–" for v, s in zip(part.value, part.status)]
        labels = [f"{value}<br>{n_and_rate(n, r, rs or 'V')}"
                  for value, n, r, rs in zip(values, part.n, part.rate, part.rate_status)]
        ys = [v if s == "V" else None for v, s in zip(part.value, part.status)]
        traces.append({
            "type": "scatter", "x": years, "y": ys, "mode": "lines+markers+text", "name": territory_label(key),
            **line_style(i), "text": labels, "textposition": "top center", "textfont": {"size": 9, "color": colour(i)},
            "connectgaps": False, "hoverinfo": "name+text",
        })
        suppressed_points += [(y, label, colour(i)) for y, label, s in zip(years, labels, part.status)
                              if _is_suppressed(s)]
        described.append(Series(territory_label(key), tuple(
            Point(y, f"{value} ({n_and_rate(n, r, rs or 'V')})", v, _is_suppressed(s))
            for y, value, v, s, n, r, rs in zip(years, values, ys, part.status, part.n, part.rate, part.rate_status))))
    what = f"Part « {question.category_label(answer)} »" if answer else STATISTIC_TITLES.get(statistic, statistic)
    subtitle = "Évolution sur les campagnes publiées (n et taux de réponse sous chaque valeur)"
    title = f"{what} — {question.label}"
    shapes, marks = suppressed_rules(suppressed_points)
    # every campaign keeps its place on the axis, even when all its values are suppressed
    years_shown = [str(y) for y in sorted(frame.year.unique())]
    return _figure(traces, title, subtitle, percent_axis=statistic == "share",
                   alt=describe(title, described, kind="line", context=subtitle),
                   xaxis={"type": "category", "title": {"text": "Campagne"}, "categoryorder": "array",
                          "categoryarray": years_shown, "range": [-0.5, len(years_shown) - 0.5]},
                   shapes=shapes, marks=marks,
                   suppressed_note=SUPPRESSED_LINE_LEGEND if suppressed_points else "")
