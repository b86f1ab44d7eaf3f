"""Accessible charts: a colour-blind-safe palette, patterns and markers, suppressed marks, text alternatives.

Shared by the dashboards, the campaign reports and the plaquette (RGAA / WCAG 2.1 AA):

- series are told apart by more than colour: each has a fill pattern (bars) or a marker and a
  dash (lines), and the Okabe–Ito palette stays distinct for colour-blind readers and in grey;
  every mark has a dark outline (non-text contrast ≥ 3:1 against white);
- a suppressed value is drawn as *visibly absent*: an unfilled, cross-hatched bar labelled ``s``
  reaching the height of the tallest published bar (never a zero-height bar that reads as zero),
  or a dotted vertical rule labelled ``s`` on a line chart;
- every chart has a French text alternative stating its message and its figures
  (:func:`describe`), generated from the same data as the marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from senacs_workbench.released.published import SUPPRESSED_MARK

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
"""Okabe–Ito: distinguishable with the common colour-vision deficiencies."""
OUTLINE = "#1f2937"
"""Outline of every bar: ≥ 3:1 against white whatever the fill (WCAG 1.4.11)."""
PATTERNS = ("", ".", "/", "-", "|", "+")
"""Fill pattern of the n-th bar series (the first one plain)."""
SUPPRESSED_PATTERN = "x"
SUPPRESSED_COLOUR = "#57606a"
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "star")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SUPPRESSED_LEGEND = (f"{SUPPRESSED_MARK} (barre hachurée vide) : valeur soumise au secret statistique, "
                     "non publiée ; sa hauteur ne représente aucune valeur.")
SUPPRESSED_LINE_LEGEND = (f"{SUPPRESSED_MARK} (trait pointillé vertical) : valeur soumise au secret statistique, "
                          "non publiée.")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def placeholder_height(values: Sequence[float | None], default: float = 1.0) -> float:
    """Height of a suppressed bar: the tallest published bar (``default`` when none is published)."""
    shown = [v for v in values if v is not None and v > 0]
    return max(shown) if shown else default


def bar_marker(index: int, suppressed: Sequence[bool]) -> dict[str, Any]:
    """The marker of the ``index``-th bar series: its colour and pattern, hatched and unfilled where suppressed."""
    fill = colour(index)
    pattern = PATTERNS[index % len(PATTERNS)]
    return {
        "color": ["white" if s else fill for s in suppressed],
        "line": {"color": [SUPPRESSED_COLOUR if s else OUTLINE for s in suppressed], "width": 1},
        "pattern": {
            "shape": [SUPPRESSED_PATTERN if s else pattern for s in suppressed],
            "fgcolor": [SUPPRESSED_COLOUR if s else "white" for s in suppressed],
            "bgcolor": ["white" if s else fill for s in suppressed],
            "fillmode": "replace",
            "solidity": 0.3,
        },
    }


def bar_heights(values: Sequence[float | None], suppressed: Sequence[bool], height: float) -> list[float | None]:
    """Bar heights: published values, ``height`` for suppressed ones, no bar (None) where nothing is released."""
    return [height if s else v for v, s in zip(values, suppressed)]


def line_style(index: int) -> dict[str, Any]:
    """Colour, dash and marker of the ``index``-th line series."""
    return {
        "line": {"color": colour(index), "dash": DASHES[index % len(DASHES)], "width": 2},
        "marker": {"symbol": MARKERS[index % len(MARKERS)], "size": 9, "color": colour(index),
                   "line": {"color": OUTLINE, "width": 1}},
    }


def suppressed_rules(points: Sequence[tuple[object, str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Layout shapes and annotations marking suppressed points of a line chart.

    ``points``: (x position, label starting with ``s``, colour of its series). One dotted rule per
    x, and the labels stacked from the top of the plot (never placed at a value, least of all 0).
    """
    shapes, annotations = [], []
    stacked: dict[object, int] = {}
    for x, label, tint in points:
        if x not in stacked:
            stacked[x] = 0
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                           "line": {"color": SUPPRESSED_COLOUR, "dash": "dot", "width": 2}})
        annotations.append({"xref": "x", "yref": "paper", "x": x, "y": 1.0 - 0.09 * stacked[x], "text": label,
                            "showarrow": False, "yanchor": "top", "bgcolor": "white",
                            "font": {"color": tint, "size": 10}})
        stacked[x] += 1
    return shapes, annotations


@dataclass(frozen=True)
class Point:
    """One mark of a chart: its category (or year), its French text, its value (None if not published)."""

    category: str
    text: str
    value: float | None = None
    suppressed: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]


def _plain(text: str) -> str:
    return " ".join(text.replace("<br>", " ").replace("\xa0", " ").replace("\u202f", " ").split())


def _message(series: Series, kind: str) -> str:
    shown = [(p, p.value) for p in series.points if p.value is not None and not p.suppressed]
    if len(shown) < 2:
        return ""
    if kind == "line":
        (first, start), (last, end) = shown[0], shown[-1]
        trend = "en hausse" if end > start else "en baisse" if end < start else "stable"
        return (f"{_plain(series.name)} : {trend}, de {_plain(first.text)} ({_plain(first.category)}) "
                f"à {_plain(last.text)} ({_plain(last.category)})")
    top = max(shown, key=lambda pair: pair[1])[0]
    low = min(shown, key=lambda pair: pair[1])[0]
    name = f"{_plain(series.name)} : " if series.name else ""
    return (f"{name}valeur la plus élevée pour {_plain(top.category)} ({_plain(top.text)}), "
            f"la plus basse pour {_plain(low.category)} ({_plain(low.text)})")


def describe(title: str, series: Sequence[Series], *, kind: str = "bar", context: str = "") -> str:
    """The French text alternative of a chart: what it shows, its message, then every figure (``s`` explained)."""
    what = {"bar": "Graphique en barres", "line": "Graphique en courbes", "donut": "Graphique en anneau"}[kind]
    parts = [f"{what} : {_plain(title)}."]
    if context:
        parts.append(f"{_plain(context)}.")
    messages = [m for m in (_message(s, kind) for s in series) if m]
    if messages:
        parts.append("En bref : " + " ; ".join(messages) + ".")
    figures = []
    for s in series:
        values = ", ".join(f"{_plain(p.category)} : {_plain(p.text)}" for p in s.points)
        figures.append(f"{_plain(s.name)} — {values}" if s.name else values)
    if figures:
        parts.append("Valeurs : " + " ; ".join(figures) + ".")
    suppressed = sum(p.suppressed for s in series for p in s.points)
    if suppressed:
        plural = "s" if suppressed > 1 else ""
        parts.append(f"{suppressed} valeur{plural} soumise{plural} au secret statistique ({SUPPRESSED_MARK}), "
                     f"non publiée{plural}.")
    return " ".join(parts)


__all__ = ["PALETTE", "Point", "Series", "bar_heights", "bar_marker", "describe", "line_style",
           "placeholder_height", "suppressed_rules"]
