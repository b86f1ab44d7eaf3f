"""``senacs corrections import FILE``: the question sheet filled in by the centre (or a CSV).

Every row is checked before anything is written: the finding exists, concerns that structure
and question, and is not closed; the structure and the question exist; the corrected value is
read and validated as at import. Any problem → :class:`CorrectionsFileError` naming the file,
the row and the column, and nothing is applied. Otherwise the whole file is applied in one
transaction: one new data version for all the corrected values, each finding moved to
``corrected`` (a value was corrected) or ``confirmed`` (every value said right).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence import sheets
from senacs_workbench.restricted.coherence.answer_input import AnswerProblem, parse_answer
from senacs_workbench.restricted.coherence.corrections import KIND_CORRECTION
from senacs_workbench.restricted.coherence.scope import structure_territory
from senacs_workbench.restricted.importing.issues import ImportIssue, format_issues
from senacs_workbench.restricted.importing.text import fold
from senacs_workbench.restricted.importing.values import NO_WORDS, YES_WORDS
from senacs_workbench.restricted.store import (
    PROVENANCES,
    AnswerChange,
    connect,
    current_answers,
    latest_version,
    structure_row,
    transaction,
    write_version,
)
from senacs_workbench.trust.access import require_raw_access

FIELDS: dict[str, tuple[str, ...]] = {
    "finding": (sheets.COL_FINDING, "finding_id", "numero de constat", "numero constat", "n constat"),
    "year": (sheets.COL_YEAR, "annee", "year"),
    "structure": (sheets.COL_STRUCTURE, "id_structure", "structure", "identifiant"),
    "variable": (sheets.COL_VARIABLE, "variable", "code question", "question code"),
    "right": (sheets.COL_RIGHT, "valeur juste", "juste"),
    "new": (sheets.COL_NEW, "valeur corrigee", "nouvelle valeur", "new_value"),
    "why": (sheets.COL_WHY, "explications", "explication", "motif", "why", "commentaire"),
}


class CorrectionsFileError(SenacsError):
    """A corrections file with problems: nothing was applied. ``issues`` lists them all."""

    def __init__(self, file: str, issues: list[ImportIssue]) -> None:
        self.file = file
        self.issues = issues
        super().__init__(
            f"Fichier de corrections refusé : {file} contient {len(issues)} problème(s) ; aucune correction "
            f"n'a été appliquée.\n{format_issues(issues)}",
            file=file,
            line=issues[0].line if issues else None,
            column=issues[0].column if issues else None,
        )


@dataclass(frozen=True)
class CorrectionsImportReport:
    file: str
    version: int | None
    corrected_values: int
    corrected_findings: tuple[int, ...]
    confirmed_findings: tuple[int, ...]
    message_fr: str
    unanswered_rows: int = 0
    years: tuple[int, ...] = field(default_factory=tuple)


@dataclass
class _Row:
    line: int
    cells: dict[str, Any]


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _map_headers(row: list[Any]) -> dict[str, int]:
    """Field -> column: exact canonical headers first, then aliases (each column used once)."""
    folded = [fold(_text(cell)) for cell in row]
    mapped: dict[str, int] = {}
    for key, candidates in FIELDS.items():
        if fold(candidates[0]) in folded:
            mapped[key] = folded.index(fold(candidates[0]))
    for key, candidates in FIELDS.items():
        if key in mapped:
            continue
        for col, text in enumerate(folded):
            if text and col not in mapped.values() and any(text == fold(c) for c in candidates[1:]):
                mapped[key] = col
                break
    return mapped


def _rows_from_grid(grid: list[list[Any]], first_line: int = 1) -> tuple[list[_Row], dict[str, int], int | None]:
    for index, row in enumerate(grid):
        mapped = _map_headers(row)
        if "structure" in mapped or "finding" in mapped:
            rows = []
            for offset, values in enumerate(grid[index + 1 :], start=index + 1 + first_line):
                cells = {k: (values[c] if c < len(values) else None) for k, c in mapped.items()}
                if all(_text(v) == "" for v in cells.values()):
                    continue
                rows.append(_Row(offset, cells))
            return rows, mapped, index + first_line
    return [], {}, None


def read_corrections_file(path: Path) -> tuple[list[_Row], dict[str, str]]:
    """The data rows (with their spreadsheet line numbers) and the header text of each field."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book["Questions"] if "Questions" in book.sheetnames else book.worksheets[0]
            grid = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    elif suffix in (".csv", ".txt"):
        text = path.read_bytes().decode("utf-8-sig")
        first = text.splitlines()[0] if text else ""
        delimiter = max(";,\t", key=first.count) if first else ";"
        grid = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    else:
        raise CorrectionsFileError(
            path.name, [ImportIssue(path.name, "format non pris en charge (XLSX ou CSV attendu)")]
        )
    rows, mapped, header_line = _rows_from_grid(grid)
    if header_line is None:
        raise CorrectionsFileError(
            path.name,
            [
                ImportIssue(
                    path.name,
                    f"en-tête introuvable : colonnes « {sheets.COL_FINDING} » ou « {sheets.COL_STRUCTURE} » attendues",
                )
            ],
        )
    header_row = grid[header_line - 1]
    headers = {k: _text(header_row[c]) for k, c in mapped.items()}
    return rows, headers


def import_corrections(
    workspace: Workspace,
    path: Path,
    *,
    year: int | None = None,
    source: str = "centre",
    exchange: str | None = None,
    user: str | None = None,
) -> CorrectionsImportReport:
    """Apply a filled question sheet (or a corrections CSV): all or nothing."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise CorrectionsFileError(name, [ImportIssue(name, f"fichier introuvable ({path})")])
    if source not in PROVENANCES:
        raise CorrectionsFileError(
            name, [ImportIssue(name, f"origine « {source} » inconnue (centre, caf ou federation)")]
        )
    rows, headers = read_corrections_file(path)
    exchange = exchange or f"fiche renvoyée : {name}"
    issues: list[ImportIssue] = []

    def problem(row: _Row, key: str | None, rule: str) -> None:
        column = headers.get(key) if key else None
        value = _text(row.cells.get(key)) if key else None
        issues.append(ImportIssue(file=name, rule=rule, line=row.line, column=column, value=value))

    years: set[int] = set()
    parsed_rows: list[dict[str, Any]] = []
    for row in rows:
        row_year = year
        if _text(row.cells.get("year")):
            try:
                row_year = int(float(_text(row.cells.get("year"))))
            except ValueError:
                problem(row, "year", "campagne illisible (année attendue)")
                continue
        if row_year is None:
            problem(row, None, "campagne inconnue : ajoutez la colonne « Campagne » ou indiquez --year")
            continue
        try:
            codebook = load_codebook(row_year)
        except ValueError as exc:
            problem(row, "year", str(exc))
            continue
        years.add(row_year)
        finding_text = _text(row.cells.get("finding"))
        finding_id = None
        if finding_text:
            try:
                finding_id = int(float(finding_text))
            except ValueError:
                problem(row, "finding", "numéro de constat illisible")
                continue
        structure = _text(row.cells.get("structure"))
        variable = _text(row.cells.get("variable"))
        right = fold(_text(row.cells.get("right")))
        new = row.cells.get("new")
        has_new = _text(new) != ""
        why = _text(row.cells.get("why"))
        if not structure:
            problem(row, "structure", "identifiant de structure manquant")
            continue
        if not variable:
            problem(row, "variable", "question (code) manquante")
            continue
        if variable not in codebook:
            problem(row, "variable", f"question inconnue du questionnaire {row_year}")
            continue
        if right and right not in YES_WORDS and right not in NO_WORDS:
            problem(row, "right", "réponse Oui ou Non attendue")
            continue
        is_right = right in YES_WORDS
        if is_right and has_new:
            problem(row, "new", "valeur corrigée donnée alors que la valeur déclarée est dite juste (Oui)")
            continue
        if right in NO_WORDS and not has_new:
            problem(row, "new", "la valeur déclarée n'est pas juste (Non) : indiquez la valeur corrigée")
            continue
        if not is_right and not has_new:
            parsed_rows.append({"row": row, "skip": True, "finding": finding_id})
            continue
        parsed = None
        if has_new:
            try:
                parsed = parse_answer(codebook.question(variable), new)
            except AnswerProblem as exc:
                problem(row, "new", str(exc))
                continue
        if finding_id is None and not has_new:
            problem(row, "finding", "numéro de constat manquant pour une confirmation")
            continue
        parsed_rows.append(
            {
                "row": row,
                "skip": False,
                "year": row_year,
                "finding": finding_id,
                "structure": structure,
                "variable": variable,
                "right": is_right,
                "parsed": parsed,
                "why": why,
            }
        )
    if issues:
        raise CorrectionsFileError(name, issues)
    active = [r for r in parsed_rows if not r["skip"]]
    skipped = len(parsed_rows) - len(active)
    if not active:
        return CorrectionsImportReport(
            name,
            None,
            0,
            (),
            (),
            f"{name} : aucune réponse du centre à appliquer ({skipped} ligne(s) sans réponse).",
            skipped,
            tuple(sorted(years)),
        )

    # access: every département concerned, before any write
    with connect(workspace, read_only=True) as con:
        departements: dict[tuple[int, str], str | None] = {}
        for item in active:
            key = (item["year"], item["structure"])
            if key in departements:
                continue
            version = latest_version(con, item["year"])
            found = structure_row(con, item["year"], version, item["structure"])
            if found is None:
                problem(item["row"], "structure", f"structure inconnue dans les données de la campagne {item['year']}")
                departements[key] = None
            else:
                departements[key] = found["departement"]
    if issues:
        raise CorrectionsFileError(name, issues)
    acting = None
    for departement in sorted({str(d) for d in departements.values()}):
        acting = require_raw_access(
            workspace,
            "correct_answer",
            structure_territory(departement),
            details={"file": name, "operation": "import_corrections"},
            user=user,
        )
    assert acting is not None

    when = fs.now()
    with transaction(workspace) as con:
        report = _apply(con, name, active, issues, problem, acting, when, source, exchange)
        if issues:
            raise CorrectionsFileError(name, issues)
    new_version, corrected_values, corrected, confirmed = report
    message = (
        f"{name} appliqué : {corrected_values} valeur(s) corrigée(s)"
        + (f" (version {new_version} des données)" if new_version else "")
        + f", {len(corrected)} constat(s) corrigé(s), {len(confirmed)} confirmé(s)"
        + (f", {skipped} ligne(s) sans réponse laissée(s) en attente" if skipped else "")
        + "."
    )
    return CorrectionsImportReport(
        name, new_version, corrected_values, tuple(corrected), tuple(confirmed), message, skipped, tuple(sorted(years))
    )


def _apply(
    con: Any,
    name: str,
    active: list[dict[str, Any]],
    issues: list[ImportIssue],
    problem: Any,
    acting: str,
    when: Any,
    source: str,
    exchange: str,
) -> tuple[int | None, int, list[int], list[int]]:
    findings: dict[int, dict[str, Any]] = {}
    for item in active:
        fid = item["finding"]
        if fid is None:
            continue
        if fid not in findings:
            try:
                findings[fid] = fs.get_finding(con, fid)
            except fs.FindingError:
                problem(item["row"], "finding", f"le constat n° {fid} n'existe pas")
                continue
        finding = findings[fid]
        if int(finding["year"]) != item["year"] or str(finding["structure_id"]) != item["structure"]:
            problem(
                item["row"],
                "finding",
                f"le constat n° {fid} concerne la structure {finding['structure_id']} (campagne {finding['year']})",
            )
        elif item["variable"] not in str(finding["variables"]).split("|"):
            problem(item["row"], "variable", f"le constat n° {fid} ne porte pas sur cette question")
        elif finding["status"] in fs.CLOSED:
            problem(
                item["row"],
                "finding",
                f"le constat n° {fid} est déjà clos ({fs.STATUS_LABELS[str(finding['status'])]})",
            )
    if issues:
        return None, 0, [], []
    by_year: dict[int, list[AnswerChange]] = {}
    seen: set[tuple[int, str, str]] = set()
    for item in active:
        if item["parsed"] is None:
            continue
        key = (item["year"], item["structure"], item["variable"])
        if key in seen:
            problem(item["row"], "new", "la même réponse est corrigée deux fois dans le fichier")
            continue
        seen.add(key)
        previous = latest_version(con, item["year"])
        old = current_answers(con, item["year"], previous, [(item["structure"], item["variable"])]).get(
            (item["structure"], item["variable"])
        )
        if (old is None and item["parsed"].value is None) or (old is not None and old["value"] == item["parsed"].value):
            item["parsed"] = None  # same value as declared: a confirmation
            continue
        why = item["why"] or "Réponse du centre à la fiche de questions."
        by_year.setdefault(item["year"], []).append(
            AnswerChange(
                item["structure"],
                item["variable"],
                item["parsed"].value,
                item["parsed"].value_num,
                source,
                why,
                exchange,
                item["finding"],
            )
        )
    if issues:
        return None, 0, [], []
    version = None
    versions: dict[int, int] = {}
    for year, changes in sorted(by_year.items()):
        versions[year], _ = write_version(con, year, changes, kind=KIND_CORRECTION, user=acting, when=when)
        version = versions[year]
    corrected: list[int] = []
    confirmed: list[int] = []
    for fid, finding in findings.items():
        items = [i for i in active if i["finding"] == fid]
        notes = "; ".join(i["why"] for i in items if i["why"]) or "Réponse du centre à la fiche de questions."
        if any(i["parsed"] is not None for i in items):
            fs.move(
                con,
                finding,
                fs.CORRECTED,
                acting,
                when,
                note=notes,
                exchange=exchange,
                data_version=versions.get(int(finding["year"])),
            )
            corrected.append(fid)
        else:
            fs.move(con, finding, fs.CONFIRMED, acting, when, note=notes, exchange=exchange)
            confirmed.append(fid)
    return version, sum(len(c) for c in by_year.values()), sorted(corrected), sorted(confirmed)
