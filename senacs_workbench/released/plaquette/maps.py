"""The map of départements, offline, from the SVG packaged by ``pygal_maps_fr`` (LGPL).

``fr.departments.svg`` has one ``<g class="z<code> departement">`` per département (``2A``,
``2B``, ``971``…``976``), a Paris-and-inner-ring inset (``75``, ``92``–``94`` again) and an
overseas inset (``971``–``976``; ``975`` is Saint-Pierre-et-Miquelon, not a département). Its
companion région map predates the 2016 régions, so régions are coloured here from the
packaged territories table. Nothing is downloaded: the SVG is read from the installed package.

National map: every département coloured by its région. Région map: zoomed on the région,
its départements highlighted and labelled with their number of structures. Département map:
zoomed on its région, the département highlighted — used on every cover, and on the map page
of a département plaquette when there is no public directory of structures to place them by
commune (:mod:`.commune_map`).
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from importlib import resources

from senacs_workbench.core import territories as geo

# 18 régions, soft print-friendly tints (metropolitan ones distinct from their neighbours)
REGION_COLOURS = {
    "11": "#e9a4a0", "24": "#f2c38b", "27": "#c9b3d9", "28": "#9fc9c4", "32": "#f3d37a", "44": "#a8c7e6",
    "52": "#b9d7a1", "53": "#e6b9cf", "75": "#a6d3e0", "76": "#f0b48f", "84": "#c2d89a", "93": "#d5b6e3",
    "94": "#f0a6b6", "01": "#9fc9c4", "02": "#f3d37a", "03": "#b9d7a1", "04": "#e9a4a0", "06": "#c9b3d9",
}
HIGHLIGHT = "#0f5c6e"
HIGHLIGHT_SOFT = "#7fb3bf"
BACKGROUND = "#e4e1dc"
STROKE = "#ffffff"
OVERSEAS = ("971", "972", "973", "974", "976")


@dataclass(frozen=True)
class Shape:
    code: str
    d: str
    group: str  # "main", "paris" (inner-ring inset) or "dom" (overseas inset)
    bbox: tuple[float, float, float, float]


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"[MmLlHhVvCcSsQqZz]|{_NUMBER}")


def path_bbox(d: str) -> tuple[float, float, float, float]:
    """Bounding box of an SVG path (control points included: a slight over-estimate is fine here)."""
    xs: list[float] = []
    ys: list[float] = []
    x = y = sx = sy = 0.0
    command = "M"
    tokens = _TOKEN.findall(d)
    i = 0
    arity = {"M": 2, "L": 2, "C": 6, "S": 4, "Q": 4, "H": 1, "V": 1, "Z": 0}
    while i < len(tokens):
        token = tokens[i]
        if token.isalpha():
            command = token
            i += 1
            if command in "Zz":
                x, y = sx, sy
                continue
        upper = command.upper()
        size = arity[upper]
        if i + size > len(tokens):
            break
        args = [float(t) for t in tokens[i:i + size]]
        i += size
        relative = command.islower()
        if upper == "H":
            x = x + args[0] if relative else args[0]
        elif upper == "V":
            y = y + args[0] if relative else args[0]
        else:
            points = [(args[k], args[k + 1]) for k in range(0, size, 2)]
            for px, py in points:
                xs.append(x + px if relative else px)
                ys.append(y + py if relative else py)
            x, y = (x + points[-1][0], y + points[-1][1]) if relative else points[-1]
        xs.append(x)
        ys.append(y)
        if upper == "M":
            sx, sy = x, y
            command = "l" if relative else "L"
    return min(xs), min(ys), max(xs), max(ys)


@functools.cache
def shapes() -> tuple[Shape, ...]:
    text = resources.files("pygal_maps_fr").joinpath("fr.departments.svg").read_text(encoding="utf-8")
    found: list[Shape] = []
    group = "main"
    for match in re.finditer(r'<g id="(paris-petite-couronne|dom-com)"|<g class="z(\w+) departement[^"]*">\s*'
                             r'<path[^>]*?\sd="([^"]+)"', text):
        if match.group(1):
            group = "paris" if match.group(1) == "paris-petite-couronne" else "dom"
            continue
        code, d = match.group(2), match.group(3)
        d = re.sub(r"(\d+\.\d\d)\d+", r"\1", d)  # 1/100 of a unit is plenty for print; halves the size
        found.append(Shape(code, d, group, path_bbox(d)))
    return tuple(found)


TRANSLATE = (-42.932808, 96.039162)  # the transform of the SVG's outer group
FULL_VIEW = (0.0, 0.0, 2000.0, 1898.0)


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _view(box: tuple[float, float, float, float], pad: float = 0.08) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    side = max(w, h * 1.15)  # keep a near-square frame
    cx, cy = (x0 + x1) / 2 + TRANSLATE[0], (y0 + y1) / 2 + TRANSLATE[1]
    side *= 1 + 2 * pad
    return cx - side / 2, cy - side / 2 / 1.15, side, side / 1.15


COVER_FOCUS = "#ffd9b8"
COVER_NEAR = "rgba(255,255,255,0.45)"
COVER_FAR = "rgba(255,255,255,0.14)"


def _fill(territory: geo.Territory, shape: Shape, region_of: dict[str, str], focus: set[str], cover: bool) -> str:
    if territory.level == "national":
        return "rgba(255,255,255,0.88)" if cover else REGION_COLOURS.get(region_of[shape.code], BACKGROUND)
    if territory.level == "region":
        if shape.code in focus:
            return COVER_FOCUS if cover else HIGHLIGHT
        return COVER_FAR if cover else BACKGROUND
    if shape.code == territory.code:
        return COVER_FOCUS if cover else HIGHLIGHT
    if shape.code in focus:
        return COVER_NEAR if cover else HIGHLIGHT_SOFT
    return COVER_FAR if cover else BACKGROUND


def department_map(territory: geo.Territory, labels: dict[str, str] | None = None, *, cover: bool = False) -> str:
    """An SVG string: France coloured by région, or zoomed on the région of ``territory``.

    ``cover``: the silhouette drawn on the cover page (light tints on the brand colour, no labels).
    """
    labels = labels or {}
    departements = geo.departements()
    region_of = dict(zip(departements.code, departements.region))
    if territory.level == "national":
        drawn = [s for s in shapes() if s.code in region_of]
        view = FULL_VIEW
        focus: set[str] = set()
    else:
        region = territory.code if territory.level == "region" else region_of[territory.code]
        focus = {c for c, r in region_of.items() if r == region}
        overseas = any(c in OVERSEAS for c in focus)
        drawn = [s for s in shapes() if s.code in region_of and (s.group == "dom" if overseas else s.group == "main")]
        view = _view(_union([s.bbox for s in drawn if s.code in focus]))
    scale = view[2] / 2000
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view[0]:.1f} {view[1]:.1f} {view[2]:.1f} '
             f'{view[3]:.1f}" role="img" aria-label="Carte des départements">']
    if cover:  # the silhouette alone: no inner-ring inset, no neighbouring régions
        drawn = [s for s in drawn if s.group != "paris" and (territory.level == "national" or s.code in focus)]
    stroke = HIGHLIGHT if cover else STROKE
    parts.append(f'<g transform="translate({TRANSLATE[0]},{TRANSLATE[1]})" stroke="{stroke}" '
                 f'stroke-width="{2.2 * scale:.2f}" stroke-linejoin="round">')
    for shape in drawn:
        parts.append(f'<path d="{shape.d}" fill="{_fill(territory, shape, region_of, focus, cover)}"/>')
    for shape in drawn:
        if cover or territory.level == "national" or shape.code not in focus or shape.code in OVERSEAS:
            continue  # overseas: the label would fall in the sea (the caption names the territory)
        x0, y0, x1, y1 = shape.bbox
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        size = 26 * scale * 1.6
        colour = "#ffffff" if (territory.level == "region" or shape.code == territory.code) else "#12343b"
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-family="Liberation Sans, DejaVu Sans, sans-serif" '
                     f'font-size="{size:.1f}" font-weight="bold" fill="{colour}" stroke="none" '
                     f'text-anchor="middle">{html.escape(shape.code)}</text>')
        label = labels.get(shape.code)
        if label:
            parts.append(f'<text x="{cx:.1f}" y="{cy + size * 1.05:.1f}" font-family="Liberation Sans, DejaVu Sans, '
                         f'sans-serif" font-size="{size * 0.8:.1f}" fill="{colour}" stroke="none" '
                         f'text-anchor="middle">{html.escape(label)}</text>')
    parts.append("</g>")
    if territory.level == "national" and not cover:
        parts.append('<g font-family="Liberation Sans, DejaVu Sans, sans-serif" font-size="42" fill="#4a5a5e">'
                     '<text x="1930" y="150" text-anchor="end">Paris et petite couronne</text>'
                     '<text x="60" y="1890">Outre-mer</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def region_legend() -> list[tuple[str, str]]:
    """(colour, région name) for the national map's legend."""
    regions = geo.regions()
    return [(REGION_COLOURS.get(code, BACKGROUND), name) for code, name in zip(regions.code, regions.nom)]
