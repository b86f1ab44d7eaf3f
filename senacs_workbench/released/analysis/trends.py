"""Multi-year trends (notebook ``trends``). Audience: committee.

All structures: read from the released bundle of each campaign year (protected cells only).

Constant panel (structures present every year of the period): when the workspace publishes a
panel (:mod:`senacs_workbench.restricted.constant_panel`), every bundle of the period carries the
``panel_constant`` breakdown, protected and approved with the rest; this notebook then draws
each trend on the panel too, and states the panel's size (a count of structures: public
identity data). When the released bundles carry no panel for exactly this period, the size
passed by the campaign runner (``panel_structures``, computed in the restricted zone) is stated
and no panel indicator is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core.codebook import PANEL_BREAKDOWN, PANEL_IN, load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.territories import NATIONAL_CODE
from senacs_workbench.core.territories import territory as make_territory
from senacs_workbench.released.analysis.audience import COMMITTEE
from senacs_workbench.released.analysis.common import (
    CellSource,
    FigureSpec,
    Indicator,
    Report,
    Section,
    display_name,
    indicator_frame,
    parse,
    write_key_figures,
)
from senacs_workbench.released.analysis.territorial import AnalysisError
from senacs_workbench.released.published import SUPPRESSED_MARK

PANEL_UNKNOWN = -1

TREND_FIGURES: list[tuple[str, str, list[Indicator], str]] = [
    ("structures", "Structures interrogées", [Indicator("type_structure", "structures", label="Structures")], ""),
    ("type", "Part des centres sociaux", [Indicator("type_structure", "share", "CS")], "%"),
    ("actions", "Actions menées (part des structures)",
     [Indicator("actions_jeunesse", "share", "oui"), Indicator("actions_numerique", "share", "oui"),
      Indicator("actions_acces_droits", "share", "oui")], "%"),
    ("partenariats", "Partenariat avec la commune", [Indicator("partenaire_commune", "share", "oui")], "%"),
    ("emploi", "Salariés (moyenne par structure)", [Indicator("salaries", "mean")], "salariés"),
    ("benevolat", "Bénévoles d'activité (moyenne par structure)", [Indicator("benevoles_activite", "mean")],
     "personnes"),
    ("budget", "Budget total (médiane par structure)", [Indicator("budget_total", "median")], "€"),
]


def panel_text(panel_structures: int, first_year: int, last_year: int, last_structures: int | None) -> str:
    if panel_structures is None or panel_structures < 0:
        return (f"La taille du panel constant ({first_year}–{last_year}) n'a pas été calculée : elle demande "
                "l'accès aux données brutes et est fournie par la campagne lancée par le préparateur.")
    against = (f", sur {format_number(last_structures)} structures interrogées en {last_year}"
               if last_structures else "")
    return (f"Panel constant : {format_number(panel_structures)} structures présentes chaque année de "
            f"{first_year} à {last_year}{against}. Les tableaux publiés ne portent pas d'indicateurs sur ce panel "
            f"(à publier avec « senacs panel --years {first_year}-{last_year} » puis « senacs publish ») : comme "
            "tout agrégat de données brutes, ils passent par le secret statistique et l'approbation du comité. "
            "Les évolutions ci-dessous portent sur l'ensemble des "
            "structures de chaque année : une partie de l'évolution peut venir de l'entrée ou de la sortie de "
            "structures.")


def panel_published_text(size: int | None, first_year: int, last_year: int, last_structures: int | None) -> str:
    against = (f", sur {format_number(last_structures)} structures interrogées en {last_year}"
               if last_structures else "")
    count = format_number(size) if size is not None else SUPPRESSED_MARK
    return (f"Panel constant : {count} structures présentes chaque année de {first_year} à {last_year}{against}. "
            "Les courbes de cette partie portent sur ces seules structures, les mêmes chaque année : leurs "
            "évolutions ne doivent rien aux entrées et sorties de structures. Comme tous les tableaux publiés, "
            "les indicateurs du panel sont protégés par le secret statistique (« s »).")


def _has_panel(source: CellSource, place: Any, first_year: int, last_year: int) -> bool:
    name = source.source_for(place)
    if name is None:
        return False
    manifest = source.reader.bundle(source.year, name).manifest
    return manifest.get("panel_years") == [first_year, last_year]


def build(published_dir: Path | str, territory: str, first_year: int, last_year: int,
          panel_structures: int = PANEL_UNKNOWN) -> Report:
    if first_year > last_year:
        raise AnalysisError(f"Période invalide : {first_year} est après {last_year}.")
    place = parse(territory)
    places = [place] if place.level == "national" else [place, make_territory("national", NATIONAL_CODE)]
    years, missing = [], []
    frames: dict[str, list[pd.DataFrame]] = {}
    panel_frames: dict[str, list[pd.DataFrame]] = {}
    panel_years: list[int] = []
    last_structures = None
    for year in range(first_year, last_year + 1):
        source = CellSource(published_dir, year)
        if not source.available or source.source_for(place) is None:
            missing.append(year)
            continue
        years.append(year)
        codebook = load_codebook(year)
        for figure_id, _, indicators, _ in TREND_FIGURES:
            present = [i for i in indicators if i.variable in codebook]
            if present:
                frame = indicator_frame(source, present, places).assign(year=year)
                frames.setdefault(figure_id, []).append(frame)
        if _has_panel(source, place, first_year, last_year):
            panel_years.append(year)
            for figure_id, _, indicators, _ in TREND_FIGURES:
                present = [i for i in indicators if i.variable in codebook]
                if present:
                    frame = indicator_frame(source, present, places, PANEL_BREAKDOWN)
                    frame = frame[frame["category"] == PANEL_IN].assign(year=year)
                    panel_frames.setdefault(figure_id, []).append(frame)
        counts = frames["structures"][-1]
        own = counts[counts.territory == place.key]
        if year == last_year and len(own) and own["value"].notna().all():
            last_structures = int(own["value"].iloc[0])
    if not years:
        raise AnalysisError(f"Aucun jeu de tableaux publié entre {first_year} et {last_year} pour "
                            f"{display_name(place)}.")
    report = Report(
        kind="trends",
        title=f"Évolutions {first_year}–{last_year} — {display_name(place)}",
        audience=COMMITTEE,
        parameters={"territory": place.key, "first_year": first_year, "last_year": last_year,
                    "panel_structures": panel_structures},
        intro=("Évolution des principaux indicateurs, campagne par campagne, à partir des tableaux publiés. "
               "Chaque courbe indique le nombre de structures répondantes (n) et le taux de réponse ; « s » "
               "signale une valeur soumise au secret statistique."
               + (f" Pas de tableaux publiés pour : {', '.join(str(y) for y in missing)}." if missing else "")),
        extra={"years": years, "missing_years": missing, "panel_structures": panel_structures},
    )
    section = Section("Ensemble des structures", "Toutes les structures interrogées chaque année.")
    for figure_id, title, _, y_title in TREND_FIGURES:
        if figure_id in frames:
            data = pd.concat(frames[figure_id], ignore_index=True)
            section.figures.append(FigureSpec(figure_id, title, data, kind="line", y_title=y_title))
    report.sections.append(section)
    if panel_years and panel_years == years:
        sizes = pd.concat(panel_frames["structures"], ignore_index=True)
        own = sizes[(sizes["territory"] == place.key) & sizes["value"].notna()]
        size = int(own["value"].iloc[-1]) if len(own) else None
        panel = Section("Panel constant", panel_published_text(size, first_year, last_year, last_structures))
        for figure_id, title, _, y_title in TREND_FIGURES:
            if figure_id in panel_frames and figure_id != "structures":
                data = pd.concat(panel_frames[figure_id], ignore_index=True)
                panel.figures.append(FigureSpec(f"panel_{figure_id}", f"{title} — panel constant", data,
                                                kind="line", y_title=y_title))
        report.sections.append(panel)
        report.extra["panel_structures"] = size
        report.extra["panel_published"] = True
    else:
        report.sections.insert(0, Section("Panel constant", panel_text(panel_structures, first_year, last_year,
                                                                       last_structures)))
        report.extra["panel_published"] = False
    return report


def run(published_dir: Path | str, territory: str, first_year: int, last_year: int, output_dir: Path | str,
        panel_structures: int = PANEL_UNKNOWN) -> Report:
    report = build(published_dir, territory, first_year, last_year, panel_structures)
    write_key_figures(report, output_dir)
    return report
