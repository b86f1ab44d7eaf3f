"""The restricted store: a DuckDB database at ``workspace.store_path``.

Tables:

- ``imports``: one row per imported file (sha256, archived path, who, when, rows kept).
- ``data_versions``: per campaign year, versions 1, 2, … Each version is a complete snapshot
  of the year's answers; the first comes from an import, later ones from a new import or
  (later issues) from corrections. Versions are never changed nor deleted.
- ``structures``: the structures of each (year, version), with their geography.
- ``answers``: long form, one row per (year, version, structure, variable) answered, with
  the canonical text ``value`` (category codes, ``oui``/``non``, sorted ``|``-joined codes,
  ISO dates, numbers), ``value_num`` for numbers, and the provenance: who entered it
  (``centre``/``caf``/``federation``), the user who imported or entered it, when, and from
  which import. Append-only.
- ``corrections``: one row per answer changed by a correction or an entry (old and new value,
  who, when, why, from which exchange or finding).
- ``coherence_runs``, ``coherence_findings``, ``coherence_events``: the coherence check's runs,
  findings and their workflow events (written by ``restricted/coherence``, created here).
- ``meta``: ``schema_version``, read at every connection: an older schema is migrated (one
  transaction, see :data:`MIGRATIONS`), a newer one refused (:class:`SchemaTooNew`).

This module creates every table and writes every data version (imports, corrections and
entries, corrections carried into a new import); inserts name their columns.

Connections are opened briefly (one transaction for a write, read-only for reads) so that
several processes can use the workspace one after another. :class:`RawDataStore` is the only
way code reads raw answers: every read goes through :func:`access.require_raw_access`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import QuestionType, available_years, load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.trust.access import require_raw_access

SCHEMA_VERSION = 2
"""1: imports, data versions, structures, answers (coherence tables created by the coherence
package when first used). 2: the store creates the coherence and corrections tables itself."""
LOCK_TIMEOUT_ENV = "SENACS_STORE_LOCK_TIMEOUT"
PAUSE_BEFORE_COMMIT_ENV = "SENACS_IMPORT_PAUSE_BEFORE_COMMIT"
"""Test hook: seconds to sleep after inserting the answers, before COMMIT (crash tests)."""
PAUSE_MARKER = "senacs-store: pause before commit"

KIND_IMPORT = "import"
KIND_PARTIAL_IMPORT = "partial_import"
PROVENANCES = ("centre", "caf", "federation")
IDENTITY_SECTION = "identite"

_DDL = (
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        archived_path VARCHAR NOT NULL,
        imported_at TIMESTAMP NOT NULL,
        imported_by VARCHAR NOT NULL,
        rows INTEGER NOT NULL,
        rejected_rows INTEGER NOT NULL DEFAULT 0,
        UNIQUE (sha256, year))""",
    """CREATE TABLE IF NOT EXISTS data_versions (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        import_id INTEGER,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        n_structures INTEGER NOT NULL,
        n_answers BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        PRIMARY KEY (year, version))""",
    """CREATE TABLE IF NOT EXISTS structures (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        nom_structure VARCHAR,
        code_commune VARCHAR,
        departement VARCHAR,
        region VARCHAR,
        epci VARCHAR,
        respondent BOOLEAN NOT NULL,
        PRIMARY KEY (year, version, structure_id))""",
    """CREATE TABLE IF NOT EXISTS answers (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        variable VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        value_num DOUBLE,
        provenance VARCHAR NOT NULL,
        entered_by VARCHAR NOT NULL,
        entered_at TIMESTAMP NOT NULL,
        import_id INTEGER)""",
)

_COHERENCE_DDL = (
    """CREATE TABLE IF NOT EXISTS coherence_runs (
        run_id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        territory VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        run_at TIMESTAMP NOT NULL,
        run_by VARCHAR NOT NULL,
        found INTEGER NOT NULL,
        new_findings INTEGER NOT NULL,
        closed_findings INTEGER NOT NULL,
        seconds DOUBLE NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS coherence_findings (
        finding_id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        nom_structure VARCHAR,
        departement VARCHAR,
        region VARCHAR,
        rule_id VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        family VARCHAR,
        variables VARCHAR NOT NULL,
        values_json VARCHAR NOT NULL,
        values_text VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        question VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        detected_version INTEGER,
        last_seen_version INTEGER,
        run_id INTEGER,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        updated_by VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS coherence_events (
        event_id INTEGER PRIMARY KEY,
        finding_id INTEGER NOT NULL,
        event_at TIMESTAMP NOT NULL,
        by_user VARCHAR NOT NULL,
        from_status VARCHAR,
        to_status VARCHAR NOT NULL,
        note VARCHAR,
        exchange VARCHAR,
        data_version INTEGER)""",
    """CREATE TABLE IF NOT EXISTS corrections (
        correction_id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        previous_version INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        variable VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR,
        old_provenance VARCHAR,
        provenance VARCHAR NOT NULL,
        entered_by VARCHAR NOT NULL,
        entered_at TIMESTAMP NOT NULL,
        why VARCHAR NOT NULL,
        exchange VARCHAR,
        finding_id INTEGER,
        kind VARCHAR NOT NULL)""",
)
"""Created by the store since schema 2 (by ``coherence/findings.py`` on first use before)."""

SCHEMA_DDL = (*_DDL, *_COHERENCE_DDL)
"""Every table of the current schema."""

STRUCTURE_COLUMNS = ("structure_id", "nom_structure", "code_commune", "departement", "region", "epci")
ANSWER_COLUMNS = (
    "year", "version", "structure_id", "variable", "value", "value_num",
    "provenance", "entered_by", "entered_at", "import_id",
)
IMPORT_COLUMNS = (
    "import_id", "year", "file_name", "sha256", "archived_path", "imported_at", "imported_by", "rows",
    "rejected_rows",
)
DATA_VERSION_COLUMNS = (
    "year", "version", "import_id", "created_at", "created_by", "n_structures", "n_answers", "kind",
)
CORRECTION_COLUMNS = (
    "correction_id", "year", "version", "previous_version", "structure_id", "variable", "old_value",
    "new_value", "old_provenance", "provenance", "entered_by", "entered_at", "why", "exchange",
    "finding_id", "kind",
)


class StoreError(SenacsError):
    """The store is missing, locked, or has no data for the request."""


class SchemaTooNew(StoreError):
    """The store was written by a newer workbench (a schema version this one does not know)."""

    def __init__(self, workspace: Workspace, found: int, supported: int) -> None:
        super().__init__(
            f"L'espace de travail {workspace.root} a été écrit par une version plus récente du workbench "
            f"(schéma de la base : version {found} ; ce workbench connaît au plus la version {supported}). "
            "Mettez à jour senacs-workbench avant de l'ouvrir ; rien n'a été modifié.",
            file=str(workspace.store_path),
            found_version=found,
            supported_version=supported,
        )
        self.found_version = found
        self.supported_version = supported


# ---------------------------------------------------------------------------- schema


def _migrate_1_to_2(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 2: the coherence and corrections tables belong to the store (absent from a
    version-1 workspace where no coherence check nor correction was ever run)."""
    for statement in _COHERENCE_DDL:
        con.execute(statement)


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {1: _migrate_1_to_2}
"""``MIGRATIONS[n]`` turns a schema-``n`` store into a schema ``n + 1`` one (inside the
caller's transaction)."""


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's recorded schema version (``None`` for a store with no table yet)."""
    if not has_table(con, "meta"):
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row[0])


def _ensure_schema(con: duckdb.DuckDBPyConnection, workspace: Workspace) -> None:
    """Create a new store's tables, or migrate an older one, in one transaction; refuse a newer one."""
    version = schema_version(con)
    if version == SCHEMA_VERSION:
        return
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaTooNew(workspace, version, SCHEMA_VERSION)
    con.execute("BEGIN TRANSACTION")
    try:
        if version is None:
            for statement in SCHEMA_DDL:
                con.execute(statement)
            con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        else:
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](con)
                con.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
                    [f"migrated_{step}_to_{step + 1}", _now().isoformat()],
                )
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# ---------------------------------------------------------------------------- connections


def _open(workspace: Workspace, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting (up to ``$SENACS_STORE_LOCK_TIMEOUT`` s) for another process's lock."""
    path = workspace.store_path
    deadline = time.monotonic() + float(os.environ.get(LOCK_TIMEOUT_ENV, "60"))
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreError(
                    f"La base {path} est inaccessible (utilisée par un autre processus ?) : {exc}", file=str(path)
                ) from exc
            time.sleep(0.1)


@contextmanager
def connect(workspace: Workspace, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to a store at the current schema.

    Waits (up to ``$SENACS_STORE_LOCK_TIMEOUT`` s) for another process's connection to close.
    An older store is migrated first (even for a read), a newer one refused (:class:`SchemaTooNew`).
    """
    path = workspace.store_path
    if read_only and not path.exists():
        raise StoreError(f"Aucune donnée importée dans l'espace de travail {workspace.root}.")
    created = not path.exists()
    con = _open(workspace, read_only)
    try:
        if created:
            os.chmod(path, 0o600)
        if read_only:
            version = schema_version(con)
            if version is not None and version != SCHEMA_VERSION:
                con.close()
                if version > SCHEMA_VERSION:
                    raise SchemaTooNew(workspace, version, SCHEMA_VERSION)
                with connect(workspace):
                    pass  # migrates
                con = _open(workspace, read_only)
        else:
            _ensure_schema(con, workspace)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(workspace: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection inside one transaction: committed if the block ends normally,
    rolled back if it raises."""
    with connect(workspace) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "data_versions")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC").isoformat() if stamp.tzinfo is None else stamp.isoformat()


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
        if not _has_tables(con):
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
    return ExistingImport(int(row[0]), None if row[1] is None else int(row[1]), row[2], _iso(row[3]), row[4])


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
) -> StoredImport:
    """Store one import as a new data version of ``year``, in a single transaction.

    ``structures``: ``structure_id, nom_structure, code_commune, departement, region, epci,
    respondent``. ``answers`` (DataFrame or Arrow table): ``structure_id, variable, value``
    (null for numbers, formatted here), ``value_num``, ``provenance``. If the same file was
    imported for this year meanwhile, nothing is written and the earlier import is returned with ``already_imported``.
    The campaign's earlier corrections are carried into the new version in the same
    transaction (:func:`carry_corrections`).
    """
    now = _now()
    with connect(workspace) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            existing = _find_import(con, sha256, year)
            if existing is not None:
                con.execute("ROLLBACK")
                return StoredImport(existing.import_id, existing.version or 0, 0, 0, already_imported=True)
            import_id = _scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
            version = _scalar(con, "SELECT coalesce(max(version), 0) + 1 FROM data_versions WHERE year = ?", [year])
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
            carried = carry_corrections(con, year, version)
            _pause_for_tests()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return StoredImport(import_id, version, len(structures), len(answers), carried=carried)


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


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (a store being created has none yet)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(found and found[0])


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
    non_identity = [q.id for q in load_codebook(year).questions if q.section != IDENTITY_SECTION]
    con.execute(
        """UPDATE structures s SET respondent = EXISTS (
               SELECT 1 FROM answers a WHERE a.year = s.year AND a.version = s.version
                 AND a.structure_id = s.structure_id AND a.variable IN (SELECT unnest(?)))
           WHERE s.year = ? AND s.version = ? AND s.structure_id IN (SELECT unnest(?))""",
        [non_identity, year, version, touched],
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


# ---------------------------------------------------------------------------- summary


def store_summary(workspace: Workspace) -> dict[str, Any]:
    """What the store holds, without any answer: years, data versions, imports (JSON-ready)."""
    summary: dict[str, Any] = {"years": [], "data_versions": [], "imports": []}
    if not workspace.store_path.exists():
        return summary
    with connect(workspace, read_only=True) as con:
        if not _has_tables(con):
            return summary
        versions = con.execute(
            """SELECT v.year, v.version, v.n_structures, v.n_answers, v.created_at, v.kind, i.file_name
               FROM data_versions v LEFT JOIN imports i USING (import_id)
               ORDER BY v.year, v.version"""
        ).fetchall()
        imports = con.execute(
            """SELECT i.file_name, i.sha256, i.year, v.version, i.imported_at, i.imported_by, i.rows,
                      i.rejected_rows
               FROM imports i LEFT JOIN data_versions v USING (import_id)
               ORDER BY i.import_id"""
        ).fetchall()
    summary["years"] = sorted({int(row[0]) for row in versions})
    summary["data_versions"] = [
        {
            "year": int(year),
            "version": int(version),
            "structures": int(n_structures),
            "answers": int(n_answers),
            "created_at": _iso(created_at),
            "kind": kind,
            "import_file": file_name,
        }
        for year, version, n_structures, n_answers, created_at, kind, file_name in versions
    ]
    summary["imports"] = [
        {
            "file": file_name,
            "sha256": sha,
            "year": int(year),
            "version": None if version is None else int(version),
            "imported_at": _iso(imported_at),
            "imported_by": imported_by,
            "rows": int(rows),
            "rejected_rows": int(rejected),
        }
        for file_name, sha, year, version, imported_at, imported_by, rows, rejected in imports
    ]
    return summary


# ---------------------------------------------------------------------------- reading


def _territory_filter(territory: geo.Territory) -> tuple[str, list[str]]:
    column = {
        "national": None,
        "region": "region",
        "departement": "departement",
        "epci": "epci",
        "commune": "code_commune",
    }[territory.level]
    if column is None:
        return "TRUE", []
    return f"s.{column} = ?", [territory.code]


class RawDataStore:
    """The preparer's and correspondents' access to the raw answers (the only one).

    Every read of answers checks the governance and is written to the audit log.
    """

    def __init__(self, workspace: Workspace, user: str | None = None) -> None:
        self.workspace = workspace
        self.user = user

    # -- metadata (no answers: no access check)

    def versions(self, year: int) -> pd.DataFrame:
        """The data versions of ``year``: version, created_at, created_by, kind, structures,
        answers, import_id, import_file."""
        columns = ["version", "created_at", "created_by", "kind", "structures", "answers", "import_id", "import_file"]
        if not self.workspace.store_path.exists():
            return pd.DataFrame(columns=columns)
        with connect(self.workspace, read_only=True) as con:
            if not _has_tables(con):
                return pd.DataFrame(columns=columns)
            frame = con.execute(
                """SELECT v.version, v.created_at, v.created_by, v.kind, v.n_structures AS structures,
                          v.n_answers AS answers, v.import_id, i.file_name AS import_file
                   FROM data_versions v LEFT JOIN imports i USING (import_id)
                   WHERE v.year = ? ORDER BY v.version""",
                [year],
            ).fetchdf()
        return frame

    def latest_version(self, year: int) -> int:
        versions = self.versions(year)
        if versions.empty:
            raise StoreError(f"Aucune donnée importée pour la campagne {year}.")
        return int(versions["version"].max())

    # -- raw answers (access-checked, audited)

    def answers(
        self,
        year: int,
        territory: geo.Territory | str = "FR",
        version: int | None = None,
        variables: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Long form with provenance: ``year, version, structure_id, variable, value, value_num,
        provenance, entered_by, entered_at, import_id``."""
        place, version, variables = self._authorise(year, territory, version, variables, "answers")
        condition, params = _territory_filter(place)
        query = f"""SELECT {", ".join("a." + c for c in ANSWER_COLUMNS)}
                    FROM answers a JOIN structures s USING (year, version, structure_id)
                    WHERE a.year = ? AND a.version = ? AND {condition}"""
        args: list[Any] = [year, version, *params]
        if variables is not None:
            query += " AND a.variable IN (SELECT unnest(?))"
            args.append(list(variables))
        query += " ORDER BY a.structure_id, a.variable"
        with connect(self.workspace, read_only=True) as con:
            frame = con.execute(query, args).fetchdf()
        return frame

    def wide(
        self,
        year: int,
        territory: geo.Territory | str = "FR",
        version: int | None = None,
        variables: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """One row per structure: its identity and geography, then one typed column per variable
        (float for numbers, code for categories, datetime for dates, NaN/None if unanswered)."""
        place, version, variables = self._authorise(year, territory, version, variables, "wide")
        codebook = load_codebook(year)
        wanted = list(variables) if variables is not None else list(codebook.question_ids)
        condition, params = _territory_filter(place)
        with connect(self.workspace, read_only=True) as con:
            structures = con.execute(
                f"""SELECT {", ".join("s." + c for c in STRUCTURE_COLUMNS)} FROM structures s
                    WHERE s.year = ? AND s.version = ? AND {condition} ORDER BY s.structure_id""",
                [year, version, *params],
            ).fetchdf()
            long = con.execute(
                f"""SELECT a.structure_id, a.variable, a.value, a.value_num
                    FROM answers a JOIN structures s USING (year, version, structure_id)
                    WHERE a.year = ? AND a.version = ? AND {condition}
                      AND a.variable IN (SELECT unnest(?))""",
                [year, version, *params, wanted],
            ).fetchdf()
        frame = structures.set_index("structure_id")
        text = long.pivot(index="structure_id", columns="variable", values="value") if len(long) else None
        numbers = long.pivot(index="structure_id", columns="variable", values="value_num") if len(long) else None
        columns: dict[str, pd.Series] = {}
        for variable in wanted:
            kind = codebook.question(variable).type
            source = numbers if kind.is_numeric else text
            if source is None or variable not in source.columns:
                series = pd.Series(np.nan if kind.is_numeric else None, index=frame.index, dtype=object)
            else:
                series = source[variable].reindex(frame.index)
            if kind.is_numeric:
                series = series.astype(float)
            elif kind is QuestionType.DATE:
                series = pd.to_datetime(series, format="%Y-%m-%d")
            else:
                series = series.astype(object).where(series.notna(), None)
            columns[variable] = series
        wide = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
        return wide.reset_index()

    def centre_answers(self, year: int, structure_id: str, version: int | None = None) -> pd.DataFrame:
        """One structure's own answers (for its report, charter 2.3), and nothing else of the raw data.

        Access is checked against the structure's département (the preparer or a correspondent
        of a territory containing it) and logged with the structure id. Columns: ``structure_id,
        nom_structure, code_commune, departement, region, variable, value, value_num, provenance,
        entered_by, entered_at``; no row for an unanswered question.
        """
        if version is None:
            version = self.latest_version(year)
        with connect(self.workspace, read_only=True) as con:
            found = con.execute(
                "SELECT departement FROM structures WHERE year = ? AND version = ? AND structure_id = ?",
                [year, version, structure_id],
            ).fetchone()
        if found is None:
            # Refuse an unauthorised user the same way whether or not the structure exists.
            require_raw_access(
                self.workspace, "read_answers", geo.parse_territory(str(self.workspace.config.get("territory", "FR"))),
                details={"year": year, "version": version, "form": "centre_answers", "structure_id": structure_id},
                user=self.user,
            )
            raise StoreError(f"La structure « {structure_id} » n'existe pas dans la campagne {year} "
                             f"(version {version}).")
        place = geo.territory("departement", str(found[0]))
        require_raw_access(
            self.workspace, "read_answers", place,
            details={"year": year, "version": version, "form": "centre_answers", "structure_id": structure_id},
            user=self.user,
        )
        with connect(self.workspace, read_only=True) as con:
            frame = con.execute(
                f"""SELECT {", ".join("s." + c for c in STRUCTURE_COLUMNS)}, a.variable, a.value, a.value_num,
                           a.provenance, a.entered_by, a.entered_at
                    FROM structures s LEFT JOIN answers a USING (year, version, structure_id)
                    WHERE s.year = ? AND s.version = ? AND s.structure_id = ?
                    ORDER BY a.variable""",
                [year, version, structure_id],
            ).fetchdf()
        return frame

    def _authorise(
        self,
        year: int,
        territory: geo.Territory | str,
        version: int | None,
        variables: Sequence[str] | None,
        form: str,
    ) -> tuple[geo.Territory, int, list[str] | None]:
        place = geo.parse_territory(territory) if isinstance(territory, str) else territory
        require_raw_access(
            self.workspace,
            "read_answers",
            place,
            details={
                "year": year,
                "version": version,
                "form": form,
                "variables": None if variables is None else list(variables),
            },
            user=self.user,
        )
        if year not in available_years():
            raise StoreError(f"Aucun questionnaire pour la campagne {year}.")
        codebook = load_codebook(year)
        if variables is not None:
            unknown = [v for v in variables if v not in codebook]
            if unknown:
                raise StoreError(
                    f"Variable(s) inconnue(s) du questionnaire {year} : {', '.join(unknown)}."
                )
        latest = self.latest_version(year)
        if version is None:
            version = latest
        elif not 1 <= version <= latest:
            raise StoreError(f"La campagne {year} n'a pas de version {version} (versions 1 à {latest}).")
        return place, version, None if variables is None else list(variables)
