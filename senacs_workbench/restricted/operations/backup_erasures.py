"""Backups taken before an erasure (issue 21): named at the erasure, erased again at restore.

An erasure (:mod:`.erasure`) cannot reach archives outside the workspace. Two things make that
concrete instead of a sentence in the documentation:

- every backup is recorded in the audit log (``backup_written``: archive path, SHA-256, time).
  :func:`backups_holding` lists, for a structure about to be erased, the backups written since
  its answers first entered the store (its earliest data version): those hold its answers. The
  erasure prints them in French (path, date, whether the file is still there) and records them
  in its register entry, to be destroyed;
- a restore re-applies the erasures recorded after the backup was written
  (:func:`erasures_to_reapply`, :func:`reapply_erasures`): the restored workspace has no record
  of them (the archive predates them), so the registers are read where they can be found — the
  original workspace's ``restricted/erasures.jsonl`` when that folder still exists (the path is in
  the archive's manifest), and any register the user names (``senacs restore --erasures``, a
  copy kept outside the workspace). Each erasure whose time is after the backup's creation is
  run again on the restored workspace with its original reason. Re-applying rather than refusing:
  the law requires the answers gone, and a refused restore would leave no recovery at all.

What cannot be known: a backup restored into an empty folder when the original workspace is lost
and no copy of its register is given. The restore says so in its message (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.store.connection import connect
from senacs_workbench.trust import audit_log

REGISTER = "erasures.jsonl"
"""The erasure register under ``restricted/`` (as :mod:`.erasure` writes it)."""


@dataclass(frozen=True)
class BackupRecord:
    """A backup as the audit log recorded it."""

    path: str
    time: str
    sha256: str

    @property
    def present(self) -> bool:
        return Path(self.path).exists()

    def line_fr(self) -> str:
        where = "toujours présente" if self.present else "introuvable à cet emplacement (déplacée ou détruite ?)"
        return f"{self.path} (écrite le {_date_fr(self.time)}, empreinte {self.sha256[:12]}…) : {where}"

    def as_json(self) -> dict[str, Any]:
        return {"archive": self.path, "time": self.time, "sha256": self.sha256}


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _date_fr(text: str) -> str:
    try:
        return _utc(text).strftime("%d/%m/%Y à %H:%M UTC")
    except ValueError:
        return text


def first_stored(workspace: Workspace, structure_id: str) -> dt.datetime | None:
    """When the structure's answers first entered the store (its earliest data version), or None."""
    if not workspace.store_path.exists():
        return None
    with connect(workspace, read_only=True) as con:
        row = con.execute(
            """SELECT min(d.created_at) FROM data_versions d
               JOIN (SELECT DISTINCT year, version FROM structures WHERE structure_id = ?) s USING (year, version)""",
            [structure_id],
        ).fetchone()
    if row is None or row[0] is None:
        return None
    moment: dt.datetime = row[0]
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def backups_holding(workspace: Workspace, since: dt.datetime | None) -> list[BackupRecord]:
    """The backups recorded in the audit log (``backup_written``) since ``since`` (all when None)."""
    found = []
    for entry in audit_log.entries(workspace.audit_log_path):
        if entry.get("action") != "backup_written":
            continue
        details = entry.get("details") or {}
        time = str(entry.get("time", ""))
        if since is not None and _utc(time) < since:
            continue
        found.append(BackupRecord(str(details.get("archive", "?")), time, str(details.get("sha256", ""))))
    return found


def backups_message(backups: list[BackupRecord]) -> list[str]:
    """The French lines that the erasure prints about the earlier backups."""
    if not backups:
        return ["  Aucune sauvegarde de cet espace n'est inscrite au journal depuis l'arrivée de la structure."]
    return [
        f"  À DÉTRUIRE : {len(backups)} sauvegarde(s) écrite(s) avant cet effacement contiennent encore les "
        "réponses de la structure (inscrites au journal d'audit) :",
        *[f"    - {b.line_fr()}" for b in backups],
        "    Détruisez-les (ou, si la durée de conservation l'exige, gardez-les à l'écart : une restauration "
        "réapplique les effacements inscrits dans le registre, voir docs/operations.md).",
    ]


def _read_register(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if isinstance(record, dict) and record.get("structure") and record.get("time"):
                records.append(record)
    return records


def erasures_to_reapply(backup_created: str | None, registers: Iterable[Path]) -> list[dict[str, Any]]:
    """The erasures of ``registers`` recorded after ``backup_created`` (each structure once, in time
    order; all of them when the backup's time is unknown)."""
    since = _utc(backup_created) if backup_created else None
    chosen: dict[str, dict[str, Any]] = {}
    for register in registers:
        for record in _read_register(register):
            if since is None or _utc(str(record["time"])) >= since:
                chosen.setdefault(str(record["structure"]), record)
    return sorted(chosen.values(), key=lambda r: _utc(str(r["time"])))


def registers_for(manifest: dict[str, Any], target: Path, given: Iterable[Path]) -> list[Path]:
    """Where the erasures made after the backup may be recorded: the registers the user gave, and
    the original workspace's own register when that folder still exists (and is not ``target``)."""
    registers = [Path(p) for p in given]
    original = manifest.get("workspace", {}).get("path")
    if original:
        register = Path(original) / "restricted" / REGISTER
        if Path(original).resolve() != target.resolve() and register.is_file():
            registers.append(register)
    return registers


def reapply_erasures(workspace: Workspace, records: list[dict[str, Any]], user: str | None) -> list[str]:
    """Erase again, in ``workspace``, each structure of ``records``; French lines saying what was done."""
    from senacs_workbench.restricted.operations.erasure import ErasureError, erase_structure

    lines = []
    for record in records:
        structure = str(record["structure"])
        reason = (f"réapplication après restauration d'une sauvegarde antérieure de l'effacement du "
                  f"{_date_fr(str(record['time']))} (motif : {record.get('reason', '?')})")
        try:
            erase_structure(workspace, structure, reason, user=user)
        except ErasureError:  # the backup predates the structure's answers: nothing to erase
            lines.append(f"  {structure} : absente de la sauvegarde, rien à effacer.")
            continue
        lines.append(f"  {structure} : effacée à nouveau (effacement du {_date_fr(str(record['time']))}).")
    return lines


__all__ = ["BackupRecord", "backups_holding", "backups_message", "erasures_to_reapply", "first_stored",
           "reapply_erasures", "registers_for"]
