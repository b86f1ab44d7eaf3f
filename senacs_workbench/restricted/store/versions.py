"""Every write of a data version: imports, corrections and entries, corrections carried into a new import."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.store.connection import connect, has_data_tables, iso_or_none
from senacs_workbench.restricted.store.schema import (
    ANSWER_COLUMNS,
    CORRECTION_COLUMNS,
    DATA_VERSION_COLUMNS,
    IMPORT_COLUMNS,
    KIND_IMPORT,
    STRUCTURE_COLUMNS,
    StoreError,
    now_utc,
)

PAUSE_BEFORE_COMMIT_ENV = "SENACS_IMPORT_PAUSE_BEFORE_COMMIT"
"""Test hook: seconds to sleep after inserting the answers, before COMMIT (crash tests)."""
PAUSE_MARKER = "senacs-store: pause before commit"


# ---------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ExistingImport:
    import_id: int
    version: int | None
    file_name: str
    imported_at: str | None
    imported_by: str


def find_import(workspace: Workspace, sha256: str, year: int) -> ExistingImport | None:
    """The earlier import of the same file for the same year, if any."""
    if not workspace.store_path.exists():
        return None
    with connect(workspace, read_only=True) as con:
        if not has_data_tables(con):
            return None
        return _find_import(con, sha256, year)


def _find_import(con: duckdb.DuckDBPyConnection, sha256: str, year: int) -> ExistingImport | None:
    row = con.execute(
        """SELECT i.import_id, v.version, i.file_name, i.imported_at, i.imported_by
           FROM imports i LEFT JOIN data_versions v USING (import_id)
           WHERE i.sha256 = ? AND i.year = ?""",
        [sha256, year],
    ).fetchone()
    if row is None:
        return None
    return ExistingImport(int(row[0]), None if row[1] is None else int(row[1]), row[2], iso_or_none(row[3]), row[4])


@dataclass(frozen=True)
class StoredImport:
    import_id: int
    version: int
    structures: int
    answers: int
    already_imported: bool = False
    carried: CarryOver | None = None
    """What the import did with the campaign's earlier corrections (:func:`carry_corrections`)."""


def record_import(
    workspace: Workspace,
    *,
    year: int,
    file_name: str,
    sha256: str,
    archived_path: str,
    user: str,
    structures: pd.DataFrame,
    answers: pd.DataFrame | pa.Table,
    rejected_rows: int = 0,
    kind: str = KIND_IMPORT,
    seen_version: int | None = None,
    keep_others: bool = False,
) -> StoredImport:
    """Store one import as a new data version of ``year``, in a single transaction.

    ``structures``: ``structure_id, nom_structure, code_commune, departement, region, epci,
    respondent``. ``answers`` (DataFrame or Arrow table): ``structure_id, variable, value``
    (null for numbers, formatted here), ``value_num``, ``provenance``. If the same file was
    imported for this year meanwhile, nothing is written and the earlier import is returned with ``already_imported``.
    The campaign's earlier corrections are carried into the new version in the same
    transaction (:func:`carry_corrections`).

    ``keep_others``: a partial update — the new version also holds the previous version's
    structures (and their answers) that ``structures`` does not name. ``seen_version``: the
    latest version the caller compared the file with (0: none); if another write made a newer
    one meanwhile, nothing is written (:class:`StoreError`): the comparison must be made again.
    """
    now = now_utc()
    with connect(workspace) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            existing = _find_import(con, sha256, year)
            if existing is not None:
                con.execute("ROLLBACK")
                return StoredImport(existing.import_id, existing.version or 0, 0, 0, already_imported=True)
            import_id = _scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
            version = _scalar(con, "SELECT coalesce(max(version), 0) + 1 FROM data_versions WHERE year = ?", [year])
            if seen_version is not None and version - 1 != seen_version:
                raise StoreError(
                    f"La campagne {year} a changé pendant l'import (version {version - 1} des données, "
                    f"au lieu de la version {seen_version} comparée au fichier) : rien n'a été enregistré, "
                    "relancez l'import."
                )
            con.execute(
                f"INSERT INTO imports ({', '.join(IMPORT_COLUMNS)}) VALUES ({_marks(IMPORT_COLUMNS)})",
                [import_id, year, file_name, sha256, archived_path, now, user, len(structures), rejected_rows],
            )
            _insert_data_version(con, year, version, import_id, now, user, len(structures), len(answers), kind)
            new_structures = structures.loc[:, [*STRUCTURE_COLUMNS, "respondent"]]
            con.register("new_structures", new_structures)
            con.execute(
                f"""INSERT INTO structures (year, version, {", ".join(STRUCTURE_COLUMNS)}, respondent)
                    SELECT ?, ?, {", ".join(STRUCTURE_COLUMNS)}, respondent FROM new_structures""",
                [year, version],
            )
            con.register("new_answers", answers)
            con.execute(
                f"""INSERT INTO answers ({", ".join(ANSWER_COLUMNS)})
                   SELECT ?, ?, structure_id, variable,
                       coalesce(value, CASE WHEN value_num = trunc(value_num) AND abs(value_num) < 1e15
                                            THEN CAST(CAST(value_num AS BIGINT) AS VARCHAR)
                                            ELSE CAST(value_num AS VARCHAR) END),
                       value_num, provenance, ?, ?, ?
                   FROM (SELECT structure_id, variable, value, value_num, provenance FROM new_answers)""",
                [year, version, user, now, import_id],
            )
            if keep_others and version > 1:
                _keep_other_structures(con, year, version)
            carried = carry_corrections(con, year, version)
            _pause_for_tests()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return StoredImport(import_id, version, len(structures), len(answers), carried=carried)


def _keep_other_structures(con: duckdb.DuckDBPyConnection, year: int, version: int) -> None:
    """Copy into ``version`` the previous version's structures that it lacks, with their answers
    (unchanged rows: provenance, author, date and import stay those of the earlier version)."""
    previous = version - 1
    columns = ", ".join(STRUCTURE_COLUMNS)
    others = f"""structure_id NOT IN (SELECT structure_id FROM structures WHERE year = {int(year)}
                                      AND version = {int(version)})"""
    con.execute(
        f"""INSERT INTO answers ({", ".join(ANSWER_COLUMNS)})
            SELECT year, ?, structure_id, variable, value, value_num, provenance, entered_by, entered_at, import_id
            FROM answers WHERE year = ? AND version = ? AND {others}""",
        [version, year, previous],
    )
    con.execute(
        f"""INSERT INTO structures (year, version, {columns}, respondent)
            SELECT year, ?, {columns}, respondent FROM structures WHERE year = ? AND version = ? AND {others}""",
        [version, year, previous],
    )
    con.execute(
        """UPDATE data_versions SET
               n_structures = (SELECT count(*) FROM structures WHERE year = $year AND version = $version),
               n_answers = (SELECT count(*) FROM answers WHERE year = $year AND version = $version)
           WHERE year = $year AND version = $version""",
        {"year": year, "version": version},
    )


def latest_structures(workspace: Workspace, year: int) -> tuple[int, list[str]]:
    """The latest data version of ``year`` (0: none) and its structure ids, sorted (identity
    only, no answer: the caller has checked the access)."""
    if not workspace.store_path.exists():
        return 0, []
    with connect(workspace, read_only=True) as con:
        if not has_data_tables(con):
            return 0, []
        row = con.execute("SELECT max(version) FROM data_versions WHERE year = ?", [year]).fetchone()
        if row is None or row[0] is None:
            return 0, []
        version = int(row[0])
        ids = con.execute(
            "SELECT structure_id FROM structures WHERE year = ? AND version = ? ORDER BY structure_id",
            [year, version],
        ).fetchall()
    return version, [str(r[0]) for r in ids]


def _marks(columns: Sequence[str]) -> str:
    return ", ".join("?" for _ in columns)


def _insert_data_version(
    con: duckdb.DuckDBPyConnection,
    year: int,
    version: int,
    import_id: int | None,
    when: dt.datetime,
    user: str,
    n_structures: int,
    n_answers: int,
    kind: str,
) -> None:
    con.execute(
        f"INSERT INTO data_versions ({', '.join(DATA_VERSION_COLUMNS)}) VALUES ({_marks(DATA_VERSION_COLUMNS)})",
        [year, version, import_id, when, user, n_structures, n_answers, kind],
    )


# ---------------------------------------------------------------------------- corrections and entries


@dataclass(frozen=True)
class AnswerChange:
    """One answer changed by a correction or an entry (``value`` ``None``: the answer is removed)."""

    structure_id: str
    variable: str
    value: str | None
    value_num: float | None
    provenance: str
    why: str
    exchange: str | None = None
    finding_id: int | None = None


def latest_version(con: duckdb.DuckDBPyConnection, year: int) -> int:
    """The newest data version of ``year`` (inside an open connection)."""
    rows = con.execute("SELECT max(version) FROM data_versions WHERE year = ?", [year]).fetchall()
    if not rows or rows[0][0] is None:
        raise StoreError(f"Aucune donnée importée pour la campagne {year}.")
    return int(rows[0][0])


def structure_row(con: duckdb.DuckDBPyConnection, year: int, version: int, structure_id: str) -> dict[str, Any] | None:
    """One structure of a data version (its identity and geography), or ``None``."""
    frame = con.execute(
        f"SELECT year, version, {', '.join(STRUCTURE_COLUMNS)}, respondent FROM structures "
        "WHERE year = ? AND version = ? AND structure_id = ?",
        [year, version, structure_id],
    ).fetchdf()
    return None if frame.empty else frame.iloc[0].to_dict()


def current_answers(
    con: duckdb.DuckDBPyConnection, year: int, version: int, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored answers of some (structure, variable) pairs in a data version."""
    if not pairs:
        return {}
    wanted = pd.DataFrame(pairs, columns=["structure_id", "variable"])
    con.register("wanted_pairs", wanted)
    try:
        frame = con.execute(
            """SELECT a.structure_id, a.variable, a.value, a.value_num, a.provenance, a.entered_by, a.entered_at
               FROM answers a JOIN wanted_pairs w USING (structure_id, variable)
               WHERE a.year = ? AND a.version = ?""",
            [year, version],
        ).fetchdf()
    finally:
        con.unregister("wanted_pairs")
    return {(r["structure_id"], r["variable"]): r for r in frame.to_dict("records")}


def answers_of_structure(con: duckdb.DuckDBPyConnection, year: int, version: int, structure_id: str) -> pd.DataFrame:
    """One structure's stored answers in a data version: ``variable, value, value_num,
    provenance, entered_by, entered_at`` (the caller has checked the access)."""
    return con.execute(
        """SELECT variable, value, value_num, provenance, entered_by, entered_at FROM answers
           WHERE year = ? AND version = ? AND structure_id = ?""",
        [year, version, structure_id],
    ).fetchdf()


@dataclass(frozen=True)
class AnswerHistory:
    """The raw material of one answer's history (the caller has checked the access)."""

    versions: pd.DataFrame
    """``version, kind, created_at, present`` (is the structure in that version)."""
    answers: pd.DataFrame
    """``version, value, provenance, entered_by, entered_at`` where answered."""
    corrections: pd.DataFrame
    """``version, why, exchange, finding_id`` where a correction or an entry changed it."""


def answer_history(con: duckdb.DuckDBPyConnection, year: int, structure_id: str, variable: str) -> AnswerHistory:
    """Every data version of ``year`` with one structure's answer to ``variable`` and its corrections."""
    versions = con.execute(
        """SELECT v.version, v.kind, v.created_at, s.structure_id IS NOT NULL AS present
           FROM data_versions v LEFT JOIN structures s
             ON s.year = v.year AND s.version = v.version AND s.structure_id = ?
           WHERE v.year = ? ORDER BY v.version""",
        [structure_id, year],
    ).fetchdf()
    answers = con.execute(
        """SELECT version, value, provenance, entered_by, entered_at FROM answers
           WHERE year = ? AND structure_id = ? AND variable = ?""",
        [year, structure_id, variable],
    ).fetchdf()
    corrections = con.execute(
        """SELECT version, why, exchange, finding_id FROM corrections
           WHERE year = ? AND structure_id = ? AND variable = ?""",
        [year, structure_id, variable],
    ).fetchdf()
    return AnswerHistory(versions, answers, corrections)


def corrections_log(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """The corrections and entries made to ``year``, oldest first: ``structure_id, variable,
    new_value, provenance``."""
    return con.execute(
        "SELECT structure_id, variable, new_value, provenance FROM corrections WHERE year = ? ORDER BY correction_id",
        [year],
    ).fetchdf()

def write_version(
    con: duckdb.DuckDBPyConnection,
    year: int,
    changes: Sequence[AnswerChange],
    *,
    kind: str,
    user: str,
    when: dt.datetime,
) -> tuple[int, int]:
    """Write a new complete version of ``year`` with ``changes`` (inside the caller's transaction).

    The previous version's structures and answers are copied, the changed (structure, variable)
    rows replaced, each change logged in ``corrections``; a touched structure is a respondent
    when it answers a question outside the identity block.
    Returns ``(new_version, previous_version)``.
    """
    previous = latest_version(con, year)
    version = previous + 1
    pairs = [(c.structure_id, c.variable) for c in changes]
    if len(set(pairs)) != len(pairs):
        raise StoreError("La même réponse est modifiée deux fois dans une même opération.")
    old = current_answers(con, year, previous, pairs)
    changed = pd.DataFrame(pairs, columns=["structure_id", "variable"])
    columns = ", ".join(STRUCTURE_COLUMNS)
    answer_columns = ", ".join(ANSWER_COLUMNS)
    con.register("changed_pairs", changed)
    try:
        con.execute(
            f"""INSERT INTO structures (year, version, {columns}, respondent)
                SELECT year, ?, {columns}, respondent FROM structures WHERE year = ? AND version = ?""",
            [version, year, previous],
        )
        con.execute(
            f"""INSERT INTO answers ({answer_columns})
                SELECT a.year, ?, a.structure_id, a.variable, a.value, a.value_num, a.provenance, a.entered_by,
                       a.entered_at, a.import_id
                FROM answers a ANTI JOIN changed_pairs c USING (structure_id, variable)
                WHERE a.year = ? AND a.version = ?""",
            [version, year, previous],
        )
    finally:
        con.unregister("changed_pairs")
    correction_id = _scalar(con, "SELECT coalesce(max(correction_id), 0) + 1 FROM corrections")
    for offset, change in enumerate(changes):
        before = old.get((change.structure_id, change.variable))
        if change.value is not None:
            con.execute(
                f"INSERT INTO answers ({', '.join(ANSWER_COLUMNS)}) VALUES ({_marks(ANSWER_COLUMNS)})",
                [year, version, change.structure_id, change.variable, change.value, change.value_num,
                 change.provenance, user, when, None],
            )
        con.execute(
            f"INSERT INTO corrections ({', '.join(CORRECTION_COLUMNS)}) VALUES ({_marks(CORRECTION_COLUMNS)})",
            [
                correction_id + offset, year, version, previous, change.structure_id, change.variable,
                None if before is None else before["value"], change.value,
                None if before is None else before["provenance"], change.provenance, user, when,
                change.why, change.exchange, change.finding_id, kind,
            ],
        )
    touched = sorted({c.structure_id for c in changes})
    respondent_questions = list(load_codebook(year).respondent_questions)
    con.execute(
        """UPDATE structures s SET respondent = EXISTS (
               SELECT 1 FROM answers a WHERE a.year = s.year AND a.version = s.version
                 AND a.structure_id = s.structure_id AND a.variable IN (SELECT unnest(?)))
           WHERE s.year = ? AND s.version = ? AND s.structure_id IN (SELECT unnest(?))""",
        [respondent_questions, year, version, touched],
    )
    counts = con.execute(
        """SELECT (SELECT count(*) FROM structures WHERE year = ? AND version = ?),
                  (SELECT count(*) FROM answers WHERE year = ? AND version = ?)""",
        [year, version, year, version],
    ).fetchall()[0]
    _insert_data_version(con, year, version, None, when, user, int(counts[0]), int(counts[1]), kind)
    return version, previous


@dataclass(frozen=True)
class CarryOver:
    """What a new import did with the campaign's earlier corrections."""

    carried: int = 0
    superseded: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # file brings a third value
    gone: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # structure absent from the file

    def message_fr(self) -> str:
        parts = []
        if self.carried:
            parts.append(f"{self.carried} correction(s) ou saisie(s) des versions précédentes reprise(s) "
                         "(le fichier portait encore la valeur corrigée)")
        if self.superseded:
            sample = ", ".join(f"{s} / {v}" for s, v in self.superseded[:5])
            parts.append(f"{len(self.superseded)} réponse(s) corrigée(s) que le nouveau fichier modifie à nouveau "
                         f"(valeur du fichier gardée, à vérifier : {sample}{'…' if len(self.superseded) > 5 else ''})")
        if self.gone:
            parts.append(f"{len(self.gone)} correction(s) sur des structures absentes du nouveau fichier")
        return " ; ".join(parts)


_LATEST_CORRECTIONS = """
    SELECT c.structure_id, c.variable, c.version, c.old_value, c.new_value,
           a.value AS file_value, s.structure_id IS NOT NULL AS present
    FROM (SELECT structure_id, variable, version, old_value, new_value FROM corrections WHERE year = $year
          QUALIFY row_number() OVER (PARTITION BY structure_id, variable
                                     ORDER BY version DESC, correction_id DESC) = 1) AS c
    LEFT JOIN answers AS a
           ON a.year = $year AND a.version = $version
          AND a.structure_id = c.structure_id AND a.variable = c.variable
    LEFT JOIN structures AS s
           ON s.year = $year AND s.version = $version AND s.structure_id = c.structure_id
    ORDER BY c.structure_id, c.variable
"""


def carry_corrections(con: duckdb.DuckDBPyConnection, year: int, version: int) -> CarryOver:
    """Carry the campaign's corrections into the new import's ``version`` (inside its transaction).

    For each (structure, question), the latest correction of the campaign is compared with the
    new file's answer: the file still has the value that was corrected → the correction's row
    (value, provenance, author, date) is carried into the new version; the file has the
    corrected value → nothing to do; a third value → the file wins and the answer is reported;
    the structure is gone → reported.
    """
    rows = con.execute(_LATEST_CORRECTIONS, {"year": year, "version": version}).fetchall()
    carried = 0
    superseded: list[tuple[str, str]] = []
    gone: list[tuple[str, str]] = []
    for structure_id, variable, corrected_in, old_value, new_value, file_value, present in rows:
        if not present:
            gone.append((structure_id, variable))
            continue
        if file_value == new_value:
            continue
        if file_value != old_value:
            superseded.append((structure_id, variable))
            continue
        where = [year, version, structure_id, variable]
        con.execute("DELETE FROM answers WHERE year = ? AND version = ? AND structure_id = ? AND variable = ?", where)
        con.execute(
            f"""INSERT INTO answers ({", ".join(ANSWER_COLUMNS)})
               SELECT year, ?, structure_id, variable, value, value_num, provenance, entered_by, entered_at, import_id
               FROM answers WHERE year = ? AND version = ? AND structure_id = ? AND variable = ?""",
            [version, year, corrected_in, structure_id, variable],
        )
        carried += 1
    if carried:
        con.execute(
            """UPDATE data_versions SET n_answers = (SELECT count(*) FROM answers WHERE year = $year
                                                      AND version = $version)
               WHERE year = $year AND version = $version""",
            {"year": year, "version": version},
        )
    return CarryOver(carried, tuple(superseded), tuple(gone))


def _scalar(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> int:
    row = con.execute(query, params or []).fetchone()
    return int(row[0]) if row else 0


def _pause_for_tests() -> None:
    pause = os.environ.get(PAUSE_BEFORE_COMMIT_ENV)
    if pause:
        print(PAUSE_MARKER, file=sys.stderr, flush=True)
        time.sleep(float(pause))
