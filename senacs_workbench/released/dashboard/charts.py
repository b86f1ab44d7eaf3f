"""Plotly figures of released cells (plain ``go.Figure``: cheap to ship, no live widget state).

Every figure shows, for each territory or category, its n and its response rate; a
suppressed cell is drawn as an empty bar labelled ``s``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from senacs_workbench.core.codebook import Question
from senacs_workbench.released.dashboard.data import TerritoryKey, answers_of, ordered_codes, pick, territory_label
from senacs_workbench.released.dashboard.values import format_value, n_and_rate
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK

COLOURS = ("#1f5fa8", "#e07b00", "#5b8c32", "#9c3d91", "#c23b22", "#3c9ca8")
STATISTIC_TITLES = {"mean": "Moyenne", "median": "Médiane", "sum": "Total", "share": "Part"}
MAIN_STATISTIC = "mean"


FOOTNOTE = CONFIDENTIALITY_FOOTNOTE if len(CONFIDENTIALITY_FOOTNOTE) <= 120 else CONFIDENTIALITY_FOOTNOTE[:120] + "…"


def _figure(traces: list[dict[str, Any]], title: str, subtitle: str, *, percent_axis: bool,
            xaxis: dict[str, Any] | None = None) -> go.Figure:
    """One validation pass (layout built as a dict, no heavy template): cheap enough for live updates."""
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
        "annotations": [{"text": FOOTNOTE, "xref": "paper", "yref": "paper", "x": 0, "y": -0.42, "showarrow": False,
                         "font": {"size": 9, "color": "#57606a"}, "xanchor": "left"}],
    }
    return go.Figure(data=traces, layout=layout)


def _bar_values(values: list[tuple[float | None, str]]) -> list[float]:
    return [0.0 if v is None or s != "V" else v for v, s in values]


def _bar(x: list[str], shown: list[tuple[float | None, str]], texts: list[str], name: str, colour: str,
         hoverinfo: str) -> dict[str, Any]:
    return {"type": "bar", "x": x, "y": _bar_values(shown), "name": name, "marker": {"color": colour},
            "text": texts, "textposition": "outside", "cliponaxis": False, "hoverinfo": hoverinfo}


def comparison_figure(cells: pd.DataFrame, question: Question, keys: list[TerritoryKey], year: int) -> go.Figure:
    """The territory against its région and the nation (whole territories)."""
    ticks = []
    for key in keys:
        rate, _, rate_status = pick(cells, key, "response_rate")
        respondents = pick(cells, key, "respondents")[1]
        ticks.append(f"{territory_label(key)}<br>{n_and_rate(respondents, rate, rate_status or 'V')}")
    traces = []
    if question.type.is_numeric:
        statistic = MAIN_STATISTIC
        shown = [(v, s) for v, _, s in (pick(cells, k, statistic) for k in keys)]
        texts = [format_value(v, statistic, question, s) if s else "–" for v, s in shown]
        traces.append(_bar(ticks, shown, texts, STATISTIC_TITLES[statistic], COLOURS[0], "x+text"))
        title = f"{STATISTIC_TITLES[statistic]} — {question.label}"
    else:
        for i, answer in enumerate(answers_of(cells, question)):
            shown = [(v, s) for v, _, s in (pick(cells, k, "share", answer=answer) for k in keys)]
            texts = [format_value(v, "share", question, s) if s else "–" for v, s in shown]
            traces.append(_bar(ticks, shown, texts, question.category_label(answer), COLOURS[i % len(COLOURS)],
                               "x+name+text"))
        title = f"Répartition des réponses — {question.label}"
    others = ", ".join(territory_label(k) for k in keys[1:]) if len(keys) > 1 else "lui-même"
    subtitle = f"Campagne {year} · {territory_label(keys[0])} comparé à {others}"
    return _figure(traces, title, subtitle, percent_axis=not question.type.is_numeric)


def breakdown_figure(cells: pd.DataFrame, question: Question, key: TerritoryKey, breakdown: str,
                     breakdown_question: Question, year: int) -> go.Figure:
    """One territory by the categories of a breakdown (type de structure, mode de gestion…)."""
    part = cells[(cells.level == key[0]) & (cells.territory == key[1]) & (cells.breakdown == breakdown)]
    categories = ordered_codes(part.category, breakdown_question.answer_codes)
    ticks = []
    for category in categories:
        _, n, _ = pick(cells, key, "respondents", breakdown=breakdown, category=category)
        rate, _, rate_status = pick(cells, key, "response_rate", breakdown=breakdown, category=category)
        ticks.append(f"{breakdown_question.category_label(category)}<br>{n_and_rate(n, rate, rate_status or 'V')}")
    traces = []
    if question.type.is_numeric:
        statistic = MAIN_STATISTIC
        shown = [(v, s) for v, _, s in (pick(cells, key, statistic, breakdown=breakdown, category=c)
                                        for c in categories)]
        texts = [format_value(v, statistic, question, s) if s else "–" for v, s in shown]
        traces.append(_bar(ticks, shown, texts, STATISTIC_TITLES[statistic], COLOURS[2], "x+text"))
        title = f"{STATISTIC_TITLES[statistic]} par {breakdown_question.label.lower()}"
    else:
        for i, answer in enumerate(answers_of(part, question)):
            shown = [(v, s) for v, _, s in (pick(cells, key, "share", answer=answer, breakdown=breakdown, category=c)
                                            for c in categories)]
            texts = [format_value(v, "share", question, s) if s else "–" for v, s in shown]
            traces.append(_bar(ticks, shown, texts, question.category_label(answer), COLOURS[i % len(COLOURS)],
                               "x+name+text"))
        title = f"Réponses par {breakdown_question.label.lower()}"
    subtitle = f"{question.label} · {territory_label(key)} · campagne {year}"
    return _figure(traces, title, subtitle, percent_axis=not question.type.is_numeric)


TrendPoint = tuple[int, TerritoryKey, "float | None", "int | None", str, "float | None", str]
"""(year, territory, value, n, status, response rate, response-rate status)."""


def trend_frame(points: list[TrendPoint]) -> pd.DataFrame:
    return pd.DataFrame(points, columns=["year", "key", "value", "n", "status", "rate", "rate_status"])


def trend_figure(frame: pd.DataFrame, question: Question, statistic: str, answer: str) -> go.Figure:
    """One line per territory across released campaigns; labels give value, n and response rate."""
    traces: list[dict[str, Any]] = []
    for i, (key, part) in enumerate(frame.groupby("key", sort=False)):
        part = part.sort_values("year")
        colour = COLOURS[i % len(COLOURS)]
        years = [str(y) for y in part.year]
        labels = [
            f"{format_value(v, statistic, question, s) if s else '–'}<br>{n_and_rate(n, r, rs or 'V')}"
            for v, n, s, r, rs in zip(part.value, part.n, part.status, part.rate, part.rate_status)
        ]
        traces.append({
            "type": "scatter", "x": years, "y": [v if s == "V" else None for v, s in zip(part.value, part.status)],
            "mode": "lines+markers+text", "name": territory_label(key), "line": {"color": colour}, "text": labels,
            "textposition": "top center", "textfont": {"size": 9}, "connectgaps": False, "hoverinfo": "name+text",
        })
        suppressed = [y for y, s in zip(years, part.status) if s and s != "V"]
        if suppressed:
            traces.append({"type": "scatter", "x": suppressed, "y": [0] * len(suppressed), "mode": "text",
                           "text": [SUPPRESSED_MARK] * len(suppressed), "showlegend": False, "hoverinfo": "skip",
                           "textfont": {"color": colour}})
    what = f"Part « {question.category_label(answer)} »" if answer else STATISTIC_TITLES.get(statistic, statistic)
    subtitle = "Évolution sur les campagnes publiées (n et taux de réponse sous chaque valeur)"
    return _figure(traces, f"{what} — {question.label}", subtitle, percent_axis=statistic == "share",
                   xaxis={"type": "category", "title": {"text": "Campagne"}})
