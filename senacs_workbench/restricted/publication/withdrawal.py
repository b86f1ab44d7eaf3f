"""Withdrawing a release: decided by the committee like an approval, recorded, no longer served.

A released bundle found wrong after publication is withdrawn by the signatures of a Caf and a
federation member of the territory's committee over the statement ``withdrawal`` / territory /
bundle hash (``senacs release sign-withdrawal``, then ``senacs release withdraw --signature``).
The decision is written beside the bundle (``withdrawal.json``: reason, time, signed
approvals); the bundle itself and the disclosure ledger are kept as they are (what was
released has been seen: later releases stay consistent with it). The signatures are checked
against the governance the bundle carries, as the reader checks them: a member whose key came in
after the release cannot sign its withdrawal (see docs/governance.md). The published reader stops
serving a version whose withdrawal is validly signed and serves the latest one that is not
withdrawn (:func:`senacs_workbench.released.published.is_withdrawn`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from senacs_workbench.core.approvals import missing_phrase
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.signatures import SignedStatement
from senacs_workbench.core.workspace import Workspace, write_text_atomic
from senacs_workbench.released.bundle_contract import RELEASED, bundle_hash, read_manifest, released_versions
from senacs_workbench.released.published import WITHDRAWAL_FILE, bundle_decision, is_withdrawn
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.committee_approval import demo_signature
from senacs_workbench.trust.identity import acting_user


class WithdrawalError(SenacsError):
    """A release cannot be withdrawn (message in French)."""


def _version_folder(workspace: Workspace, year: int, version: int | None) -> Path:
    versions = released_versions(workspace.published / RELEASED, year)
    if not versions:
        raise WithdrawalError(f"Aucun jeu de tableaux publié pour la campagne {year}.")
    if version is None:
        return versions[-1]
    chosen = [v for v in versions if v.name == f"v{version}"]
    if not chosen:
        raise WithdrawalError(f"La campagne {year} n'a pas de version publiée v{version} "
                              f"(versions : {', '.join(v.name for v in versions)}).")
    return chosen[0]


def withdraw(workspace: Workspace, year: int, reason: str, signatures: Sequence[SignedStatement] = (),
             version: int | None = None, demo_users: Sequence[str] = ()) -> str:
    """Withdraw the released bundle of ``year`` (latest version by default); French message.

    ``signatures``: the members' signatures of the withdrawal; in a demonstration workspace
    ``demo_users`` sign with their demonstration keys instead.
    """
    if not reason.strip():
        raise WithdrawalError("Indiquez le motif du retrait (--reason).")
    folder = _version_folder(workspace, year, version)
    if is_withdrawn(folder):
        raise WithdrawalError(f"Le jeu de tableaux {year} {folder.name} est déjà retiré.")
    manifest = read_manifest(folder)
    digest = bundle_hash(manifest)
    territory = workspace.territory
    signed = list(signatures) + [demo_signature(workspace, u, "withdrawal", territory, digest) for u in demo_users]
    approvals = [{"user": s.user, "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "bundle_hash": digest, "signature": s.to_dict()} for s in signed]
    verified, missing = bundle_decision(folder, manifest, approvals, "withdrawal")  # as the reader will check it
    user = acting_user(workspace.governance_path)
    if missing:
        audit_log.append(workspace.audit_log_path, user=user, action="refused:withdraw_bundle", territory=territory.key,
                         details={"year": year, "version": folder.name, "bundle_hash": digest, "missing": missing})
        raise WithdrawalError(
            f"Retrait refusé : il faut la signature du retrait par {missing_phrase(missing)} du comité de pilotage "
            f"(« senacs release sign-withdrawal --territory {territory.key} --hash {digest} »). "
            "Ce refus est inscrit au journal d'audit."
        )
    record = {"year": year, "version": folder.name, "bundle_hash": digest, "reason": reason.strip(),
              "withdrawn_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "recorded_by": user,
              "approvals": verified}
    write_text_atomic(folder / WITHDRAWAL_FILE, json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True))
    audit_log.append(workspace.audit_log_path, user=user, action="withdraw_bundle", territory=territory.key,
                     details={"year": year, "version": folder.name, "bundle_hash": digest, "reason": reason.strip(),
                              "approvers": [a["user"] for a in verified]})
    return (f"Le jeu de tableaux {year} {folder.name} est retiré ({reason.strip()}) : il n'est plus servi aux "
            "tableaux de bord ni aux carnets ; le registre du secret garde ce qui a été publié.")
