"""Committee approval of a draft bundle (charter 3.1; output checking as in trusted research environments).

A draft becomes released only once at least one CAF member and one federation member of the
workspace territory's steering committee have approved that exact bundle: each approval
records the bundle's hash, so a bundle rebuilt or altered after approval loses them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core import approvals as rule
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace, write_text_atomic
from senacs_workbench.released.bundle_contract import (
    DRAFTS,
    MANIFEST,
    RELEASED,
    bundle_hash,
    read_manifest,
    released_versions,
    sha256_file,
)
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.committee_approval import add_approval, require_committee_member
from senacs_workbench.trust.governance import acting_user


class ApprovalError(SenacsError):
    """The approval or release cannot be recorded."""


def draft_dir(workspace: Workspace, year: int) -> Path:
    return workspace.published / DRAFTS / str(year)


def valid_approvals(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The approvals of a bundle's manifest bound to its current hash."""
    return rule.valid_approvals(manifest.get("approvals", []), "bundle_hash", bundle_hash(manifest))


def missing_institutions(manifest: dict[str, Any]) -> list[str]:
    """The institutions whose valid approval the bundle still lacks (:mod:`senacs_workbench.core.approvals`)."""
    return rule.missing_institutions(valid_approvals(manifest))


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))


def _verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.exists() or sha256_file(path) != expected:
            raise ApprovalError(
                f"Le fichier {path} ne correspond plus au jeu de tableaux audité : reconstruisez-le avec "
                "« senacs publish » avant toute approbation."
            )


@dataclass(frozen=True)
class ApprovalOutcome:
    year: int
    approver: str
    released: Path | None
    missing: list[str]
    message_fr: str


def approve(workspace: Workspace, year: int, user: str | None = None) -> ApprovalOutcome:
    """Record the acting committee member's approval of the draft of ``year``; release it if complete."""
    user = user or acting_user()
    folder = draft_dir(workspace, year)
    if not (folder / MANIFEST).exists():
        raise ApprovalError(f"Aucun jeu de tableaux en attente d'approbation pour la campagne {year}.")
    territory = workspace.territory
    member = require_committee_member(workspace, territory, user, "approve_bundle", {"year": year})
    key = territory.key
    manifest = read_manifest(folder)
    _verify_files(folder, manifest)
    current = bundle_hash(manifest)
    from senacs_workbench.restricted.publication.rejection import refuse_if_rejected

    refuse_if_rejected(workspace, year, current)  # a rejected bundle is never approved (rejection.py)
    manifest["approvals"] = add_approval(manifest.get("approvals", []), member, "bundle_hash", current)
    _write_manifest(folder, manifest)
    audit_log.append(workspace.audit_log_path, user=user, action="approve_bundle", territory=key,
                     details={"year": year, "bundle_hash": current, "institution": member.institution})
    missing = missing_institutions(manifest)
    if missing:
        labels = rule.missing_phrase(missing)
        return ApprovalOutcome(year, user, None, missing,
                               f"Approbation de {member.name} enregistrée pour la campagne {year} ; "
                               f"il manque encore l'approbation d'{labels} "
                               "pour publier.")
    released = release(workspace, year, user)
    return ApprovalOutcome(year, user, released, [],
                           f"Approbation de {member.name} enregistrée : le jeu de tableaux {year} est publié "
                           f"({released}).")


def release(workspace: Workspace, year: int, user: str) -> Path:
    """Move a fully approved draft to ``released/<year>/v<k>`` (one rename) and record it in the ledger."""
    from senacs_workbench.restricted.publication.ledger_store import record_release

    folder = draft_dir(workspace, year)
    manifest = read_manifest(folder)
    _verify_files(folder, manifest)
    from senacs_workbench.restricted.publication.rejection import refuse_if_rejected

    refuse_if_rejected(workspace, year, bundle_hash(manifest))
    if missing_institutions(manifest):
        raise ApprovalError(f"Le jeu de tableaux {year} n'a pas encore les approbations requises.")
    year_dir = workspace.published / RELEASED / str(year)
    year_dir.mkdir(parents=True, exist_ok=True)
    versions = released_versions(workspace.published / RELEASED, year)
    target = year_dir / f"v{int(versions[-1].name[1:]) + 1 if versions else 1}"
    manifest["state"] = "released"
    manifest["released_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write_manifest(folder, manifest)
    record_release(workspace, year, folder, manifest)
    folder.rename(target)
    audit_log.append(workspace.audit_log_path, user=user, action="release_bundle", territory=workspace.territory.key,
                     details={"year": year, "bundle_hash": bundle_hash(manifest), "folder": target.name})
    return target
