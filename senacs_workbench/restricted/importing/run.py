"""The import transaction: check access, read, map, parse, validate, archive, store.

Nothing is archived nor stored unless the file passes (or, with ``partial=True``, unless at
least one row passes). The archive is content-addressed (``restricted/imports/<sha256>.<ext>``,
read-only); the store write is one DuckDB transaction.

Only what cannot be read refuses the file (or, with ``partial``, drops the row): a broken file,
an unknown column, text in a number, an unknown category, a structure that cannot be placed.
A value that is read but breaks the codebook's bounds is stored as entered, blank for every
aggregate (:mod:`senacs_workbench.restricted.store.bounds`) and counted in the outcome
(``out_of_bounds``); a required answer left blank is stored as missing (``missing_required``);
:func:`senacs_workbench.restricted.intake.import_file` (what the CLI and the demo call) then
raises both as error findings of the coherence check, so that the centre is questioned; its
other answers count. This package does not reach into ``coherence/``.

A file that lacks structures of the campaign's current version is refused, naming them,
unless the user says what it is: ``mode="replace"`` (the new version is the file: the others
leave) or ``mode="update"`` (the new version is the previous one with the file's structures
replaced or added).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook, available_years, load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace, write_bytes_atomic
from senacs_workbench.restricted import store
from senacs_workbench.restricted.importing.headers import ResolvedColumns, header_keys, load_mapping, resolve_headers
from senacs_workbench.restricted.importing.issues import ImportIssue, ImportRejected
from senacs_workbench.restricted.importing.reading import RawTable, read_table
from senacs_workbench.restricted.importing.validation import validate
from senacs_workbench.restricted.importing.values import PROVENANCE_PREFIX, cell_text, parse_table
from senacs_workbench.trust.access import require_raw_access

ARCHIVE_MODE = 0o400
MODES = ("replace", "update")
"""What a file that lacks structures of the current version is: the whole campaign, or an update."""
LISTED = 20
"""How many structure ids a message lists before « … »."""


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did (``message_fr`` says it in French)."""

    version: int
    rows: int
    structures: int
    answers: int
    already_imported: bool
    rejects_path: Path | None
    message_fr: str
    year: int = 0
    sha256: str = ""
    archived_path: Path | None = None
    rejected_rows: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    out_of_bounds: int = 0
    """Answers stored as entered but outside the codebook's bounds (excluded, questioned)."""
    missing_required: int = 0
    """Required answers left blank: stored as missing, questioned (the rest of the row counts)."""
    removed: tuple[str, ...] = ()
    """Structures of the previous version that the new one no longer has (``mode="replace"``)."""
    kept: int = 0
    """Structures of the previous version kept unchanged (``mode="update"``)."""


def import_file(
    workspace: Workspace,
    path: Path,
    year: int,
    *,
    mapping: Path | None = None,
    partial: bool = False,
    user: str | None = None,
    mode: str | None = None,
) -> ImportOutcome:
    """Import one export file as a new data version of campaign ``year``.

    ``mode``: ``None`` (a file lacking structures of the current version is refused),
    ``"replace"`` or ``"update"`` (see the module docstring).
    Raises :class:`ImportRejected` (French report of every problem) when the file is refused,
    :class:`~senacs_workbench.core.errors.AccessDenied` when the user may not import.
    """
    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    path = Path(path)
    territory = workspace.territory
    details: dict[str, object] = {"file": path.name, "year": year, "partial": partial}
    if mode is not None:
        details["mode"] = mode
    user = require_raw_access(workspace, "import", territory, details=details, user=user)
    if year not in available_years():
        known = ", ".join(str(y) for y in available_years())
        rule = f"aucun questionnaire pour la campagne {year} (campagnes connues : {known})"
        raise ImportRejected(path.name, [ImportIssue(file=path.name, rule=rule)])
    codebook = load_codebook(year)
    column_mapping = load_mapping(mapping, codebook)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRejected(path.name, [ImportIssue(file=path.name, rule=f"fichier introuvable ({path})")]) from None
    sha256 = hashlib.sha256(data).hexdigest()

    existing = store.find_import(workspace, sha256, year)
    if existing is not None:
        return _already(path, year, sha256, existing.version or 0, existing.imported_at, existing.imported_by)

    table = read_table(path, header_keys(codebook, column_mapping), data=data)
    if table.frame.empty:
        raise ImportRejected(
            path.name,
            [ImportIssue(file=path.name, line=table.header_line, rule="aucune ligne de données sous l'en-tête")],
        )
    columns = resolve_headers(table, codebook, column_mapping)
    parsed = parse_table(table, columns, codebook)
    issues = list(parsed.issues)
    reported = {(i.row, i.column) for i in issues}
    checked = validate(parsed.frame, table, columns, codebook, territory)
    issues += [i for i in checked if (i.row, i.column) not in reported]
    issues.sort(key=lambda i: (i.line or 0, i.column or ""))
    questioned = [i for i in issues if i.bounds]
    unanswered = [i for i in issues if i.required]
    issues = [i for i in issues if not (i.bounds or i.required)]

    bad_rows = sorted({i.row for i in issues if i.row is not None})
    if issues and (not partial or any(i.row is None for i in issues)):
        raise ImportRejected(path.name, issues)
    if len(bad_rows) == len(table.frame):
        summary = f"Import refusé : aucune ligne valide dans {path.name} ; rien n'a été enregistré."
        raise ImportRejected(path.name, issues, summary=summary)

    keep = np.ones(len(table.frame), dtype=bool)
    keep[bad_rows] = False
    frame = parsed.frame.loc[keep]
    questioned = [i for i in questioned if i.row is not None and keep[i.row]]
    unanswered = [i for i in unanswered if i.row is not None and keep[i.row]]
    structures = _structures(frame, codebook)
    answers = _answers(frame, codebook)
    seen_version, missing = _missing_structures(workspace, year, structures)
    if missing and mode is None:
        raise ImportRejected(path.name, [], summary=_missing_message(path.name, year, seen_version, missing))

    archived = _archive(workspace, path, data, sha256)
    rejects_path = _write_rejects(workspace, table, columns, issues, bad_rows, sha256, year) if bad_rows else None
    keep_others = bool(missing) and mode == "update"
    kind = store.KIND_UPDATE_IMPORT if keep_others else store.KIND_PARTIAL_IMPORT if bad_rows else store.KIND_IMPORT
    stored = store.record_import(
        workspace,
        year=year,
        file_name=path.name,
        sha256=sha256,
        archived_path=str(archived.relative_to(workspace.root)),
        user=user,
        structures=structures,
        answers=answers,
        rejected_rows=len(bad_rows),
        kind=kind,
        seen_version=seen_version,
        keep_others=keep_others,
    )
    if stored.already_imported:
        return _already(path, year, sha256, stored.version, None, None)

    warnings = list(table.notes)
    if columns.missing_questions:
        warnings.append(
            f"{len(columns.missing_questions)} question(s) absente(s) du fichier, considérée(s) sans réponse : "
            + ", ".join(columns.missing_questions)
        )
    if columns.ignored:
        warnings.append(f"colonne(s) ignorée(s) : {', '.join(columns.ignored)}")
    message = (
        f"{path.name} importé pour la campagne {year} : version {stored.version} des données, "
        f"{format_number(stored.structures)} structure(s), {format_number(stored.answers)} réponse(s)."
    )
    if bad_rows:
        message += (
            f" {format_number(len(bad_rows))} ligne(s) rejetée(s) ({format_number(len(issues))} problème(s)), "
            f"détail dans {rejects_path}."
        )
    if missing and mode == "replace":
        message += (
            f" {format_number(len(missing))} structure(s) de la version {seen_version} absente(s) du fichier "
            f"quitte(nt) la campagne (--replace) : {_listed(missing)}."
        )
    if keep_others:
        message += (
            f" Mise à jour partielle (--update) : {format_number(len(missing))} structure(s) absente(s) du fichier "
            f"gardée(s) telles qu'en version {seen_version}."
        )
    if questioned:
        message += _questioned(
            questioned, "valeur(s) hors des limites du questionnaire enregistrée(s) telles que saisies, exclue(s) de "
            "tous les agrégats et signalée(s) comme constat(s) de gravité erreur (senacs findings list) pour "
            "interroger le centre")
    if unanswered:
        message += _questioned(
            unanswered, "réponse(s) obligatoire(s) manquante(s), enregistrée(s) sans réponse et signalée(s) comme "
            "constat(s) de gravité erreur (senacs findings list) pour interroger le centre ; les autres réponses de "
            "ces structures comptent")
    carried = stored.carried
    if carried is not None and carried.message_fr():
        message += " Corrections : " + carried.message_fr() + "."
    if warnings:
        message += " Avertissements : " + " ; ".join(warnings) + "."
    return ImportOutcome(
        version=stored.version,
        rows=len(table.frame),
        structures=stored.structures,
        answers=stored.answers,
        already_imported=False,
        rejects_path=rejects_path,
        message_fr=message,
        year=year,
        sha256=sha256,
        archived_path=archived,
        rejected_rows=len(bad_rows),
        warnings=tuple(warnings),
        out_of_bounds=len(questioned),
        missing_required=len(unanswered),
        removed=tuple(missing) if mode == "replace" else (),
        kept=len(missing) if keep_others else 0,
    )


def _missing_structures(workspace: Workspace, year: int, structures: pd.DataFrame) -> tuple[int, list[str]]:
    """The campaign's latest version (0: none) and its structures that ``structures`` lacks."""
    version, previous = store.latest_structures(workspace, year)
    present = set(structures["structure_id"].astype(str))
    return version, [s for s in previous if s not in present]


def _questioned(issues: Sequence[ImportIssue], what: str) -> str:
    """One sentence of the import message: how many answers are questioned, and the first ones."""
    listed = " ; ".join(i.message() for i in issues[:LISTED]) + (" ; …" if len(issues) > LISTED else "")
    return f" {format_number(len(issues))} {what} : {listed}."


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED])
    return shown + (f", … ({format_number(len(ids) - LISTED)} autre(s))" if len(ids) > LISTED else "")


def _missing_message(file: str, year: int, version: int, missing: list[str]) -> str:
    return (
        f"Import refusé : {file} ne contient pas {format_number(len(missing))} structure(s) présente(s) dans "
        f"la version {version} des données de la campagne {year} : {_listed(missing)}. Rien n'a été enregistré. "
        "Dites ce qu'est ce fichier : --replace s'il remplace toute la campagne (ces structures en sortiront), "
        "--update s'il ne met à jour que ses structures (les autres sont gardées telles quelles)."
    )


def _already(
    path: Path, year: int, sha256: str, version: int, imported_at: str | None, imported_by: str | None
) -> ImportOutcome:
    when = f" le {imported_at[:10]}" if imported_at else ""
    who = f" par {imported_by}" if imported_by else ""
    return ImportOutcome(
        version=version,
        rows=0,
        structures=0,
        answers=0,
        already_imported=True,
        rejects_path=None,
        message_fr=(
            f"{path.name} a déjà été importé pour la campagne {year}{when}{who} (version {version} des données, "
            f"empreinte sha256 {sha256[:12]}…) : rien n'a changé."
        ),
        year=year,
        sha256=sha256,
    )


def _structures(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    communes = geo.communes(with_arrondissements=True).set_index("code")
    out = pd.DataFrame(
        {
            "structure_id": frame["id_structure"].astype(object),
            "nom_structure": frame["nom_structure"].astype(object),
            "code_commune": frame["code_commune"].astype(object),
        }
    )
    out["departement"] = out["code_commune"].map(communes["departement"]).astype(object)
    out["region"] = out["code_commune"].map(communes["region"]).astype(object)
    epci = out["code_commune"].map(communes["epci"]).astype(object)
    out["epci"] = epci.where(epci.notna() & (epci != ""), None)
    out["respondent"] = codebook.respondents(frame).astype(bool)
    return out.reset_index(drop=True)


def _answers(frame: pd.DataFrame, codebook: Codebook) -> pa.Table:
    """Long form: one row per answered question, with the section's provenance (an Arrow table
    ``structure_id, variable, value, value_num, provenance``; ``value`` is null for numbers)."""
    ids = frame["id_structure"].to_numpy(dtype=object)
    structure_ids: list[np.ndarray] = []
    variables: list[np.ndarray] = []
    texts: list[np.ndarray] = []
    numbers: list[np.ndarray] = []
    provenances: list[np.ndarray] = []
    for question in codebook.questions:
        column = frame[question.id].to_numpy()
        answered = ~pd.isna(column)
        count = int(answered.sum())
        if not count:
            continue
        numeric = question.type.is_numeric
        structure_ids.append(ids[answered])
        variables.append(np.full(count, question.id, dtype=object))
        texts.append(np.full(count, None, dtype=object) if numeric else column[answered].astype(object))
        numbers.append(column[answered].astype(float) if numeric else np.full(count, np.nan))
        provenances.append(frame[PROVENANCE_PREFIX + question.section].to_numpy(dtype=object)[answered])

    def strings(parts: list[np.ndarray]) -> pa.Array:
        return pa.array(np.concatenate(parts) if parts else np.array([], dtype=object), type=pa.string())

    return pa.table(
        {
            "structure_id": strings(structure_ids),
            "variable": strings(variables),
            "value": strings(texts),
            "value_num": pa.array(np.concatenate(numbers) if numbers else np.array([]), type=pa.float64(),
                                  from_pandas=True),
            "provenance": strings(provenances),
        }
    )


def _archive(workspace: Workspace, path: Path, data: bytes, sha256: str) -> Path:
    """Keep the file unchanged, content-addressed and read-only, under ``restricted/imports/``."""
    suffix = path.suffix.lower() if path.suffix and len(path.suffix) <= 6 else ""
    target = workspace.archive_dir / f"{sha256}{suffix}"
    if not target.exists():
        write_bytes_atomic(target, data, mode=ARCHIVE_MODE)
    return target


def _write_rejects(
    workspace: Workspace,
    table: RawTable,
    columns: ResolvedColumns,
    issues: list[ImportIssue],
    bad_rows: list[int],
    sha256: str,
    year: int,
) -> Path:
    """A French CSV beside the archive: one line per rejected row, its reasons, its cells."""
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        if issue.row is not None:
            where = f"colonne « {issue.column} »" if issue.column else "ligne"
            value = f" : valeur « {issue.value} »" if issue.value is not None else ""
            reasons.setdefault(issue.row, []).append(f"{where}{value} — {issue.rule}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["ligne", "id_structure", "motifs", *table.columns])
    key_position = columns.positions.get("id_structure")
    for row in bad_rows:
        cells = ["" if c is None else cell_text(c) for c in table.frame.iloc[row].tolist()]
        structure = cells[key_position] if key_position is not None else ""
        writer.writerow([int(table.lines[row]), structure, " | ".join(reasons.get(row, [])), *cells])
    target = workspace.archive_dir / f"{sha256}.{year}.rejets.csv"
    if target.exists():
        os.chmod(target, 0o600)
    write_bytes_atomic(target, buffer.getvalue().encode("utf-8-sig"), mode=0o600)
    return target
