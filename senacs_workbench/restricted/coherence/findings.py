"""Findings, their resolution events and the corrections log: DuckDB tables in the store.

The tables live beside the answers in the restricted store (``restricted/senacs.duckdb``); the
store creates them (``senacs_workbench.restricted.store``, schema version 2).
A finding moves ``open → asked → confirmed | corrected | withdrawn``;
every move is an event (who, when, from which exchange, why), nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.restricted.store import has_table

OPEN, ASKED, CONFIRMED, CORRECTED, WITHDRAWN = "open", "asked", "confirmed", "corrected", "withdrawn"
STATUSES = (OPEN, ASKED, CONFIRMED, CORRECTED, WITHDRAWN)
ACTIVE = (OPEN, ASKED)
CLOSED = (CONFIRMED, CORRECTED, WITHDRAWN)
STATUS_LABELS = {
    OPEN: "ouvert",
    ASKED: "question posée au centre",
    CONFIRMED: "confirmé (la réponse est juste)",
    CORRECTED: "corrigé",
    WITHDRAWN: "retiré",
}
ORIGIN_CHECK, ORIGIN_OBJECTION = "check", "objection"

FINDING_COLUMNS = (
    "finding_id",
    "year",
    "structure_id",
    "nom_structure",
    "departement",
    "region",
    "rule_id",
    "severity",
    "family",
    "variables",
    "values_json",
    "values_text",
    "message",
    "question",
    "origin",
    "status",
    "detected_version",
    "last_seen_version",
    "run_id",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)


EVENT_COLUMNS = (
    "event_id", "finding_id", "event_at", "by_user", "from_status", "to_status", "note", "exchange", "data_version",
)


class FindingError(SenacsError):
    """A finding that does not exist, or a move the workflow does not allow."""


def has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "coherence_findings")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    rows = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()
    return int(rows[0][0]) if rows else 1


def fetch_findings(
    con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list[Any] | None = None
) -> pd.DataFrame:
    if not has_tables(con):
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    return con.execute(
        f"SELECT {', '.join(FINDING_COLUMNS)} FROM coherence_findings WHERE {where} ORDER BY finding_id",
        params or [],
    ).fetchdf()


def get_finding(con: duckdb.DuckDBPyConnection, finding_id: int) -> dict[str, Any]:
    frame = fetch_findings(con, "finding_id = ?", [int(finding_id)])
    if frame.empty:
        raise FindingError(f"Le constat n° {finding_id} n'existe pas.")
    return frame.iloc[0].to_dict()


def get_findings(con: duckdb.DuckDBPyConnection, finding_ids: list[int]) -> list[dict[str, Any]]:
    """Several findings by number, in the order given (an error names the first unknown one)."""
    frame = fetch_findings(con, "finding_id IN (SELECT unnest(?))", [[int(i) for i in finding_ids]])
    by_id = {int(r["finding_id"]): r for r in frame.to_dict("records")}
    missing = [i for i in finding_ids if int(i) not in by_id]
    if missing:
        raise FindingError(f"Le constat n° {missing[0]} n'existe pas.")
    return [by_id[int(i)] for i in finding_ids]


def insert_finding(con: duckdb.DuckDBPyConnection, record: dict[str, Any], user: str, when: dt.datetime) -> int:
    finding_id = next_id(con, "coherence_findings", "finding_id")
    row = {
        "finding_id": finding_id,
        "status": OPEN,
        "created_at": when,
        "created_by": user,
        "updated_at": when,
        "updated_by": user,
        **record,
    }
    if not isinstance(row.get("values_json"), str):
        row["values_json"] = json.dumps(row.get("values_json") or {}, ensure_ascii=False, sort_keys=True)
    con.execute(
        f"INSERT INTO coherence_findings ({', '.join(FINDING_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in FINDING_COLUMNS)})",
        [row.get(c) for c in FINDING_COLUMNS],
    )
    add_event(con, finding_id, user, when, None, OPEN, note=record.get("_note"))
    return finding_id


def add_event(
    con: duckdb.DuckDBPyConnection,
    finding_id: int,
    user: str,
    when: dt.datetime,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
    exchange: str | None = None,
    data_version: int | None = None,
) -> None:
    event_id = next_id(con, "coherence_events", "event_id")
    con.execute(
        f"INSERT INTO coherence_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})",
        [event_id, int(finding_id), when, user, from_status, to_status, note, exchange, data_version],
    )


def move(
    con: duckdb.DuckDBPyConnection,
    finding: dict[str, Any],
    to_status: str,
    user: str,
    when: dt.datetime,
    note: str | None = None,
    exchange: str | None = None,
    data_version: int | None = None,
) -> None:
    """Move a finding along the workflow (checked), with its event."""
    current = str(finding["status"])
    finding_id = int(finding["finding_id"])
    if current in CLOSED:
        raise FindingError(
            f"Le constat n° {finding_id} est déjà clos ({STATUS_LABELS[current]}) : il ne peut plus changer "
            "d'état. Si la question se pose de nouveau, relancez le contrôle ou enregistrez une objection."
        )
    if to_status not in STATUSES or to_status == OPEN:
        raise FindingError(
            f"État « {to_status} » impossible pour un constat (attendu : asked, confirmed, corrected, withdrawn)."
        )
    con.execute(
        "UPDATE coherence_findings SET status = ?, updated_at = ?, updated_by = ? WHERE finding_id = ?",
        [to_status, when, user, finding_id],
    )
    add_event(con, finding_id, user, when, current, to_status, note, exchange, data_version)
    finding["status"] = to_status


def events(con: duckdb.DuckDBPyConnection, finding_ids: list[int] | None = None) -> pd.DataFrame:
    if not has_tables(con):
        return pd.DataFrame(columns=list(EVENT_COLUMNS))
    query = f"SELECT {', '.join(EVENT_COLUMNS)} FROM coherence_events"
    params: list[Any] = []
    if finding_ids is not None:
        query += " WHERE finding_id IN (SELECT unnest(?))"
        params.append([int(i) for i in finding_ids])
    return con.execute(query + " ORDER BY event_id", params).fetchdf()


def decode_values(text: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
