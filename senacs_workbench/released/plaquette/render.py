"""The common template: content + charts + map → one self-contained HTML file (print stylesheet inlined)."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import unicodedata
from importlib import resources
from typing import Any

import jinja2

from senacs_workbench.core import territories as geo
from senacs_workbench.core.formatting import format_number
from senacs_workbench.released.plaquette.commune_map import CommuneCounts, commune_map, departement_outlines
from senacs_workbench.released.plaquette.content import PlaquetteContent
from senacs_workbench.released.plaquette.maps import department_map, region_legend

TEMPLATES = "senacs_workbench.templates.plaquette"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("senacs_workbench", "templates/plaquette"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


@functools.cache
def stylesheet() -> str:
    return resources.files("senacs_workbench").joinpath("templates/plaquette/plaquette.css").read_text(encoding="utf-8")


def french_date(day: dt.date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def _css_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("<", "\\3c ")


_TYPO = (
    (re.compile(r"«\s*"), "«\u00a0"),
    (re.compile(r"\s*»"), "\u00a0»"),
    (re.compile(r"\s+:(?=\s|$)"), "\u00a0:"),
    (re.compile(r"\s+([;?!])"), "\u202f\\1"),
    (re.compile(r"&#39;|'"), "\u2019"),
)


def french_typography(html: str) -> str:
    """No-break spaces of French typography in the text nodes (« x », a : b, c ?), styles left alone."""

    def fix(match: re.Match[str]) -> str:
        text = match.group(1)
        for pattern, replacement in _TYPO:
            text = pattern.sub(replacement, text)
        return f">{text}<"

    head, sep, body = html.partition("</style>")
    return head + sep + re.sub(r">([^<>]+)<", fix, body)


def _collation_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def map_labels(content: PlaquetteContent) -> dict[str, str]:
    counts = content.sections["map"].figs.get("counts") or {}
    if content.territory.level != "region":
        return {}
    return {code: f"{fig.text} structures" if fig.available else "s" for code, fig in counts.items()}


def map_caption(content: PlaquetteContent) -> str:
    territory = content.territory
    total = content.sections["map"].figs["structures"]
    count = (f"{total.text} structures" if total.available
             else "Le nombre de structures est soumis au secret statistique")
    if territory.level == "national":
        return (f"{count} en France, dans les {format_number(len(geo.departements()))} départements "
                "(couleurs : les régions).")
    if territory.level == "region":
        return f"{count} dans la région {territory.name}, réparties entre ses départements."
    region = geo.territory("region", geo.region_of(territory.code))
    communes = commune_counts(content)
    if communes is None:
        return (f"{count} dans le département {territory.name}, au sein de la région {region.name}. "
                "Les structures ne sont pas localisées par commune dans les tableaux publiés.")
    located = communes.located
    caption = (f"{count} dans le département {territory.name} (région {region.name}). La carte situe "
               f"{_structures(located, 'la', 'les')} de l'annuaire public dans "
               f"{_plural(len(communes.counts), 'commune')} : chaque point est une commune, sa surface est "
               "proportionnelle au nombre de structures qu'elle accueille.")
    if communes.unplaced:
        caption += (f" {_plural(communes.unplaced, 'structure')} de l'annuaire, dont la commune n'a pas été "
                    f"reconnue, {'ne figure' if communes.unplaced == 1 else 'ne figurent'} pas sur la carte.")
    return caption


def _plural(count: int, noun: str) -> str:
    return f"{format_number(count)}\u00a0{noun}{'s' if count > 1 else ''}"


def _structures(count: int, singular: str, plural: str) -> str:
    return f"{singular} structure" if count == 1 else f"{plural} {_plural(count, 'structure')}"


def commune_counts(content: PlaquetteContent) -> CommuneCounts | None:
    """The département's structures by commune, when the public directory gave any and the outline is packaged."""
    communes = content.sections["map"].figs.get("communes")
    if not isinstance(communes, CommuneCounts) or not communes.counts \
            or communes.departement not in departement_outlines():
        return None
    return communes


def map_svg(content: PlaquetteContent) -> str:
    """The département's structures by commune, else the map of départements (national, région, or no directory)."""
    communes = commune_counts(content)
    if communes is not None:
        return commune_map(communes.departement, communes)
    return department_map(content.territory, map_labels(content))


COMMUNE_ROWS = 12
"""Communes listed beside the département's map (the ones with the most structures)."""


def _commune_rows(content: PlaquetteContent) -> dict[str, Any]:
    """The communes with the most structures, for the table beside the département's map."""
    communes = commune_counts(content)
    if communes is None:
        return {}
    ranked = communes.ranked()
    rest = ranked[COMMUNE_ROWS:]
    others = None
    if rest:
        plural = "s" if len(rest) > 1 else ""
        others = (f"{format_number(len(rest))}\u00a0autre{plural} commune{plural}",
                  format_number(sum(count for _code, _name, count in rest)))
    return {"rows": [(name, format_number(count)) for _code, name, count in ranked[:COMMUNE_ROWS]], "rest": others}


def document_title(content: PlaquetteContent) -> str:
    """The title of the HTML page and of the PDF (its metadata and the viewer's title bar)."""
    return f"SENACS {content.year} — {content.title}"


def _labelled(svg: str, label: str) -> str:
    """The map's SVG with ``label`` as its text alternative (the caption says what the map shows)."""
    return re.sub(r'aria-label="[^"]*"', lambda _m: f'aria-label="{html.escape(label)}"', svg, count=1)


def render_html(content: PlaquetteContent, charts: dict[str, str | None], *, today: dt.date | None = None,
                alternatives: dict[str, str] | None = None) -> str:
    """The plaquette as HTML; ``charts`` maps chart keys to image URIs (None: nothing publishable).

    ``alternatives``: the text alternative of each chart (its ``alt``), the chart's title otherwise.
    """
    template = _environment().get_template("plaquette.html.j2")
    caption = map_caption(content)
    label = _css_string(f"Observatoire SENACS · {content.title} · campagne {content.year}")
    footer = (f'@page {{ @bottom-left {{ content: {label}; '
              'font: 8pt "Liberation Sans", "DejaVu Sans", sans-serif; color: #6b7b7e; } }')
    return french_typography(template.render(
        c=content,
        charts=charts,
        alternatives=alternatives or {},
        title=document_title(content),
        css=stylesheet(),
        footer_css=footer,
        footnote=content.footnote,
        map_svg=_labelled(map_svg(content), f"Carte. {caption}"),
        cover_map=_labelled(department_map(content.territory, cover=True),
                            f"Carte de situation : {content.territory.name}"),
        legend=region_legend() if content.territory.level == "national" else [],
        map_caption=caption,
        map_counts=sorted((content.sections["map"].figs.get("counts") or {}).items(),
                          key=lambda item: _collation_key(item[1].label)),
        commune_rows=_commune_rows(content),
        generated=french_date(today or dt.date.today()),
    ))
