"""Plotly charts and tables of a :class:`~senacs_workbench.released.analysis.common.Report`, and their display.

Every chart states its n (respondents) and response rate in its legend, and shows suppressed
cells as ``s``. Figures are displayed as a MIME bundle: the Plotly JSON (JupyterLab renders
it natively) and an HTML ``div`` *without* plotly.js. The campaign runner adds one shared
``plotly.min.js`` per output folder to the rendered pages, instead of ~3.5 MB per page.
``SENACS_CHARTS=embedded`` makes :func:`show` use plotly's ``notebook`` renderer instead,
which embeds plotly.js once in every page (the naive way to get working charts out of ``nbconvert``;
the benchmark's baseline uses it).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from senacs_workbench.core.formatting import format_number, format_percent
from senacs_workbench.released.analysis.common import FigureSpec, Report, format_value
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK

CHARTS_ENV = "SENACS_CHARTS"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "locale": "fr"}
COLOURS = ("#1f5fa8", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#e15759")
PERCENT_STATISTICS = ("share", "response_rate")


def _range(values: pd.Series, fmt: Callable[[Any], str]) -> str:
    clean = sorted({v for v in values if v is not None and not pd.isna(v)})
    if not clean:
        return SUPPRESSED_MARK if len(values) else "–"
    if len(clean) == 1:
        return fmt(clean[0])
    return f"{fmt(clean[0])} à {fmt(clean[-1])}"


def n_and_rate(rows: pd.DataFrame) -> str:
    """``n = 40 à 45, taux de réponse 85,0 %`` for the rows of one trace."""
    n = _range(rows["n"], lambda v: format_number(v))
    rate = _range(rows["response_rate"], lambda v: format_percent(v))
    return f"n = {n}, taux de réponse {rate}"


def _y(rows: pd.DataFrame) -> list[float]:
    out = []
    for value, statistic in zip(rows["value"], rows["statistic"]):
        if value is None or pd.isna(value):
            out.append(0.0)
        else:
            out.append(float(value) * 100 if statistic in PERCENT_STATISTICS else float(value))
    return out


def _hover(rows: pd.DataFrame) -> list[str]:
    return [
        f"{label}<br>{shown}<br>n = {'–' if pd.isna(n) else format_number(n)} ; taux de réponse {rate}"
        for label, shown, n, rate in zip(rows["label"], rows["shown"], rows["n"], rows["response_rate_shown"])
    ]


def _layout(fig: go.Figure, spec: FigureSpec, suppressed: bool) -> None:
    notes = [spec.note] if spec.note else []
    notes.append("n : structures répondantes à la question ; taux de réponse : répondants / structures interrogées.")
    if suppressed:
        notes.append(f"{SUPPRESSED_MARK} : valeur soumise au secret statistique.")
    fig.update_layout(
        title={"text": spec.title, "subtitle": {"text": html.escape(" ".join(notes))}},
        yaxis_title=spec.y_title,
        separators=", ",
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12},
        margin={"t": 90, "b": 40},
        height=560,
    )


def bar_chart(spec: FigureSpec, group: str = "territory_name") -> go.Figure:
    """Grouped bars: one bar group per indicator (or category), one colour per territory."""
    frame = spec.data
    fig = go.Figure()
    for index, (name, rows) in enumerate(frame.groupby(group, sort=False)):
        fig.add_bar(
            name=f"{name} — {n_and_rate(rows)}",
            x=rows["label"].tolist(),
            y=_y(rows),
            text=rows["shown"].tolist(),
            textposition="outside",
            hovertext=_hover(rows),
            hoverinfo="text",
            marker_color=COLOURS[index % len(COLOURS)],
        )
    fig.update_layout(barmode="group")
    _layout(fig, spec, bool((frame["shown"] == SUPPRESSED_MARK).any()))
    return fig


def line_chart(spec: FigureSpec) -> go.Figure:
    """Years on x; one line per (indicator, territory); suppressed points drawn as ``s`` on the axis."""
    frame = spec.data
    fig = go.Figure()
    for index, ((label, name), rows) in enumerate(frame.groupby(["label", "territory_name"], sort=False)):
        rows = rows.sort_values("year")
        values = [None if pd.isna(v) else (v * 100 if s in PERCENT_STATISTICS else v)
                  for v, s in zip(rows["value"], rows["statistic"])]
        colour = COLOURS[index % len(COLOURS)]
        fig.add_scatter(
            name=f"{label} — {name} — {n_and_rate(rows)}",
            x=rows["year"].tolist(), y=values, mode="lines+markers+text", text=rows["shown"].tolist(),
            textposition="top center", hovertext=_hover(rows), hoverinfo="text", line_color=colour,
        )
        hidden = rows[rows["shown"] == SUPPRESSED_MARK]
        if len(hidden):
            fig.add_scatter(x=hidden["year"].tolist(), y=[0.0] * len(hidden), mode="text",
                            text=[SUPPRESSED_MARK] * len(hidden), showlegend=False, hoverinfo="skip",
                            textfont_color=colour)
    fig.update_xaxes(dtick=1)
    _layout(fig, spec, bool((frame["shown"] == SUPPRESSED_MARK).any()))
    return fig


def figure(spec: FigureSpec) -> go.Figure:
    if spec.kind == "line":
        return line_chart(spec)
    if spec.kind == "bar_breakdown":
        return bar_chart(spec, group="category_label")
    return bar_chart(spec)


def table_html(spec: FigureSpec) -> str:
    """A table of the released cells (``s`` where suppressed), with n and response rate per row."""
    frame = spec.data
    if spec.table is not None:
        shown = spec.table
    else:
        shown = frame.assign(
            n=[("–" if pd.isna(v) else format_number(v)) for v in frame["n"]],
        )[["label", "territory_name", "shown", "n", "response_rate_shown"]].rename(columns={
            "label": "Indicateur", "territory_name": "Territoire", "shown": "Valeur",
            "n": "n (répondants)", "response_rate_shown": "Taux de réponse",
        })
    body = shown.to_html(index=False, escape=True, border=0, classes="senacs-table")
    note = f"<p><em>{html.escape(spec.note)}</em></p>" if spec.note else ""
    footnote = (f"<p><small>{html.escape(CONFIDENTIALITY_FOOTNOTE)}</small></p>"
                if "shown" in frame and (frame["shown"] == SUPPRESSED_MARK).any() else "")
    return f"<h4>{html.escape(spec.title)}</h4>{body}{note}{footnote}"


def mimebundle(fig: go.Figure) -> dict[str, Any]:
    """Plotly JSON for JupyterLab + an HTML div that needs a page-level plotly.js (not embedded)."""
    return {
        "application/vnd.plotly.v1+json": fig.to_plotly_json() | {"config": PLOTLY_CONFIG},
        "text/html": fig.to_html(include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG),
    }


def show(fig: go.Figure) -> None:
    from IPython.display import display

    if os.environ.get(CHARTS_ENV) == "embedded":
        import plotly.io as pio

        if pio.renderers.default != "notebook":
            pio.renderers.default = "notebook"  # activates once: plotly.js embedded once per page
        fig.show(config=PLOTLY_CONFIG)
        return
    display(mimebundle(fig), raw=True)


def show_report(report: Report) -> None:
    """Display a report in the notebook: French headings and prose, charts, tables."""
    from IPython.display import HTML, Markdown, display

    display(Markdown(f"# {report.title}\n\n{report.intro}"))
    for section in report.sections:
        display(Markdown(f"## {section.title}\n\n{section.text}"))
        for spec in section.figures:
            if spec.kind == "table":
                display(HTML(table_html(spec)))
            else:
                show(figure(spec))
    if report.has_suppressed:
        display(Markdown(f"*{CONFIDENTIALITY_FOOTNOTE}*"))


__all__ = ["bar_chart", "figure", "format_value", "line_chart", "mimebundle", "show", "show_report", "table_html"]
