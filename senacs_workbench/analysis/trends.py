"""Multi-year trends (notebook ``trends``). Audience: committee.

All structures: read from the released bundle of each campaign year (protected cells only).

Constant panel (structures present every year of the period): its *size* is a count of
structures, which the rule set never suppresses (identity data, public on senacs.fr); the
campaign runner computes it in the restricted zone (access-checked, logged: see
:mod:`senacs_workbench.analysis.panel`) and passes it as the ``panel_structures`` parameter.
Panel *indicators* need aggregates of raw data restricted to the panel: they may only reach
a committee through the publication gate (disclosure control + audit + approval), which
does not produce panel tables yet, so this notebook states the panel's size and shows no
panel indicator.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from senacs_workbench.analysis.audience import COMMITTEE
from senacs_workbench.analysis.common import (
    CellSource,
    FigureSpec,
    Indicator,
    Report,
    Section,
    display_name,
    indicator_frame,
    parse,
    territory_key,
    write_key_figures,
)
from senacs_workbench.analysis.territorial import AnalysisError
from senacs_workbench.codebook import load_codebook
from senacs_workbench.formatting import format_number
from senacs_workbench.territories import NATIONAL_CODE
from senacs_workbench.territories import territory as make_territory

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
            f"{first_year} à {last_year}{against}. Les indicateurs calculés sur ce seul panel ne sont pas encore "
            "publiés : comme tout agrégat de données brutes, ils doivent passer par le secret statistique et "
            "l'approbation du comité avant d'être diffusés. Les évolutions ci-dessous portent sur l'ensemble des "
            "structures de chaque année : une partie de l'évolution peut venir de l'entrée ou de la sortie de "
            "structures.")


def build(published_dir: Path | str, territory: str, first_year: int, last_year: int,
          panel_structures: int = PANEL_UNKNOWN) -> Report:
    if first_year > last_year:
        raise AnalysisError(f"Période invalide : {first_year} est après {last_year}.")
    place = parse(territory)
    places = [place] if place.level == "national" else [place, make_territory("national", NATIONAL_CODE)]
    years, missing = [], []
    frames: dict[str, list[pd.DataFrame]] = {}
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
        counts = frames["structures"][-1]
        own = counts[counts.territory == territory_key(place)]
        if year == last_year and len(own) and own["value"].notna().all():
            last_structures = int(own["value"].iloc[0])
    if not years:
        raise AnalysisError(f"Aucun jeu de tableaux publié entre {first_year} et {last_year} pour "
                            f"{display_name(place)}.")
    report = Report(
        kind="trends",
        title=f"Évolutions {first_year}–{last_year} — {display_name(place)}",
        audience=COMMITTEE,
        parameters={"territory": territory_key(place), "first_year": first_year, "last_year": last_year,
                    "panel_structures": panel_structures},
        intro=("Évolution des principaux indicateurs, campagne par campagne, à partir des tableaux publiés. "
               "Chaque courbe indique le nombre de structures répondantes (n) et le taux de réponse ; « s » "
               "signale une valeur soumise au secret statistique."
               + (f" Pas de tableaux publiés pour : {', '.join(str(y) for y in missing)}." if missing else "")),
        extra={"years": years, "missing_years": missing, "panel_structures": panel_structures},
    )
    report.sections.append(Section("Panel constant", panel_text(panel_structures, first_year, last_year,
                                                                last_structures)))
    section = Section("Ensemble des structures", "Toutes les structures interrogées chaque année.")
    for figure_id, title, _, y_title in TREND_FIGURES:
        if figure_id in frames:
            data = pd.concat(frames[figure_id], ignore_index=True)
            section.figures.append(FigureSpec(figure_id, title, data, kind="line", y_title=y_title))
    report.sections.append(section)
    return report


def run(published_dir: Path | str, territory: str, first_year: int, last_year: int, output_dir: Path | str,
        panel_structures: int = PANEL_UNKNOWN) -> Report:
    report = build(published_dir, territory, first_year, last_year, panel_structures)
    write_key_figures(report, output_dir)
    return report
