"""``senacs release reject --year Y --reason TEXT``: reject a draft bundle, for good.

A committee member (or the designated preparer, withdrawing their own draft) may reject the
draft awaiting approval. The rejection is recorded — who, with which role, when, why, the
bundle's hash and data version — in the audit log (``reject_bundle``) and in
``restricted/rejected/index.jsonl``; the draft leaves ``published/drafts/`` (nothing serves it
any more) for ``restricted/rejected/<year>/<bundle hash>/``, kept as evidence, its manifest marked
``rejected``. That bundle can never be approved: :func:`refuse_if_rejected`, called by the
approval, refuses its hash wherever the folder is put back. A new ``senacs publish`` writes a new
draft (a new hash: its manifest carries its creation time), which the committee judges anew.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import AccessDenied, SenacsError
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.workspace import Workspace, write_text_atomic
from senacs_workbench.core.workspace_lock import workspace_lock
from senacs_workbench.released.bundle_contract import MANIFEST, bundle_hash, read_manifest
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.identity import acting_user

REJECTED = "rejected"
INDEX = "index.jsonl"


class RejectionError(SenacsError):
    """A draft cannot be rejected as asked, or a rejected bundle was put up for approval."""


@dataclass(frozen=True)
class RejectOutcome:
    year: int
    bundle_hash: str
    kept: Path
    message_fr: str


def rejected_root(workspace: Workspace) -> Path:
    return workspace.restricted / REJECTED


def rejections(workspace: Workspace) -> list[dict[str, Any]]:
    """Every recorded rejection, oldest first."""
    index = rejected_root(workspace) / INDEX
    if not index.exists():
        return []
    return [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines() if line.strip()]


def refuse_if_rejected(workspace: Workspace, year: int, digest: str) -> None:
    """Raise :class:`RejectionError` if the bundle of hash ``digest`` was rejected."""
    for record in rejections(workspace):
        if record.get("bundle_hash") == digest:
            raise RejectionError(
                f"Le jeu de tableaux {year} (empreinte {digest[:12]}…) a été rejeté le "
                f"{str(record.get('rejected_at', '?'))[:10]} par {record.get('rejected_by')} "
                f"(motif : {record.get('reason')}) : il ne peut plus être approuvé. Préparez-en un nouveau "
                f"(« senacs publish --year {year} »).",
                bundle_hash=digest, year=year)


def _role(workspace: Workspace, territory: geo.Territory, user: str, year: int) -> str:
    """« membre du comité (institution) » or « préparateur désigné »; refuse (and log) anyone else."""
    governance = load_governance(workspace.governance_path)
    entry = governance.for_territory(territory)
    member = entry.committee_member(user) if entry else None
    if member is not None:
        return f"membre du comité ({member.institution})"
    if entry is not None and entry.preparer.user == user:
        return "préparateur désigné"
    audit_log.append(workspace.audit_log_path, user=user, action="refused:reject_bundle", territory=territory.key,
                     details={"year": year})
    raise AccessDenied(
        f"Rejet refusé : {user} n'est ni membre du comité de pilotage ni le préparateur désigné "
        f"({geo.LEVEL_LABELS[territory.level]} {territory.name}). Ce refus est inscrit au journal d'audit."
    )


def reject_draft(workspace: Workspace, year: int, reason: str, *, user: str | None = None) -> RejectOutcome:
    """Reject the draft of ``year`` (see the module docs)."""
    user = user or acting_user(workspace.governance_path)
    reason = reason.strip()
    if len(reason) < 5:
        raise RejectionError("Indiquez le motif du rejet (--reason) : il est inscrit au journal d'audit.")
    with workspace_lock(workspace.root, f"le rejet du jeu de tableaux {year}"):
        folder = draft_dir(workspace, year)
        if not (folder / MANIFEST).exists():
            raise RejectionError(f"Aucun jeu de tableaux en attente d'approbation pour la campagne {year} : "
                                 "rien à rejeter.")
        territory = workspace.territory
        role = _role(workspace, territory, user, year)
        manifest = read_manifest(folder)
        digest = bundle_hash(manifest)
        record = {
            "year": year, "bundle_hash": digest, "data_version": manifest.get("data_version"),
            "rejected_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "rejected_by": user,
            "role": role, "reason": reason,
        }
        target = rejected_root(workspace) / str(year) / digest
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(folder)  # the very same bundle was rejected already
        else:
            folder.rename(target)
            write_text_atomic(target / MANIFEST, json.dumps(manifest | {"state": "rejected", "rejection": record},
                                                            ensure_ascii=False, indent=2, sort_keys=True))
        fd = os.open(rejected_root(workspace) / INDEX, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        audit_log.append(workspace.audit_log_path, user=user, action="reject_bundle", territory=territory.key,
                         details=record)
    return RejectOutcome(
        year, digest, target,
        f"Jeu de tableaux {year} (version {manifest.get('data_version')} des données, empreinte {digest[:12]}…) "
        f"rejeté par {user}, {role} (motif : {reason}). Il n'est plus proposé à l'approbation et ne pourra "
        f"jamais être approuvé ; il est conservé pour mémoire dans {target}. Le rejet est inscrit au journal "
        f"d'audit. Préparez un nouveau jeu avec « senacs publish --year {year} ».",
    )


__all__ = ["RejectOutcome", "RejectionError", "refuse_if_rejected", "reject_draft", "rejections"]
