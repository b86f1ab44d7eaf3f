"""The centres' right of review (charter 2.2): what the CAF or the federation entered for them.

:func:`entered_for_centres` lists, from the answers' provenance in the latest data version,
every value entered by the CAF or the federation (by import, by correction or with the entry
form); :func:`write_review_sheets` writes one review sheet per centre (XLSX with columns for the
centre's opinion, and HTML) under ``restricted/coherence/<year>/relecture/``.
:func:`import_review_answers` turns the centre's objections into findings of rule
``objection_centre`` (same workflow as the check's findings).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence.render import write_html, write_xlsx
from senacs_workbench.restricted.coherence.resolution import record_objection
from senacs_workbench.restricted.coherence.scope import resolve_territory
from senacs_workbench.restricted.coherence.sheets import coherence_dir
from senacs_workbench.restricted.coherence.values import display_value
from senacs_workbench.restricted.importing.issues import ImportIssue
from senacs_workbench.restricted.importing.text import fold
from senacs_workbench.restricted.importing.values import NO_WORDS, YES_WORDS
from senacs_workbench.restricted.store import ENTERED_ON_BEHALF, PROVENANCE_LABELS, RawDataStore

COL_STRUCTURE = "Identifiant structure"
COL_YEAR = "Campagne"
COL_VARIABLE = "Question (code)"
COL_LABEL = "Question"
COL_VALUE = "Valeur enregistrée"
COL_WHO = "Saisie par"
COL_WHEN = "Le"
COL_AGREE = "Êtes-vous d'accord avec cette valeur ? (Oui / Non)"
COL_PROPOSED = "Valeur que vous proposez"
COL_COMMENT = "Votre commentaire"
REVIEW_COLUMNS = (
    COL_STRUCTURE,
    COL_YEAR,
    COL_VARIABLE,
    COL_LABEL,
    COL_VALUE,
    COL_WHO,
    COL_WHEN,
    COL_AGREE,
    COL_PROPOSED,
    COL_COMMENT,
)
INTRO = (
    "Une partie des réponses SENACS de votre structure a été saisie pour vous par la Caf ou par la fédération. "
    "La charte SENACS (article 2.2) vous donne un droit de regard sur ces valeurs : vous pouvez les relire et "
    "questionner vos interlocuteurs en cas de divergence."
)
HOW_TO = (
    "Pour chaque ligne du fichier Excel joint, indiquez si vous êtes d'accord (Oui / Non) ; en cas de désaccord, "
    "proposez la valeur juste et expliquez-vous. Renvoyez le fichier à votre correspondant SENACS."
)


@dataclass(frozen=True)
class ReviewResult:
    year: int
    centres: int
    values: int
    paths: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def message_fr(self) -> str:
        return (
            f"{self.centres} fiche(s) de relecture écrite(s) pour la campagne {self.year} : {self.values} valeur(s) "
            "saisie(s) par la Caf ou la fédération pour le compte des centres."
        )


def entered_for_centres(
    workspace: Workspace, year: int, territory: geo.Territory | str | None = None, *, user: str | None = None
) -> pd.DataFrame:
    """Every answer of the latest version whose provenance is the CAF or the federation:
    ``structure_id, nom_structure, departement, variable, value, provenance, entered_by, entered_at``."""
    place = resolve_territory(workspace, territory)
    store = RawDataStore(workspace, user)
    answers = store.answers(year, place)
    mine = answers[answers["provenance"].isin(ENTERED_ON_BEHALF)]
    structures = store.wide(year, place, variables=["type_structure"])[["structure_id", "nom_structure", "departement"]]
    out = mine.merge(structures, on="structure_id", how="left")
    columns = [
        "structure_id",
        "nom_structure",
        "departement",
        "variable",
        "value",
        "provenance",
        "entered_by",
        "entered_at",
    ]
    return out[columns].sort_values(["structure_id", "variable"]).reset_index(drop=True)


def write_review_sheets(
    workspace: Workspace,
    year: int,
    territory: geo.Territory | str | None = None,
    *,
    structures: Sequence[str] | None = None,
    user: str | None = None,
) -> ReviewResult:
    """One review sheet per centre with values entered on its behalf (``senacs review-sheets``)."""
    entered = entered_for_centres(workspace, year, territory, user=user)
    if structures is not None:
        entered = entered[entered["structure_id"].isin(list(structures))]
    codebook = load_codebook(year)
    order = {q.id: i for i, q in enumerate(codebook.questions)}
    folder = coherence_dir(workspace, year) / "relecture"
    paths: list[Path] = []
    for sid, group in entered.groupby("structure_id", sort=True):
        group = group.sort_values("variable", key=lambda s: s.map(order))
        first = group.iloc[0]
        rows_html: list[dict[str, Any]] = []
        rows_xlsx: list[list[Any]] = []
        for record in group.to_dict("records"):
            question = codebook.question(record["variable"])
            when = pd.Timestamp(record["entered_at"]).strftime("%d/%m/%Y")
            who = PROVENANCE_LABELS.get(record["provenance"], record["provenance"]).replace("la ", "").capitalize()
            value = display_value(question, record["value"])
            rows_html.append(
                {"variable": record["variable"], "label": question.label, "value": value, "who": who, "when": when}
            )
            rows_xlsx.append([sid, year, record["variable"], question.label, value, who, when, None, None, None])
        name = first["nom_structure"] or sid
        try:
            dep_name = geo.territory("departement", str(first["departement"])).name
        except ValueError:
            dep_name = ""
        preamble = [
            f"Relecture des réponses saisies pour votre structure — campagne SENACS {year}",
            f"Structure : {name} (identifiant {sid}), {dep_name}",
            INTRO,
            HOW_TO,
        ]
        paths.append(
            write_xlsx(
                folder / f"{sid}.xlsx",
                "Relecture",
                preamble,
                REVIEW_COLUMNS,
                rows_xlsx,
                widths=(14, 10, 22, 34, 18, 12, 12, 18, 20, 40),
                choices={REVIEW_COLUMNS.index(COL_AGREE): ["Oui", "Non"]},
                editable=(7, 8, 9),
            )
        )
        paths.append(
            write_html(
                folder / f"{sid}.html",
                "review_sheet.html.j2",
                title=f"Relecture SENACS {year} — {name}",
                banner=None,
                year=year,
                structure={"structure_id": sid, "nom_structure": name, "departement_name": dep_name},
                intro=INTRO,
                how_to_answer=HOW_TO,
                rows=rows_html,
            )
        )
    return ReviewResult(year, int(entered["structure_id"].nunique()), len(entered), tuple(paths))


class ReviewFileError(SenacsError):
    def __init__(self, file: str, issues: list[ImportIssue]) -> None:
        from senacs_workbench.restricted.importing.issues import format_issues

        self.issues = issues
        super().__init__(
            f"Fiche de relecture refusée : {file} contient {len(issues)} problème(s) ; aucune objection n'a été "
            f"enregistrée.\n{format_issues(issues)}",
            file=file,
            line=issues[0].line if issues else None,
            column=issues[0].column if issues else None,
        )


def import_review_answers(workspace: Workspace, path: Path, *, user: str | None = None) -> list[int]:
    """The centre's filled review sheet: each « Non » becomes an ``objection_centre`` finding.

    Every row is checked first (nothing recorded if one is wrong). Returns the findings' numbers.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        rule = f"fichier illisible : une fiche de relecture est un classeur Excel (.xlsx) ({type(exc).__name__})"
        raise ReviewFileError(path.name, [ImportIssue(file=path.name, rule=rule)]) from None
    try:
        grid = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    header_index = next((i for i, row in enumerate(grid) if COL_STRUCTURE in [str(c) for c in row]), None)
    if header_index is None:
        raise ReviewFileError(path.name, [ImportIssue(path.name, f"en-tête introuvable (colonne « {COL_STRUCTURE} »)")])
    header = [str(c) if c is not None else "" for c in grid[header_index]]
    position = {name: header.index(name) for name in REVIEW_COLUMNS if name in header}
    issues: list[ImportIssue] = []
    objections: list[tuple[int, str, str, str, Any]] = []
    for line, row in enumerate(grid[header_index + 1 :], start=header_index + 2):

        def cell(name: str, row: list[Any] = row) -> Any:
            index = position.get(name)
            return row[index] if index is not None and index < len(row) else None

        agree = fold(str(cell(COL_AGREE) or ""))
        if not agree or agree in YES_WORDS:
            continue
        if agree not in NO_WORDS:
            issues.append(ImportIssue(path.name, "réponse Oui ou Non attendue", line, COL_AGREE, str(cell(COL_AGREE))))
            continue
        comment = str(cell(COL_COMMENT) or "").strip()
        proposed = cell(COL_PROPOSED)
        if not comment and proposed in (None, ""):
            issues.append(
                ImportIssue(path.name, "désaccord sans valeur proposée ni commentaire", line, COL_COMMENT, "")
            )
            continue
        try:
            year = int(cell(COL_YEAR))
        except (TypeError, ValueError):
            issues.append(ImportIssue(path.name, "campagne illisible", line, COL_YEAR, str(cell(COL_YEAR))))
            continue
        objections.append(
            (
                year,
                str(cell(COL_STRUCTURE)),
                str(cell(COL_VARIABLE)),
                comment or "le centre propose une autre valeur",
                proposed,
            )
        )
    for number, (year, _sid, variable, _comment, _proposed) in enumerate(objections):
        try:
            codebook = load_codebook(year)
        except ValueError as exc:
            issues.append(ImportIssue(path.name, str(exc), None, COL_YEAR, str(year)))
            continue
        if variable not in codebook:
            issues.append(
                ImportIssue(path.name, f"question inconnue (objection n° {number + 1})", None, COL_VARIABLE, variable)
            )
    if issues:
        raise ReviewFileError(path.name, issues)
    return [
        record_objection(
            workspace,
            year,
            sid,
            variable,
            comment,
            proposed_value=proposed,
            exchange=f"fiche de relecture renvoyée : {path.name}",
            user=user,
        )
        for year, sid, variable, comment, proposed in objections
    ]
