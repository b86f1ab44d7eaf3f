"""Committee approval of a draft bundle (charter 3.1; output checking as in trusted research environments).

A draft becomes released only once at least one CAF member and one federation member of the
workspace territory's steering committee have approved that exact bundle: each approval is the
member's Ed25519 signature of the bundle's hash (:mod:`senacs_workbench.core.committee_decisions`),
so a bundle rebuilt or altered after approval loses them. On release the governance chain in
force is copied into the bundle (``governance-chain.json``): the committee side verifies the
approvals with the keys it names, without reading the workspace. A member may revoke their
approval until the release.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core import approvals as rule
from senacs_workbench.core.committee_decisions import approval_state
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.governance_chain import CHAIN_FILE, chain_path, verify_workspace_chain
from senacs_workbench.core.signatures import SignedStatement
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
from senacs_workbench.trust.committee_approval import demo_signature, record_signature, require_committee_member
from senacs_workbench.trust.identity import acting_user


class ApprovalError(SenacsError):
    """The approval or release cannot be recorded."""


def draft_dir(workspace: Workspace, year: int) -> Path:
    return workspace.published / DRAFTS / str(year)


def draft_approval_state(workspace: Workspace, manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The draft's approvals that are valid signatures of its hash by its committee, and what still lacks."""
    chain = verify_workspace_chain(workspace.governance_path)
    return approval_state(manifest.get("approvals", []), "bundle", workspace.territory, "bundle_hash",
                          bundle_hash(manifest), chain)


def missing_institutions(workspace: Workspace, manifest: dict[str, Any]) -> list[str]:
    """The institutions whose valid signed approval the bundle still lacks."""
    return draft_approval_state(workspace, manifest)[1]


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


def draft_manifest(workspace: Workspace, year: int) -> tuple[Path, dict[str, Any]]:
    """The draft of ``year``'s folder and manifest, its files checked; a French error if there is none."""
    folder = draft_dir(workspace, year)
    if not (folder / MANIFEST).exists():
        raise ApprovalError(f"Aucun jeu de tableaux en attente d'approbation pour la campagne {year}.")
    manifest = read_manifest(folder)
    _verify_files(folder, manifest)
    return folder, manifest


def approve(workspace: Workspace, year: int, user: str | None = None,
            signature: SignedStatement | None = None) -> ApprovalOutcome:
    """Record a committee member's signed approval of the draft of ``year``; release it if complete.

    ``signature``: the member's signature file's content (``senacs release sign``). Without it, in a
    demonstration workspace only, the acting (fictitious) member signs with their demonstration key.
    """
    folder, manifest = draft_manifest(workspace, year)
    territory = workspace.territory
    current = bundle_hash(manifest)
    details = {"year": year, "bundle_hash": current}
    from senacs_workbench.restricted.publication.rejection import refuse_if_rejected

    refuse_if_rejected(workspace, year, current)  # a rejected bundle is never approved (rejection.py)
    if signature is None:
        user = user or acting_user(workspace.governance_path)
        require_committee_member(workspace, territory, user, "approve_bundle", {"year": year})
        signature = demo_signature(workspace, user, "bundle", territory, current)
    member, approvals = record_signature(workspace, manifest.get("approvals", []), signature, "bundle", territory,
                                         "bundle_hash", current, "approve_bundle", details)
    manifest["approvals"] = approvals
    _write_manifest(folder, manifest)
    audit_log.append(workspace.audit_log_path, user=member.user, action="approve_bundle", territory=territory.key,
                     details={**details, "institution": member.institution})
    missing = missing_institutions(workspace, manifest)
    if missing:
        labels = rule.missing_phrase(missing)
        return ApprovalOutcome(year, member.user, None, missing,
                               f"Approbation signée de {member.name} enregistrée pour la campagne {year} ; "
                               f"il manque encore l'approbation d'{labels} "
                               "pour publier.")
    released = release(workspace, year, member.user)
    return ApprovalOutcome(year, member.user, released, [],
                           f"Approbation signée de {member.name} enregistrée : le jeu de tableaux {year} est publié "
                           f"({released}).")


def revoke(workspace: Workspace, year: int, user: str) -> str:
    """Remove ``user``'s approval of the draft of ``year`` (only before its release); logged."""
    folder, manifest = draft_manifest(workspace, year)
    kept = [a for a in manifest.get("approvals", []) if a.get("user") != user]
    if len(kept) == len(manifest.get("approvals", [])):
        raise ApprovalError(f"Aucune approbation de {user} sur le jeu de tableaux {year} en attente.")
    manifest["approvals"] = kept
    _write_manifest(folder, manifest)
    audit_log.append(workspace.audit_log_path, user=acting_user(workspace.governance_path), action="revoke_approval",
                     territory=workspace.territory.key,
                     details={"year": year, "approver": user, "bundle_hash": bundle_hash(manifest)})
    return f"L'approbation de {user} du jeu de tableaux {year} est retirée ; il n'est pas publié."


def release(workspace: Workspace, year: int, user: str) -> Path:
    """Move a fully approved draft to ``released/<year>/v<k>`` (one rename) and record it in the ledger."""
    from senacs_workbench.restricted.publication.ledger_store import record_release

    folder = draft_dir(workspace, year)
    manifest = read_manifest(folder)
    _verify_files(folder, manifest)
    from senacs_workbench.restricted.publication.rejection import refuse_if_rejected

    refuse_if_rejected(workspace, year, bundle_hash(manifest))
    if missing_institutions(workspace, manifest):
        raise ApprovalError(f"Le jeu de tableaux {year} n'a pas encore les approbations requises.")
    shutil.copyfile(chain_path(workspace.governance_path), folder / CHAIN_FILE)
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
