"""A centre's automated tables (notebook ``centre_report``; charter 2.3). Audience: that centre alone.

The centre's own answers are read with :meth:`RawDataStore.centre_answers` (that one
structure's answers and nothing else of the raw data; access-checked and logged); the
aggregates of its département, région and the nation come from released bundles only
(protected: ``s`` where suppressed). The answers that the CAF or the federation entered on
the centre's behalf are marked, so the centre can review them (charter 2.2). An answer outside
the codebook's bounds (issue 21) is shown as entered, marked as outside the bounds and excluded
from every aggregate, so that the centre can correct it; its own bar in the chart is left blank.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, Question, QuestionType, load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.analysis.audience import CENTRE
from senacs_workbench.released.analysis.common import (
    CellSource,
    FigureSpec,
    Indicator,
    Report,
    Section,
    display_name,
    format_value,
    indicator_frame,
    write_key_figures,
    year_label,
)
from senacs_workbench.released.analysis.territorial import AnalysisError
from senacs_workbench.released.published import SUPPRESSED_MARK
from senacs_workbench.restricted.store import ENTERED_ON_BEHALF, PROVENANCE_LABELS, RawDataStore
from senacs_workbench.restricted.store.bounds import has_bounds, out_of_bounds

SKIPPED_TYPES = (QuestionType.DATE, QuestionType.TEXT)
CHART_VARIABLES = ("salaries", "etp", "benevoles_activite", "habitants_instances", "nb_partenaires")


OUT_OF_BOUNDS_NOTE = ("hors des limites du questionnaire ({bounds}) : valeur exclue de tous les agrégats, "
                      "à corriger")
"""How the centre's report marks an answer kept as entered but outside the codebook's bounds."""


def _outside(question: Question, row: pd.Series | None) -> bool:
    """Whether the centre's answer breaks ``question``'s bounds (stored as entered, excluded)."""
    if row is None or not question.type.is_numeric or pd.isna(row["value_num"]) or not has_bounds(question):
        return False
    return bool(out_of_bounds(question, pd.Series([float(row["value_num"])])).iloc[0])


def _bounds_text(question: Question) -> str:
    low = "" if question.minimum is None else format_value(float(question.minimum), "mean", question.unit)
    high = "" if question.maximum is None else format_value(float(question.maximum), "mean", question.unit)
    parts = [f"de {low} à {high}" if low and high else f"au moins {low}" if low else f"au plus {high}" if high
             else ""]
    if question.type is QuestionType.COUNT:
        parts.append("nombre entier")
    return ", ".join(p for p in parts if p)


def _own_value(question: Question, row: pd.Series | None) -> str:
    if row is None or (pd.isna(row["value"]) and pd.isna(row["value_num"])):
        return "non renseigné"
    if question.type.is_numeric:
        number = float(row["value_num"])
        shown = format_value(number, "mean", question.unit)
        if _outside(question, row):
            decimals = next(d for d in range(7) if d == 6 or abs(round(number, d) - number) < 1e-9)
            entered = format_number(number, decimals) + (f"\u00a0{question.unit}" if question.unit else "")
            return f"{entered} — " + OUT_OF_BOUNDS_NOTE.format(bounds=_bounds_text(question))
        return shown
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return ", ".join(question.category_label(c) for c in str(row["value"]).split(MULTIPLE_CHOICE_SEPARATOR))
    return question.category_label(str(row["value"]))


def _indicator(question: Question, row: pd.Series | None) -> Indicator | None:
    """The aggregate shown beside the centre's answer: the mean, or the share giving the same answer."""
    if question.type.is_numeric:
        return Indicator(question.id, "mean", label=f"{question.label} (moyenne)")
    if row is None or pd.isna(row["value"]) or question.type is QuestionType.MULTIPLE_CHOICE:
        return None
    return Indicator(question.id, "share", str(row["value"]),
                     label=f"{question.label} : part « {question.category_label(str(row['value']))} »")


def build(workspace_dir: Path | str, structure_id: str, year: int, user: str | None = None) -> Report:
    workspace = Workspace(Path(workspace_dir).resolve())
    answers = RawDataStore(workspace, user).centre_answers(year, structure_id)
    identity = answers.iloc[0]
    departement = geo.territory("departement", str(identity["departement"]))
    places = [departement, geo.territory("region", geo.region_of(departement.code)),
              geo.territory("national", geo.NATIONAL_CODE)]
    source = CellSource(workspace.published, year)
    if not source.available:
        raise AnalysisError(f"Aucun jeu de tableaux publié pour la campagne {year} : pas de comparaison possible.")
    own = {r["variable"]: r for _, r in answers.dropna(subset=["variable"]).iterrows()}
    codebook = load_codebook(year)
    name = str(identity["nom_structure"] or structure_id)
    report = Report(
        kind="centre_report",
        title=f"Tableaux automatisés — {name} — {year_label(year)}",
        audience=CENTRE,
        parameters={"structure_id": structure_id, "year": year},
        intro=(f"Vos réponses au questionnaire SENACS, à côté des résultats agrégés et protégés de "
               f"{display_name(places[0])}, de la région {display_name(places[1])} et de la France. Ce document "
               "est destiné à votre structure seule. « s » : valeur soumise au secret statistique. Les réponses "
               "saisies par la Caf ou la fédération pour votre compte sont signalées : vous pouvez les "
               "vérifier et les faire corriger (charte, § 2.2)."),
        extra={"structure_id": structure_id, "departement": departement.code},
    )
    entered_by_others = [v for v, r in own.items() if r["provenance"] in ENTERED_ON_BEHALF]
    outside = [v for v, r in own.items() if v in codebook and _outside(codebook.question(v), r)]
    if outside:
        report.intro += (f" {len(outside)} de vos réponses sont hors des limites du questionnaire : elles sont "
                         "montrées telles que saisies, signalées, et exclues de tous les agrégats tant qu'elles "
                         "ne sont pas corrigées.")
    for section_id, section_title in codebook.sections.items():
        questions = [q for q in codebook.in_section(section_id) if q.type not in SKIPPED_TYPES]
        if not questions:
            continue
        rows = []
        indicators = [i for q in questions if (i := _indicator(q, own.get(q.id))) is not None]
        frame = indicator_frame(source, indicators, places) if indicators else pd.DataFrame()
        for question in questions:
            row = own.get(question.id)
            indicator = _indicator(question, row)
            entry = {
                "Question": question.label,
                "Votre réponse": _own_value(question, row),
                "Saisie par": PROVENANCE_LABELS.get(str(row["provenance"]), "") if row is not None else "",
            }
            for place in places:
                cells = (frame[(frame.indicator == indicator.key) & (frame.territory_name == display_name(place))]
                         if indicator is not None and len(frame) else pd.DataFrame())
                if len(cells):
                    cell = cells.iloc[0]
                    n = "" if cell["n"] is None or (isinstance(cell["n"], float) and math.isnan(cell["n"])) \
                        else f" (n = {int(cell['n'])})"
                    entry[display_name(place)] = f"{cell['shown']}{n}" if cell["shown"] != SUPPRESSED_MARK \
                        else SUPPRESSED_MARK
                else:
                    entry[display_name(place)] = "–"
            rows.append(entry)
        spec = FigureSpec(f"section_{section_id}", section_title, frame, kind="table",
                          note="Agrégats : moyenne (questions chiffrées) ou part des structures ayant donné la même "
                               "réponse que vous.", table=pd.DataFrame(rows))
        report.sections.append(Section(section_title, "", [spec]))
    chart = [Indicator(v, "mean") for v in CHART_VARIABLES if v in codebook]
    chart_frame = indicator_frame(source, chart, places)
    own_rows = []
    for indicator in chart:
        row = own.get(indicator.variable)
        question = codebook.question(indicator.variable)
        value = float(row["value_num"]) if row is not None and not pd.isna(row["value_num"]) \
            and not _outside(question, row) else None
        own_rows.append({
            "indicator": indicator.key, "label": chart_frame.loc[chart_frame.indicator == indicator.key,
                                                                 "label"].iloc[0],
            "statistic": "mean", "territory": f"structure:{structure_id}", "territory_name": name,
            "value": value, "status": "V", "shown": format_value(value, "mean", question.unit),
            "n": 1, "response_rate": 1.0 if value is not None else 0.0, "response_rate_shown": "",
        })
    chart_data = pd.concat([pd.DataFrame(own_rows), chart_frame], ignore_index=True)
    report.sections.append(Section("Votre structure et les moyennes des territoires",
                                   "Vos chiffres à côté des moyennes protégées.",
                                   [FigureSpec("comparaison", "Votre structure et les moyennes", chart_data)]))
    report.extra["entered_by_others"] = entered_by_others
    report.extra["out_of_bounds"] = outside
    return report


def run(workspace_dir: Path | str, structure_id: str, year: int, output_dir: Path | str) -> Report:
    report = build(workspace_dir, structure_id, year)
    write_key_figures(report, output_dir)
    return report
