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

This package creates every table and writes every data version (imports, corrections and
entries, corrections carried into a new import); inserts name their columns. Its modules:
``schema`` (tables, columns, schema version and migrations), ``connection`` (``connect``,
``transaction``), ``versions`` (every write of a data version), ``reading`` (``RawDataStore``,
``store_summary``); import the names from ``senacs_workbench.restricted.store``.

Connections are opened briefly (one transaction for a write, read-only for reads) so that
several processes can use the workspace one after another. :class:`RawDataStore` is the only
way code reads raw answers: every read goes through :func:`access.require_raw_access`.
"""

from senacs_workbench.restricted.store.connection import LOCK_TIMEOUT_ENV, connect, transaction
from senacs_workbench.restricted.store.reading import RawDataStore, store_summary
from senacs_workbench.restricted.store.schema import (
    ANSWER_COLUMNS,
    CORRECTION_COLUMNS,
    DATA_VERSION_COLUMNS,
    ENTERED_ON_BEHALF,
    IMPORT_COLUMNS,
    KIND_IMPORT,
    KIND_PARTIAL_IMPORT,
    KIND_UPDATE_IMPORT,
    MIGRATIONS,
    PROVENANCE_LABELS,
    PROVENANCES,
    SCHEMA_DDL,
    SCHEMA_VERSION,
    STRUCTURE_COLUMNS,
    SchemaTooNew,
    StoreError,
    has_table,
    schema_version,
)
from senacs_workbench.restricted.store.versions import (
    PAUSE_BEFORE_COMMIT_ENV,
    PAUSE_MARKER,
    AnswerChange,
    AnswerHistory,
    CarryOver,
    ExistingImport,
    StoredImport,
    answer_history,
    answers_of_structure,
    carry_corrections,
    corrections_log,
    current_answers,
    find_import,
    latest_structures,
    latest_version,
    record_import,
    structure_row,
    write_version,
)

__all__ = [
    "ANSWER_COLUMNS",
    "CORRECTION_COLUMNS",
    "DATA_VERSION_COLUMNS",
    "ENTERED_ON_BEHALF",
    "IMPORT_COLUMNS",
    "KIND_IMPORT",
    "KIND_PARTIAL_IMPORT",
    "KIND_UPDATE_IMPORT",
    "LOCK_TIMEOUT_ENV",
    "MIGRATIONS",
    "PAUSE_BEFORE_COMMIT_ENV",
    "PAUSE_MARKER",
    "PROVENANCES",
    "PROVENANCE_LABELS",
    "SCHEMA_DDL",
    "SCHEMA_VERSION",
    "STRUCTURE_COLUMNS",
    "AnswerChange",
    "AnswerHistory",
    "CarryOver",
    "ExistingImport",
    "RawDataStore",
    "SchemaTooNew",
    "StoreError",
    "StoredImport",
    "answer_history",
    "answers_of_structure",
    "carry_corrections",
    "connect",
    "corrections_log",
    "current_answers",
    "find_import",
    "has_table",
    "latest_structures",
    "latest_version",
    "record_import",
    "schema_version",
    "store_summary",
    "structure_row",
    "transaction",
    "write_version",
]
