"""Static charts for print: plotly figures exported as SVG by one kaleido server for all images.

A chart plots only publishable figures (:attr:`Chart.plotted`): a suppressed cell is never
drawn, and its label is listed under the chart as ``s``. Value labels are formatted in
French here (axes carry no numbers), so that plotly's English number formats never show.
"""

from __future__ import annotations

import base64
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import plotly
import plotly.graph_objects as go

from senacs_workbench.released.plaquette.content import Chart

PRIMARY = "#0f5c6e"
ACCENT = "#e07a2f"
PALETTE = ("#0f5c6e", "#e07a2f", "#7a3e6c", "#5b9a3c", "#c9a227", "#3f7fbf", "#b24a4a", "#6b6b6b")
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
WIDTH_PX = {"full": 680, "half": 340}
FONT_PX = {"full": 14, "half": 12}


def _wrap(label: str, width: int = 28) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def figure(chart: Chart) -> tuple[go.Figure, int, int]:
    """The plotly figure of a chart and its size in px (publishable figures only)."""
    width, size = WIDTH_PX[chart.size], FONT_PX[chart.size]
    figs = chart.plotted
    values = [f.value or 0.0 for f in figs]
    texts = [f.text for f in figs]
    labels = [_wrap(f.label, 30 if chart.size == "full" else 22) for f in figs]
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": size, "color": "#1f2d30"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "separators": ", ",
    }
    if chart.kind == "donut":
        height = 300
        fig = go.Figure(go.Pie(labels=[f.label for f in figs], values=values, text=texts, hole=0.55, sort=False,
                               textinfo="text", textposition="outside", texttemplate="%{label}<br><b>%{text}</b>",
                               marker={"colors": list(PALETTE), "line": {"color": "#ffffff", "width": 2}},
                               direction="clockwise", rotation=0))
        fig.update_layout(margin={"l": 90, "r": 90, "t": 30, "b": 30}, **layout)
        return fig, width, height
    if chart.kind == "vbar":
        height = 240 if chart.size == "half" else 300
        fig = go.Figure(go.Bar(x=labels, y=values, text=texts, textposition="outside", cliponaxis=False,
                               marker={"color": [PALETTE[i % len(PALETTE)] for i in range(len(figs))]},
                               textfont={"size": size + 1, "color": "#1f2d30"}))
        fig.update_yaxes(visible=False, range=[0, max(values, default=1) * 1.2])
        fig.update_xaxes(showline=True, linecolor="#9aa7aa", tickfont={"size": size})
        fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 40}, bargap=0.35, **layout)
        return fig, width, height
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    bar_height = (30 if chart.size == "full" else 26) + 13 * (lines - 1)
    height = max(100, 20 + bar_height * len(figs))
    fig = go.Figure(go.Bar(y=labels[::-1], x=values[::-1], text=texts[::-1], orientation="h",
                           textposition="outside", cliponaxis=False, marker={"color": PRIMARY},
                           textfont={"size": size, "color": "#1f2d30"}))
    fig.update_xaxes(visible=False, range=[0, max(values, default=1) * (1.22 if chart.size == "full" else 1.35)])
    fig.update_yaxes(tickfont={"size": size}, ticksuffix=" ", automargin=True)
    fig.update_layout(margin={"l": 10, "r": 30, "t": 10, "b": 10}, bargap=0.3, **layout)
    return fig, width, height


class ChartRenderer:
    """Render charts to SVG with one kaleido server (started on enter, stopped on exit)."""

    def __init__(self) -> None:
        self._started = False

    def __enter__(self) -> ChartRenderer:
        import kaleido

        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kaleido.start_sync_server(plotlyjs=str(plotly_js), mathjax=False)
        # a server already running belongs to someone else (a notebook, an outer builder): leave it running
        self._started = not any("already open" in str(w.message) for w in caught)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        import kaleido

        if self._started:
            kaleido.stop_sync_server(silence_warnings=True)
            self._started = False

    def svg(self, chart: Chart) -> str | None:
        """The chart as an SVG document, or None when no figure of it is publishable."""
        import kaleido

        if not chart.plotted:
            return None
        fig, w, h = figure(chart)
        data = kaleido.calc_fig_sync(fig, opts={"format": "svg", "width": w, "height": h, "scale": 1})
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)

    def data_uri(self, chart: Chart) -> str | None:
        svg = self.svg(chart)
        if svg is None:
            return None
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
