"""Short-lived connections to the store, each at the current schema (migrated or refused first)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.store.schema import (
    SCHEMA_VERSION,
    SchemaTooNew,
    StoreError,
    ensure_schema,
    has_table,
    schema_version,
)

LOCK_TIMEOUT_ENV = "SENACS_STORE_LOCK_TIMEOUT"


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
            ensure_schema(con, workspace)
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


def has_data_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "data_versions")


def iso_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC").isoformat() if stamp.tzinfo is None else stamp.isoformat()
