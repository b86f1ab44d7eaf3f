"""Thematic analysis (notebook ``thematic_analysis``): one theme in depth for a territory and a year,
against its région and the nation, and by type of structure. Audience: committee."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from senacs_workbench.core.codebook import Question, QuestionType, load_codebook
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
from senacs_workbench.released.analysis.territorial import AnalysisError

YEAR_THEME = "theme_annee"


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    yes_no: tuple[str, ...] = ()
    totals: tuple[str, ...] = ()
    means: tuple[str, ...] = ()


THEMES: dict[str, Theme] = {
    t.id: t
    for t in (
        Theme("jeunesse", "La jeunesse",
              ("actions_jeunesse", "actions_accompagnement_scolaire", "actions_insertion"),
              ("jeunes_accompagnes", "participants_jeunesse", "participants_accompagnement_scolaire",
               "jeunes_benevoles"),
              ("part_11_25",)),
        Theme("familles", "Les familles et la parentalité",
              ("actions_familles", "actions_petite_enfance", "actions_enfance", "actions_vacances", "agrement_acf"),
              ("familles_accompagnees", "enfants_accompagnes", "participants_familles"),
              ("part_0_10",)),
        Theme("numerique", "L'inclusion numérique",
              ("actions_numerique",), ("participants_numerique",), ()),
        Theme("acces_droits", "L'accès aux droits",
              ("actions_acces_droits", "actions_langue_francaise"),
              ("personnes_informees_droits", "personnes_accompagnees_droits"), ()),
        Theme("seniors", "Les seniors",
              ("actions_seniors",), ("participants_seniors",), ("part_60_plus",)),
        Theme(YEAR_THEME, "Le thème de l'année"),
    )
}
"""Themes that ``thematic_analysis`` accepts (the campaign validates ``theme`` against these keys)."""


def _question_indicators(question: Question) -> list[Indicator]:
    if question.type is QuestionType.YES_NO:
        return [Indicator(question.id, "share", "oui")]
    if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        return [Indicator(question.id, "share", code) for code in question.answer_codes]
    if question.type.is_numeric:
        return [Indicator(question.id, "mean")]
    return []


def theme_figures(theme_id: str, year: int) -> tuple[str, list[tuple[str, str, list[Indicator], str]]]:
    """The theme's French label and its figures (id, title, indicators, y title)."""
    if theme_id not in THEMES:
        raise AnalysisError(f"Thème inconnu : « {theme_id} » (thèmes : {', '.join(THEMES)}).")
    codebook = load_codebook(year)
    theme = THEMES[theme_id]
    if theme_id == YEAR_THEME:
        figures = []
        for question in codebook.theme_questions:
            indicators = _question_indicators(question)
            if indicators:
                y_title = "%" if indicators[0].statistic == "share" else question.unit
                figures.append((question.id, question.label, indicators, y_title))
        return f"Le thème de l'année : {codebook.theme_label}", figures
    present = [v for v in (*theme.yes_no, *theme.totals, *theme.means) if v in codebook]
    figures = [
        ("actions", "Part des structures concernées", [Indicator(v, "share", "oui") for v in theme.yes_no
                                                        if v in present], "%"),
        ("totaux", "Personnes touchées (total)", [Indicator(v, "sum") for v in theme.totals if v in present],
         "personnes"),
        ("moyennes", "Personnes touchées (moyenne par structure)",
         [Indicator(v, "mean") for v in theme.totals if v in present], "personnes"),
        ("publics", "Part du public (moyenne par structure, en %)",
         [Indicator(v, "mean") for v in theme.means if v in present], "%"),
    ]
    return theme.label, [f for f in figures if f[2]]


def build(published_dir: Path | str, theme: str, territory: str, year: int) -> Report:
    place = parse(territory)
    label, figures = theme_figures(theme, year)
    source = CellSource(published_dir, year)
    if not source.available:
        raise AnalysisError(f"Aucun jeu de tableaux publié pour la campagne {year} : rien à analyser.")
    places = [p for p in comparators(place) if source.source_for(p) is not None]
    if not places or places[0] != place:
        raise AnalysisError(f"Pas de tableaux publiés pour {display_name(place)} (campagne {year}).")
    report = Report(
        kind="thematic_analysis",
        title=f"{label} — {display_name(place)} — {year_label(year)}",
        audience=COMMITTEE,
        parameters={"theme": theme, "territory": place.key, "year": year},
        intro=(f"Analyse thématique « {label} » pour {display_name(place)}. Chaque graphique indique le nombre "
               "de structures répondantes (n) et le taux de réponse ; « s » signale une valeur soumise au secret "
               "statistique."),
    )
    comparison = Section("Comparaison territoriale", "Le territoire, sa région et la France.")
    by_type = Section("Selon le type de structure", "Centres sociaux et espaces de vie sociale du territoire.")
    for figure_id, title, indicators, y_title in figures:
        comparison.figures.append(
            FigureSpec(figure_id, title, indicator_frame(source, indicators, places), y_title=y_title))
        data = indicator_frame(source, indicators, [place], breakdown="type_structure")
        if len(data):
            type_question = load_codebook(year).question("type_structure")
            data["category_label"] = [type_question.category_label(c) if c else "Ensemble" for c in data["category"]]
            by_type.figures.append(FigureSpec(f"{figure_id}_type", f"{title} — selon le type de structure", data,
                                              kind="bar_breakdown", y_title=y_title))
    report.sections += [comparison, by_type]
    return report


def run(published_dir: Path | str, theme: str, territory: str, year: int, output_dir: Path | str) -> Report:
    report = build(published_dir, theme, territory, year)
    write_key_figures(report, output_dir)
    return report
