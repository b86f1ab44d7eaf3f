"""The store's schema: tables, column lists, the recorded schema version and its migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace

SCHEMA_VERSION = 2
"""1: imports, data versions, structures, answers (coherence tables created by the coherence
package when first used). 2: the store creates the coherence and corrections tables itself."""
KIND_IMPORT = "import"
KIND_PARTIAL_IMPORT = "partial_import"
KIND_UPDATE_IMPORT = "update_import"
"""An import that replaces or adds the file's structures and keeps the previous version's others."""
PROVENANCES = ("centre", "caf", "federation")
"""Who entered an answer: the centre itself, or the Caf or the federation on its behalf."""
ENTERED_ON_BEHALF = ("caf", "federation")
"""The provenances of answers entered for a centre by someone else (the centre may review them)."""
PROVENANCE_LABELS = {"centre": "le centre", "caf": "la Caf", "federation": "la fédération"}
"""French names of the provenances, as a sentence says them."""

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


def ensure_schema(con: duckdb.DuckDBPyConnection, workspace: Workspace) -> None:
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
                    [f"migrated_{step}_to_{step + 1}", now_utc().isoformat()],
                )
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the store has table ``name`` (a store being created has none yet)."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(found and found[0])


def now_utc() -> dt.datetime:
    """Now, as the store records times (naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
