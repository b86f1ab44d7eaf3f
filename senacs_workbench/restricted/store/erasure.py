"""Erasing one structure's raw answers from every data version of the store (RGPD erasure).

Versions are otherwise never changed: the erasure is the one exception, asked by law. In one
transaction it deletes the structure's answers, its identity rows, its corrections and its
coherence findings (with their events) from every campaign and version, and lowers the counts
of the data versions it was in. DuckDB keeps deleted rows in free blocks of the database file
until they are reused, so the store is then rewritten into a fresh file (:func:`compact`:
``COPY FROM DATABASE`` into a new file, renamed over the old one while the old one is still
held open for writing, so that no other process writes in between).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import duckdb

from senacs_workbench.core.atomic import fsync_directory
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.store.connection import _open, connect, transaction
from senacs_workbench.restricted.store.schema import has_table


@dataclass(frozen=True)
class StoreErasure:
    """What the erasure removed from the store (counts; no value)."""

    structure_id: str
    versions: list[tuple[int, int]] = field(default_factory=list)
    answers: int = 0
    corrections: int = 0
    findings: int = 0
    names: list[str] = field(default_factory=list)
    """The structure's names as the store knew them (to find working files that name it)."""


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def erase_structure_rows(workspace: Workspace, structure_id: str) -> StoreErasure:
    """Delete every row of ``structure_id`` from the store (one transaction); see the module docs."""
    if not workspace.store_path.exists():
        return StoreErasure(structure_id)
    with transaction(workspace) as con:
        versions = [(int(y), int(v)) for y, v in con.execute(
            "SELECT DISTINCT year, version FROM structures WHERE structure_id = ? ORDER BY year, version",
            [structure_id]).fetchall()]
        names = sorted({str(n) for (n,) in con.execute(
            "SELECT DISTINCT nom_structure FROM structures WHERE structure_id = ? AND nom_structure IS NOT NULL",
            [structure_id]).fetchall()})
        answers = _count(con, "SELECT count(*) FROM answers WHERE structure_id = ?", [structure_id])
        for year, version in versions:
            lost = _count(con, "SELECT count(*) FROM answers WHERE structure_id = ? AND year = ? AND version = ?",
                          [structure_id, year, version])
            con.execute("""UPDATE data_versions SET n_structures = n_structures - 1, n_answers = n_answers - ?
                           WHERE year = ? AND version = ?""", [lost, year, version])
        con.execute("DELETE FROM answers WHERE structure_id = ?", [structure_id])
        con.execute("DELETE FROM structures WHERE structure_id = ?", [structure_id])
        corrections = findings = 0
        if has_table(con, "corrections"):
            corrections = _count(con, "SELECT count(*) FROM corrections WHERE structure_id = ?", [structure_id])
            con.execute("DELETE FROM corrections WHERE structure_id = ?", [structure_id])
        if has_table(con, "coherence_findings"):
            findings = _count(con, "SELECT count(*) FROM coherence_findings WHERE structure_id = ?", [structure_id])
            if has_table(con, "coherence_events"):
                con.execute("""DELETE FROM coherence_events WHERE finding_id IN
                               (SELECT finding_id FROM coherence_findings WHERE structure_id = ?)""", [structure_id])
            con.execute("DELETE FROM coherence_findings WHERE structure_id = ?", [structure_id])
    if versions or answers or corrections or findings:
        compact(workspace)
    return StoreErasure(structure_id, versions, answers, corrections, findings, names)


def compact(workspace: Workspace) -> None:
    """Rewrite the store into a fresh file holding only its live rows (deleted rows gone from the
    bytes too); the old file stays open for writing until the new one has replaced it."""
    path = workspace.store_path
    with connect(workspace):
        pass  # current schema first (migrated if older)
    fresh = path.with_name(f".{path.stem}.compact-{os.getpid()}.duckdb")
    fresh.unlink(missing_ok=True)
    con = _open(workspace, read_only=False)
    try:
        con.execute("CHECKPOINT")
        name = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        quoted = str(fresh).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS senacs_fresh")
        try:
            con.execute(f'COPY FROM DATABASE "{name}" TO senacs_fresh')
        finally:
            con.execute("DETACH senacs_fresh")
        os.chmod(fresh, 0o600)
        with open(fresh, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(fresh, path)
        fsync_directory(path.parent)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    with connect(workspace, read_only=True) as check:
        check.execute("SELECT count(*) FROM meta").fetchone()
