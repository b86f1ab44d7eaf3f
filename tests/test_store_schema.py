"""The store's schema version is read: an older workspace is migrated, a newer one refused.

``tests/data/store_schema_v1.sql`` is the store as the previous release wrote it (schema 1: its
DDL verbatim, no coherence table, one import of two structures).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted import store
from senacs_workbench.restricted.coherence.corrections import correct_answer, value_history
from senacs_workbench.restricted.store import SCHEMA_VERSION, RawDataStore, SchemaTooNew, store_summary

V1_SQL = Path(__file__).parent / "data" / "store_schema_v1.sql"


def _write_v1_store(workspace: Workspace) -> None:
    workspace.store_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(workspace.store_path))
    try:
        con.execute(V1_SQL.read_text(encoding="utf-8"))
    finally:
        con.close()


def _raw(workspace: Workspace, query: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(workspace.store_path), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _tables(workspace: Workspace) -> set[str]:
    return {str(r[0]) for r in _raw(workspace, "SELECT table_name FROM information_schema.tables")}


def test_previous_release_workspace_is_migrated_on_read(national_workspace: Workspace) -> None:
    _write_v1_store(national_workspace)
    assert "corrections" not in _tables(national_workspace)

    answers = RawDataStore(national_workspace).answers(2024)  # a read migrates first

    assert sorted(zip(answers["structure_id"], answers["variable"], answers["value"], strict=True)) == [
        ("S000001", "budget_total", "250000"),
        ("S000001", "salaries", "10"),
        ("S000002", "budget_total", "251000"),
        ("S000002", "salaries", "17"),
    ]
    assert set(answers["provenance"]) == {"centre", "caf", "federation"}
    meta = dict(_raw(national_workspace, "SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "2"
    assert "migrated_1_to_2" in meta
    assert {"corrections", "coherence_findings", "coherence_events", "coherence_runs"} <= _tables(national_workspace)
    summary = store_summary(national_workspace)
    assert summary["imports"][0]["file"] == "senacs_2024.csv" and summary["data_versions"][0]["answers"] == 4


def test_migrated_workspace_takes_corrections(national_workspace: Workspace) -> None:
    _write_v1_store(national_workspace)
    result = correct_answer(national_workspace, 2024, "S000001", "salaries", "12", why="appel du centre")
    assert (result.previous_version, result.version) == (1, 2)
    history = value_history(national_workspace, 2024, "S000001", "salaries")
    assert list(history["value"]) == ["10", "12"]
    assert RawDataStore(national_workspace).answers(2024, version=1)["value"].tolist() == [
        "250000", "10", "251000", "17",
    ]


def test_failed_migration_leaves_the_old_schema(national_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_v1_store(national_workspace)

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE corrections (x INTEGER)")
        raise RuntimeError("migration interrompue")

    monkeypatch.setitem(store.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError, match="interrompue"):
        RawDataStore(national_workspace).versions(2024)
    assert dict(_raw(national_workspace, "SELECT key, value FROM meta"))["schema_version"] == "1"
    assert "corrections" not in _tables(national_workspace)


@pytest.mark.parametrize("read_only", [True, False])
def test_newer_schema_is_refused_in_french(national_workspace: Workspace, read_only: bool) -> None:
    _write_v1_store(national_workspace)
    con = duckdb.connect(str(national_workspace.store_path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    before = national_workspace.store_path.read_bytes()

    with pytest.raises(SchemaTooNew) as refused, store.connect(national_workspace, read_only=read_only):
        pass

    error = refused.value
    assert isinstance(error, SenacsError)
    message = str(error)
    assert str(national_workspace.root) in message
    assert f"version {SCHEMA_VERSION + 1}" in message and f"version {SCHEMA_VERSION}" in message
    assert "plus récente" in message
    assert (error.found_version, error.supported_version) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    assert error.file == str(national_workspace.store_path)
    assert national_workspace.store_path.read_bytes() == before


def test_new_store_is_created_at_the_current_schema(national_workspace: Workspace) -> None:
    with store.connect(national_workspace):
        pass
    assert dict(_raw(national_workspace, "SELECT key, value FROM meta")) == {"schema_version": str(SCHEMA_VERSION)}
    assert {"corrections", "coherence_findings", "answers", "data_versions"} <= _tables(national_workspace)


DATA_TABLES = ("imports", "data_versions", "structures", "answers", "corrections", "meta")


def test_only_the_store_creates_tables_writes_data_versions_and_opens_duckdb() -> None:
    """The store owns its data: no other module creates a table, writes a data table, or
    opens DuckDB itself; ``importing/`` does not reach into ``coherence/``."""
    import re

    import senacs_workbench

    package = Path(senacs_workbench.__file__).parent
    writes = re.compile(rf"\b(INSERT INTO|UPDATE|DELETE FROM)\s+({'|'.join(DATA_TABLES)})\b", re.IGNORECASE)
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(package / "restricted" / "store"):
            continue
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(package))
        if re.search(r"\bCREATE\s+TABLE\b", text, re.IGNORECASE):
            found.append(f"{where}: CREATE TABLE")
        if writes.search(text):
            found.append(f"{where}: {writes.search(text).group(0)}")  # type: ignore[union-attr]
        if "duckdb.connect" in text:
            found.append(f"{where}: duckdb.connect")
        if path.is_relative_to(package / "restricted" / "importing") and "restricted.coherence" in text:
            found.append(f"{where}: imports coherence")
    assert found == []
