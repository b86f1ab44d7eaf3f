"""The common template: content + charts + map → one self-contained HTML file (print stylesheet inlined)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from importlib import resources

import jinja2

from senacs_workbench import territories as geo
from senacs_workbench.formatting import format_number
from senacs_workbench.plaquette.content import PlaquetteContent
from senacs_workbench.plaquette.maps import department_map, region_legend

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
    return (f"{count} dans le département {territory.name}, au sein de la région {region.name}. "
            "Les structures ne sont pas localisées par commune dans les tableaux publiés.")


def render_html(content: PlaquetteContent, charts: dict[str, str | None], *, today: dt.date | None = None) -> str:
    """The plaquette as HTML; ``charts`` maps chart keys to image URIs (None: nothing publishable)."""
    template = _environment().get_template("plaquette.html.j2")
    label = _css_string(f"Observatoire SENACS · {content.title} · campagne {content.year}")
    footer = (f'@page {{ @bottom-left {{ content: {label}; '
              'font: 8pt "Liberation Sans", "DejaVu Sans", sans-serif; color: #6b7b7e; } }')
    return french_typography(template.render(
        c=content,
        charts=charts,
        css=stylesheet(),
        footer_css=footer,
        footnote=content.footnote,
        map_svg=department_map(content.territory, map_labels(content)),
        cover_map=department_map(content.territory, cover=True),
        legend=region_legend() if content.territory.level == "national" else [],
        map_caption=map_caption(content),
        map_counts=sorted((content.sections["map"].figs.get("counts") or {}).items(),
                          key=lambda item: _collation_key(item[1].label)),
        generated=french_date(today or dt.date.today()),
    ))
