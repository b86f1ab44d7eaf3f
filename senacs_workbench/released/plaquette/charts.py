"""Static charts for print: plotly figures exported as SVG by one kaleido server for all images.

A chart plots publishable figures (:attr:`Chart.plotted`); a suppressed cell has no value to
draw: a bar chart shows it as an unfilled hatched bar labelled ``s`` (as long as the longest
published bar, never a zero bar), a donut leaves it out, and its label is listed under the chart
as ``s``. Each chart's text alternative is :func:`describe_chart`. Value labels are formatted in
French here (axes carry no numbers), so that plotly's English number formats never show.

The renderer is a headless chromium tab that loads plotly.js and kaleido's script. On a loaded
machine the tab is sometimes handed out before its script has run (``ReferenceError:
kaleido_scopes is not defined``) or the browser dies while starting: a renderer that is not
ready is restarted and the chart rendered again (:data:`RENDER_ATTEMPTS` times, with a growing
pause), so that a slow machine costs time, never a failed plaquette. Errors of the figure
itself are not retried.
"""

from __future__ import annotations

import base64
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import plotly
import plotly.graph_objects as go

from senacs_workbench.released.chart_access import (
    SUPPRESSED_COLOUR,
    SUPPRESSED_PATTERN,
    Point,
    Series,
    describe,
    placeholder_height,
)
from senacs_workbench.released.plaquette.content import Chart

PRIMARY = "#0f5c6e"
ACCENT = "#e07a2f"
PALETTE = ("#0f5c6e", "#e07a2f", "#7a3e6c", "#5b9a3c", "#c9a227", "#3f7fbf", "#b24a4a", "#6b6b6b")
FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
WIDTH_PX = {"full": 680, "half": 340}
RENDER_ATTEMPTS = 4
"""How many times a chart is rendered before a renderer that is not ready counts as a failure."""
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


def _marker(colours: list[str], hidden: list[bool]) -> dict[str, Any]:
    """Bar colours; a suppressed figure's bar unfilled and cross-hatched in grey, with a grey outline."""
    return {
        "color": ["white" if h else c for c, h in zip(colours, hidden)],
        "line": {"color": [SUPPRESSED_COLOUR if h else c for c, h in zip(colours, hidden)], "width": 1},
        "pattern": {"shape": [SUPPRESSED_PATTERN if h else "" for h in hidden], "fgcolor": SUPPRESSED_COLOUR,
                    "bgcolor": "white", "solidity": 0.3},
    }


def figure(chart: Chart) -> tuple[go.Figure, int, int]:
    """The plotly figure of a chart and its size in px (publishable figures only)."""
    width, size = WIDTH_PX[chart.size], FONT_PX[chart.size]
    figs = chart.plotted if chart.kind == "donut" else chart.plotted + chart.left_out
    hidden = [f.suppressed for f in figs]
    longest = placeholder_height([f.value for f in chart.plotted])
    values = [longest if s else f.value or 0.0 for f, s in zip(figs, hidden)]
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
                               marker=_marker([PALETTE[i % len(PALETTE)] for i in range(len(figs))], hidden),
                               textfont={"size": size + 1, "color": "#1f2d30"}))
        fig.update_yaxes(visible=False, range=[0, max(values, default=1) * 1.2])
        fig.update_xaxes(showline=True, linecolor="#9aa7aa", tickfont={"size": size})
        fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 40}, bargap=0.35, **layout)
        return fig, width, height
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    bar_height = (30 if chart.size == "full" else 26) + 13 * (lines - 1)
    height = max(100, 20 + bar_height * len(figs))
    fig = go.Figure(go.Bar(y=labels[::-1], x=values[::-1], text=texts[::-1], orientation="h",
                           textposition="outside", cliponaxis=False,
                           marker=_marker([PRIMARY] * len(figs), hidden[::-1]),
                           textfont={"size": size, "color": "#1f2d30"}))
    fig.update_xaxes(visible=False, range=[0, max(values, default=1) * (1.22 if chart.size == "full" else 1.35)])
    fig.update_yaxes(tickfont={"size": size}, ticksuffix=" ", automargin=True)
    fig.update_layout(margin={"l": 10, "r": 30, "t": 10, "b": 10}, bargap=0.3, **layout)
    return fig, width, height


def describe_chart(chart: Chart) -> str:
    """The chart's French text alternative (its ``alt`` in the HTML and the PDF): message and every figure.

    Figures are listed in the order drawn, then the suppressed ones (``s``), so that a reader
    of the text alternative gets what a sighted reader gets from the bars and the list under them.
    """
    shown = list(chart.plotted) + list(chart.left_out)
    points = tuple(Point(f.label, f.text, f.value, f.suppressed) for f in shown)
    kind = "donut" if chart.kind == "donut" else "bar"
    context = f"{chart.n_text} structures répondantes" if chart.n_text else ""
    return describe(chart.title, [Series("", points)], kind=kind, context=context)


def renderer_not_ready(exc: BaseException) -> bool:
    """True when ``exc`` says the kaleido tab or its browser was not ready (worth a restart)."""
    from kaleido.errors import BrowserClosedError, BrowserFailedError, JavascriptError

    if isinstance(exc, (BrowserClosedError, BrowserFailedError)):
        return True
    return isinstance(exc, JavascriptError) and "kaleido_scopes is not defined" in str(exc)


class ChartRenderer:
    """Render charts to SVG with one kaleido server (started on enter, stopped on exit)."""

    def __init__(self, attempts: int = RENDER_ATTEMPTS, pause_s: float = 1.0) -> None:
        self._started = False
        self._attempts = attempts
        self._pause_s = pause_s
        self.restarts = 0
        """How many times a renderer that was not ready has been restarted."""

    def __enter__(self) -> ChartRenderer:
        for attempt in range(1, self._attempts + 1):
            try:
                self._started = self._start()
                return self
            except Exception as exc:
                if attempt == self._attempts or not renderer_not_ready(exc):
                    raise
                time.sleep(self._pause_s * attempt)
        return self

    @staticmethod
    def _start() -> bool:
        """Start the kaleido server; False when one was already running (someone else's)."""
        import kaleido

        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kaleido.start_sync_server(plotlyjs=str(plotly_js), mathjax=False)
        # a server already running belongs to someone else (a notebook, an outer builder): leave it running
        return not any("already open" in str(w.message) for w in caught)

    def _restart(self) -> None:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
        started = self._start()
        self._started = self._started or started
        self.restarts += 1

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
        opts = {"format": "svg", "width": w, "height": h, "scale": 1}
        for attempt in range(1, self._attempts + 1):
            try:
                data = kaleido.calc_fig_sync(fig, opts=opts)
                break
            except Exception as exc:
                if attempt == self._attempts or not renderer_not_ready(exc):
                    raise
                time.sleep(self._pause_s * attempt)
                self._restart()
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)

    def data_uri(self, chart: Chart) -> str | None:
        svg = self.svg(chart)
        if svg is None:
            return None
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
