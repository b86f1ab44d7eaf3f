"""Territorial portrait (notebook ``territorial_analysis``): a département, a région or the nation,
set against its région and the nation. Audience: committee (released bundles only)."""

from __future__ import annotations

from pathlib import Path

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.territories import LEVEL_LABELS
from senacs_workbench.released.analysis.audience import COMMITTEE
from senacs_workbench.released.analysis.common import (
    CellSource,
    FigureSpec,
    Indicator,
    Report,
    Section,
    comparators,
    display_name,
    indicator_frame,
    parse,
    write_key_figures,
    year_label,
)


class AnalysisError(SenacsError):
    """An analysis cannot be built from the released bundles (French message)."""


def _yes(variables: list[str]) -> list[Indicator]:
    return [Indicator(v, "share", "oui") for v in variables]


def _shares(year: int, variable: str) -> list[Indicator]:
    question = load_codebook(year).question(variable)
    return [Indicator(variable, "share", code) for code in question.answer_codes]


def _means(variables: list[str]) -> list[Indicator]:
    return [Indicator(v, "mean") for v in variables]


def _present(year: int, indicators: list[Indicator]) -> list[Indicator]:
    codebook = load_codebook(year)
    return [i for i in indicators if i.variable in codebook]


def portrait_sections(year: int) -> list[tuple[str, str, list[tuple[str, str, list[Indicator], str]]]]:
    """(section title, prose, [(figure id, figure title, indicators, y title)]) of the portrait."""
    codebook = load_codebook(year)
    actions = [q.id for q in codebook.in_section("actions") if q.type.value == "yes_no"]
    partners = [q.id for q in codebook.in_section("partenariats") if q.type.value == "yes_no"]
    funding = [q.id for q in codebook.in_section("finances") if q.id.startswith("financement_")]
    return [
        ("Les structures", "Centres sociaux et espaces de vie sociale, et leur mode de gestion.", [
            ("structures_type", "Type de structure (part des structures)",
             _shares(year, "type_structure"), "%"),
            ("structures_gestion", "Mode de gestion (part des structures)", _shares(year, "mode_gestion"), "%"),
        ]),
        ("Les territoires d'intervention", "Urbain ou rural, taille du territoire, géographie prioritaire.", [
            ("territoire_type", "Type de territoire d'intervention", _shares(year, "type_territoire"), "%"),
            ("territoire_qpv", "Géographie prioritaire (QPV)", _shares(year, "qpv"), "%"),
        ]),
        ("Les actions, par public et par thème", "Part des structures ayant mené chaque type d'action.", [
            ("actions", "Actions menées (part des structures)", _yes(actions), "%"),
        ]),
        ("La participation des habitants", "Implication des habitants dans la vie et la gouvernance des structures.", [
            ("participation", "Participation (moyenne par structure)",
             _means(["habitants_instances", "initiatives_habitants", "evenements", "associations_accueillies"]), ""),
            ("benevolat", "Bénévolat (moyenne par structure)",
             _means(["benevoles_activite", "benevoles_instances", "jeunes_benevoles"]), "personnes"),
        ]),
        ("Les partenariats", "Part des structures déclarant chaque partenariat.", [
            ("partenariats", "Partenariats (part des structures)", _yes(partners), "%"),
        ]),
        ("Les ressources humaines", "Salariés et équivalents temps plein.", [
            ("emploi", "Emploi (moyenne par structure)", _means(["salaries", "etp", "salaries_contrats_aides"]), ""),
        ]),
        ("Les finances", "Budget et financements, en euros.", [
            ("budget", "Budget total (par structure)",
             [Indicator("budget_total", "mean"), Indicator("budget_total", "median")], "€"),
            ("financements", "Financements (moyenne par structure)", _means(funding), "€"),
        ]),
    ]


def build(published_dir: Path | str, territory: str, year: int) -> Report:
    """The portrait of ``territory`` (``FR``, ``region:84``, ``departement:24``) for campaign ``year``."""
    place = parse(territory)
    source = CellSource(published_dir, year)
    if not source.available:
        raise AnalysisError(f"Aucun jeu de tableaux publié pour la campagne {year} : rien à analyser.")
    places = comparators(place)
    missing = [display_name(p) for p in places if source.source_for(p) is None]
    if missing:
        raise AnalysisError(f"Pas de tableaux publiés pour {', '.join(missing)} (campagne {year}).")
    report = Report(
        kind="territorial_analysis",
        title=f"Portrait {LEVEL_LABELS[place.level] if place.level != 'national' else 'national'} : "
              f"{display_name(place)} — {year_label(year)}",
        audience=COMMITTEE,
        parameters={"territory": place.key, "year": year},
        intro=(
            f"Ce portrait décrit les centres sociaux et espaces de vie sociale de {display_name(place)}"
            + (f", comparés à {' et à '.join(display_name(p) for p in places[1:])}" if len(places) > 1 else "")
            + ". Chaque graphique indique le nombre de structures répondantes (n) et le taux de réponse ; "
            "les valeurs soumises au secret statistique sont notées « s »."
        ),
    )
    header = indicator_frame(source, [Indicator("type_structure", "structures", label="Structures interrogées")],
                             places)
    report.sections.append(Section(
        "Repères", "Nombre de structures interrogées et taux de réponse.",
        [FigureSpec("reperes", "Structures interrogées", header, kind="table")],
    ))
    for title, text, figures in portrait_sections(year):
        section = Section(title, text)
        for figure_id, figure_title, indicators, y_title in figures:
            indicators = _present(year, indicators)
            if not indicators:
                continue
            data = indicator_frame(source, indicators, places)
            section.figures.append(FigureSpec(figure_id, figure_title, data, y_title=y_title))
        report.sections.append(section)
    return report


def run(published_dir: Path | str, territory: str, year: int, output_dir: Path | str) -> Report:
    """Build the portrait and write its key figures into ``output_dir`` (one call for the notebook)."""
    report = build(published_dir, territory, year)
    write_key_figures(report, output_dir)
    return report
