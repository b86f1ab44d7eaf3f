"""Tamper-evident audit log of every raw-data access and every release step.

The log is a JSON Lines file in ``restricted/``. Each entry carries the SHA-256 of the
previous entry (``prev``) and its own hash (``hash``, over the entry's canonical JSON without
``hash``), so that changing, removing, reordering or inserting an entry breaks the chain;
:func:`verify` walks the chain and names the first broken entry. Appends hold an exclusive
``flock`` so that concurrent processes never interleave.

It is tamper-*evident*, not tamper-proof: someone with write access can rewrite the whole
chain; copying the last hash elsewhere (``senacs audit verify`` prints it) pins the history.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core.errors import AuditLogError

GENESIS = "0" * 64


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _read_entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise AuditLogError(f"Journal d'audit {path}, ligne {number} : illisible ({exc.msg}).") from exc


def append(
    path: Path, *, user: str, action: str, territory: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Append one entry (who, when, what, which territory) chained to the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            last_hash, seq = GENESIS, 0
            for line in handle:
                if line.strip():
                    previous = json.loads(line)
                    last_hash, seq = previous["hash"], previous["seq"]
            entry: dict[str, Any] = {
                "seq": seq + 1,
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                "user": user,
                "action": action,
                "territory": territory,
                "details": details or {},
                "prev": last_hash,
            }
            entry["hash"] = _entry_hash(entry)
            handle.write(_canonical(entry).decode("utf-8") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def entries(path: Path) -> list[dict[str, Any]]:
    return [entry for _, entry in _read_entries(path)]


@dataclass(frozen=True)
class Verification:
    entries: int
    last_hash: str


def verify(path: Path) -> Verification:
    """Check the whole chain; raise :class:`AuditLogError` naming the first broken line."""
    previous, count, expected_seq = GENESIS, 0, 1
    for number, entry in _read_entries(path):
        if entry.get("prev") != previous:
            raise AuditLogError(
                f"Journal d'audit {path}, ligne {number} : le chaînage est rompu "
                "(une entrée précédente a été supprimée, insérée ou modifiée)."
            )
        if entry.get("hash") != _entry_hash(entry):
            raise AuditLogError(f"Journal d'audit {path}, ligne {number} : l'entrée a été modifiée.")
        if entry.get("seq") != expected_seq:
            raise AuditLogError(f"Journal d'audit {path}, ligne {number} : numéro d'ordre inattendu.")
        previous, count, expected_seq = entry["hash"], count + 1, expected_seq + 1
    return Verification(entries=count, last_hash=previous)
