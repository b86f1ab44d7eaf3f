"""Steering-committee approvals bound to a hash (charter 3.1), shared by bundles and plaquettes.

An approval names the committee member (user, name, institution), the time and the hash of
the exact thing approved. Only approvals carrying the current hash count, so anything
rebuilt or altered after approval loses them; release or publication needs at least one
valid CAF approval and one valid federation approval (the rule itself:
:mod:`senacs_workbench.core.approvals`, which the committee side applies too). A non-member's
attempt is refused, with a French message, and the refusal is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import valid_approvals
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.governance import Member, load_governance


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


def approval_entry(member: Member, hash_field: str, digest: str) -> dict[str, Any]:
    return {
        "user": member.user,
        "name": member.name,
        "institution": member.institution,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        hash_field: digest,
    }


def add_approval(approvals: Iterable[dict[str, Any]], member: Member, hash_field: str,
                 digest: str) -> list[dict[str, Any]]:
    """The valid approvals plus ``member``'s (once per member and hash)."""
    kept = valid_approvals(approvals, hash_field, digest)
    if not any(a["user"] == member.user for a in kept):
        kept.append(approval_entry(member, hash_field, digest))
    return kept

