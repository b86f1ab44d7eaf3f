"""The raw-data gate: every operation on raw data goes through :func:`require_raw_access`.

It checks the governance (the acting user must be the territory's designated preparer or
one of its correspondents, possibly of an enclosing territory) and appends the access — or
its refusal — to the tamper-evident audit log.
"""

from __future__ import annotations

from typing import Any

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.identity import acting_user

RAW_ACTIONS = {
    "import": "d'importer des données",
    "read_answers": "de lire les réponses",
    "coherence_check": "de lancer le contrôle de cohérence",
    "correct_answer": "de corriger une réponse",
    "enter_answers": "de saisir des réponses",
    "publish": "de préparer une publication",
    "read_authorised": "de lire les vues infra-départementales (EPCI, communes)",
    "review_cells": "de lister les cellules à relire (statut R)",
    "review_decide": "de décider de la publication des cellules à relire (statut R)",
}


def require_raw_access(
    workspace: Workspace,
    action: str,
    territory: geo.Territory,
    details: dict[str, Any] | None = None,
    user: str | None = None,
) -> str:
    """Return the acting user if they may perform ``action`` on ``territory``'s raw data.

    Both outcomes are written to the audit log; a refusal raises :class:`AccessDenied` with
    a French message.
    """
    user = user or acting_user(workspace.governance_path)
    governance = load_governance(workspace.governance_path)
    role = governance.raw_access_role(user, territory)
    key = territory.key
    if role is None:
        audit_log.append(
            workspace.audit_log_path,
            user=user,
            action=f"refused:{action}",
            territory=key,
            details=details,
        )
        what = RAW_ACTIONS.get(action, f"de réaliser « {action} »")
        raise AccessDenied(
            f"Accès refusé : {user} n'est ni le préparateur désigné ni un correspondant SENACS "
            f"pour {geo.LEVEL_LABELS[territory.level]} {territory.name} ; impossible {what} "
            "(charte 1.3 et 3.2). Ce refus est inscrit au journal d'audit."
        )
    audit_log.append(
        workspace.audit_log_path,
        user=user,
        action=action,
        territory=key,
        details={"role": role, **(details or {})},
    )
    return user
