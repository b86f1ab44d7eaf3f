"""Recording steering-committee approvals (charter 3.1): a member's signature, checked before it is kept.

A member approves on their own machine by signing the exact hash of a bundle or a plaquette PDF
(``senacs release sign`` / ``senacs plaquette sign``, :mod:`senacs_workbench.core.signatures`);
the preparer records the signature file. It is kept only if it proves that decision, for that
territory, by a member of that territory's committee whose key is in the governance in force;
any other is refused with a French message and the refusal written to the audit log. In a
demonstration governance (``demo: true``) a fictitious member's approval may be signed on the
spot with their derivable demonstration key (:func:`demo_signature`). Which approvals count is
:mod:`senacs_workbench.core.committee_decisions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from senacs_workbench.core import territories as geo
from senacs_workbench.core.committee_decisions import verified_approvals
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.governance import Member, load_governance
from senacs_workbench.core.signatures import KIND_LABELS, SignedStatement, demo_private_key, sign
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.trust import audit_log


def require_committee_member(workspace: Workspace, territory: geo.Territory, user: str, action: str,
                             details: dict[str, Any] | None = None) -> Member:
    """The committee member ``user`` of ``territory``'s steering committee; refuse (and log) anyone else."""
    governance = load_governance(workspace.governance_path)
    entry = governance.for_territory(territory)
    member = entry.committee_member(user) if entry else None
    if member is None:
        audit_log.append(workspace.audit_log_path, user=user, action=f"refused:{action}",
                         territory=territory.key, details=details)
        raise AccessDenied(
            f"Approbation refusée : {user} n'est pas membre du comité de pilotage "
            f"({geo.LEVEL_LABELS[territory.level]} {territory.name}). Ce refus est inscrit au journal d'audit."
        )
    return member


def demo_signature(workspace: Workspace, user: str, kind: str, territory: geo.Territory,
                   digest: str) -> SignedStatement:
    """``user``'s signature with their demonstration key; refused outside a demonstration governance."""
    governance = load_governance(workspace.governance_path)
    if not governance.demo:
        raise AccessDenied(
            f"Dans un espace de travail réel, {KIND_LABELS[kind]} est la signature d'un membre du comité : "
            f"le membre signe l'empreinte {digest} sur son propre poste (« senacs release sign » ou « senacs "
            "plaquette sign ») et le préparateur enregistre le fichier de signature (option --signature)."
        )
    return sign(demo_private_key(user), kind, territory.key, digest, user)


def record_signature(workspace: Workspace, approvals: Iterable[Mapping[str, Any]], signed: SignedStatement,
                     kind: str, territory: geo.Territory, hash_field: str, digest: str, action: str,
                     details: dict[str, Any]) -> tuple[Member, list[dict[str, Any]]]:
    """The verified approvals of ``digest`` plus ``signed``'s; refuse (and log) a signature that proves nothing."""
    governance = load_governance(workspace.governance_path)
    entry = governance.for_territory(territory)
    committee = entry.committee if entry else ()
    candidate = {"user": signed.user, "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 hash_field: digest, "signature": signed.to_dict()}
    accepted = verified_approvals([candidate], kind, territory, hash_field, digest, committee)
    if not accepted:
        audit_log.append(workspace.audit_log_path, user=signed.user or "?", action=f"refused:{action}",
                         territory=territory.key, details={**details, "reason": "signature"})
        member = entry.committee_member(signed.user) if entry else None
        if member is None:
            why = f"{signed.user or 'le signataire'} n'est pas membre du comité de pilotage de ce territoire"
        elif not member.key:
            why = f"{member.name} n'a pas de clé publique dans la gouvernance"
        else:
            why = ("la signature ne correspond pas à cette décision (autre empreinte, autre territoire ou autre "
                   "type de décision) ou à la clé de ce membre")
        raise AccessDenied(
            f"Signature refusée pour {KIND_LABELS[kind]} ({geo.LEVEL_LABELS[territory.level]} {territory.name}, "
            f"empreinte {digest[:12]}…) : {why}. Ce refus est inscrit au journal d'audit."
        )
    kept = [a for a in verified_approvals(approvals, kind, territory, hash_field, digest, committee)
            if a["user"] != signed.user]
    kept.append(accepted[0])
    member = entry.committee_member(signed.user) if entry else None
    assert member is not None
    return member, kept
