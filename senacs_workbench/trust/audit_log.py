"""Tamper-evident audit log of every raw-data access and every release step.

The log is a JSON Lines file in ``restricted/``. Each entry carries the SHA-256 of the
previous entry (``prev``) and its own hash (``hash``, over the entry's canonical JSON without
``hash``), so that changing, removing, reordering or inserting an entry breaks the chain;
:func:`verify` walks the chain and names the first broken entry. Appends hold an exclusive
``flock`` so that concurrent processes never interleave.

Anchors: a chain alone can be cut short, deleted or rewritten whole by someone with write
access. So every bundle draft records the log's head (``audit_anchor``: ``seq`` and ``hash``)
in its manifest, which the committee members sign with the bundle's hash; :func:`verify` with
``anchors`` checks that the log still holds each anchored entry, so a log truncated, deleted or
rewritten is detected back to the last anchor (``senacs audit verify``). A line that cannot be
read stops every command that appends, with a French error naming the line: the log is never
extended past a corrupt line (it can still be inspected with ``senacs audit show``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
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


def _parse_line(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise AuditLogError(
            f"Journal d'audit {path}, ligne {number} : illisible ({exc.msg}). Le journal n'est plus complété "
            "tant que cette ligne n'est pas expliquée : rien n'est enregistré, aucune opération sur les données "
            "brutes n'est possible. Examinez-le (« senacs audit show ») et rétablissez-le depuis une sauvegarde."
        ) from exc
    if not isinstance(entry, dict) or "hash" not in entry or "seq" not in entry:
        raise AuditLogError(f"Journal d'audit {path}, ligne {number} : ce n'est pas une entrée du journal.")
    return entry


def _read_entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, _parse_line(path, number, line)


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
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    previous = _parse_line(path, number, line)
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


def head(path: Path) -> dict[str, Any] | None:
    """The last entry's ``seq`` and ``hash`` (an anchor), or None for an empty log."""
    last = None
    for _, entry in _read_entries(path):
        last = entry
    return None if last is None else {"seq": last["seq"], "hash": last["hash"]}


@dataclass(frozen=True)
class Anchor:
    """A log head recorded elsewhere (a signed manifest): ``source`` names where, in French."""

    seq: int
    hash: str
    source: str


def verify(path: Path, anchors: Iterable[Anchor] = ()) -> Verification:
    """Check the whole chain and every anchor; raise :class:`AuditLogError` naming the first fault."""
    anchors = sorted(anchors, key=lambda a: a.seq)
    if anchors and not path.exists():
        raise AuditLogError(
            f"Journal d'audit {path} absent, alors que {anchors[-1].source} en a enregistré l'état "
            f"(entrée {anchors[-1].seq}) : le journal a été supprimé."
        )
    by_seq: dict[int, str] = {}
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
        by_seq[entry["seq"]] = entry["hash"]
        previous, count, expected_seq = entry["hash"], count + 1, expected_seq + 1
    for anchor in anchors:
        if anchor.seq not in by_seq:
            raise AuditLogError(
                f"Journal d'audit {path} : il s'arrête à l'entrée {count}, alors que {anchor.source} en a "
                f"enregistré l'entrée {anchor.seq} : le journal a été tronqué."
            )
        if by_seq[anchor.seq] != anchor.hash:
            raise AuditLogError(
                f"Journal d'audit {path}, entrée {anchor.seq} : elle diffère de celle que {anchor.source} a "
                "enregistrée : le journal a été réécrit."
            )
    return Verification(entries=count, last_hash=previous)
