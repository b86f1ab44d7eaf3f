"""Plotly charts and tables of a :class:`~senacs_workbench.released.analysis.common.Report`, and their display.

Every chart states its n (respondents) and response rate in its legend, and shows suppressed
cells as ``s``: an unfilled hatched bar (never a zero-height bar) or a dotted rule on a line chart.
Series differ by pattern or marker and dash as well as colour, and every chart carries its French
text alternative (``layout.meta``), shown under it in the reports with a table caption per table
(:mod:`~senacs_workbench.released.chart_access`).

Figures are displayed as a MIME bundle: the Plotly JSON (JupyterLab renders it natively) and
an HTML ``div`` *without* plotly.js, in a ``figure`` with its text alternative. The campaign
runner adds one shared ``plotly.min.js`` per output folder to the rendered pages, instead of ~3.5 MB per page.
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
from senacs_workbench.released.chart_access import (
    SUPPRESSED_LEGEND,
    SUPPRESSED_LINE_LEGEND,
    Point,
    Series,
    bar_heights,
    bar_marker,
    describe,
    line_style,
    placeholder_height,
    suppressed_rules,
)
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK

CHARTS_ENV = "SENACS_CHARTS"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "locale": "fr"}
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


def _y(rows: pd.DataFrame) -> list[float | None]:
    """Published values (percent statistics in %); None where nothing is published."""
    out: list[float | None] = []
    for value, statistic in zip(rows["value"], rows["statistic"]):
        if value is None or pd.isna(value):
            out.append(None)
        else:
            out.append(float(value) * 100 if statistic in PERCENT_STATISTICS else float(value))
    return out


def _suppressed(rows: pd.DataFrame) -> list[bool]:
    return [shown == SUPPRESSED_MARK for shown in rows["shown"]]


def description(fig: go.Figure) -> str:
    """The French text alternative a chart of this module carries (message and figures)."""
    meta = fig.layout.meta
    return str(meta.get("description", "")) if isinstance(meta, dict) else ""


def _series(name: str, categories: list[Any], rows: pd.DataFrame) -> Series:
    return Series(name, tuple(Point(str(c), str(t), v, s)
                              for c, t, v, s in zip(categories, rows["shown"], _y(rows), _suppressed(rows))))


def _hover(rows: pd.DataFrame) -> list[str]:
    return [
        f"{label}<br>{shown}<br>n = {'–' if pd.isna(n) else format_number(n)} ; taux de réponse {rate}"
        for label, shown, n, rate in zip(rows["label"], rows["shown"], rows["n"], rows["response_rate_shown"])
    ]


def _layout(fig: go.Figure, spec: FigureSpec, suppressed: bool, alt: str, *, line: bool = False) -> None:
    notes = [spec.note] if spec.note else []
    notes.append("n : structures répondantes à la question ; taux de réponse : répondants / structures interrogées.")
    if suppressed:
        notes.append(SUPPRESSED_LINE_LEGEND if line else SUPPRESSED_LEGEND)
    fig.update_layout(
        meta={"description": alt},
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
    height = placeholder_height([v for v, s in zip(_y(frame), _suppressed(frame)) if not s])
    described = []
    for index, (name, rows) in enumerate(frame.groupby(group, sort=False)):
        suppressed = _suppressed(rows)
        fig.add_bar(
            name=f"{name} — {n_and_rate(rows)}",
            x=rows["label"].tolist(),
            y=bar_heights(_y(rows), suppressed, height),
            text=rows["shown"].tolist(),
            textposition="outside",
            hovertext=_hover(rows),
            hoverinfo="text",
            marker=bar_marker(index, suppressed),
        )
        described.append(_series(f"{name} ({n_and_rate(rows)})", rows["label"].tolist(), rows))
    fig.update_layout(barmode="group")
    _layout(fig, spec, any(_suppressed(frame)), describe(spec.title, described, context=spec.y_title))
    return fig


def line_chart(spec: FigureSpec) -> go.Figure:
    """Years on x; one line per (indicator, territory); suppressed points drawn as ``s`` on the axis."""
    frame = spec.data
    fig = go.Figure()
    described: list[Series] = []
    hidden_years: list[tuple[object, str, str]] = []
    for index, ((label, name), rows) in enumerate(frame.groupby(["label", "territory_name"], sort=False)):
        rows = rows.sort_values("year")
        fig.add_scatter(
            name=f"{label} — {name} — {n_and_rate(rows)}",
            x=rows["year"].tolist(), y=_y(rows), mode="lines+markers+text", text=rows["shown"].tolist(),
            textposition="top center", hovertext=_hover(rows), hoverinfo="text", **line_style(index),
        )
        hidden = rows[rows["shown"] == SUPPRESSED_MARK]
        hidden_years += [(year, SUPPRESSED_MARK, line_style(index)["line"]["color"]) for year in hidden["year"]]
        described.append(_series(f"{label} — {name} ({n_and_rate(rows)})", rows["year"].tolist(), rows))
    shapes, marks = suppressed_rules(hidden_years)
    fig.update_layout(shapes=shapes, annotations=marks)
    fig.update_xaxes(dtick=1)
    _layout(fig, spec, bool(hidden_years), describe(spec.title, described, kind="line", context=spec.y_title),
            line=True)
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
    body = body.replace(">\n  <thead>", f">\n  <caption>{html.escape(spec.title)}</caption>\n  <thead>", 1)
    body = body.replace("<th>", '<th scope="col">')
    note = f"<p><em>{html.escape(spec.note)}</em></p>" if spec.note else ""
    footnote = (f"<p><small>{html.escape(CONFIDENTIALITY_FOOTNOTE)}</small></p>"
                if "shown" in frame and (frame["shown"] == SUPPRESSED_MARK).any() else "")
    return f"<h4>{html.escape(spec.title)}</h4>{body}{note}{footnote}"


def alternative_html(fig: go.Figure) -> str:
    """The chart's text alternative, one action away under the chart (a disclosure widget)."""
    return (f'<details class="senacs-chart-alt"><summary>Description textuelle du graphique</summary>'
            f"<p>{html.escape(description(fig))}</p></details>")


def _title(fig: go.Figure) -> str:
    return str(fig.layout.title.text or "Graphique")


def mimebundle(fig: go.Figure) -> dict[str, Any]:
    """Plotly JSON for JupyterLab + an HTML div that needs a page-level plotly.js (not embedded)."""
    return {
        "application/vnd.plotly.v1+json": fig.to_plotly_json() | {"config": PLOTLY_CONFIG},
        "text/html": (f'<figure class="senacs-figure" role="group" aria-label="{html.escape(_title(fig))}">'
                      f"{fig.to_html(include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG)}"
                      f"<figcaption>{alternative_html(fig)}</figcaption></figure>"),
    }


def show(fig: go.Figure) -> None:
    from IPython.display import HTML, display

    if os.environ.get(CHARTS_ENV) == "embedded":
        import plotly.io as pio

        if pio.renderers.default != "notebook":
            pio.renderers.default = "notebook"  # activates once: plotly.js embedded once per page
        fig.show(config=PLOTLY_CONFIG)
        display(HTML(alternative_html(fig)))
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


__all__ = ["alternative_html", "bar_chart", "description", "figure", "format_value", "line_chart", "mimebundle",
           "show", "show_report", "table_html"]
