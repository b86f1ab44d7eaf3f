"""Taking a campaign file in: import it, then question the centres whose values break the bounds.

The import (:mod:`senacs_workbench.restricted.importing`) stores values that parse but break the
codebook's bounds as entered, blank for every aggregate, and required answers left blank as
missing; this use case then runs the coherence rules on the bounds and the required answers
(``range``, ``share_bounds``, ``required``) on the new version, so that each is an open error
finding questioning its centre. It lives above both packages so that importing
does not depend on coherence (docs/architecture.md). The data version is written first: a
failure of the second step is reported in French, not raised.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.core.workspace_lock import workspace_lock
from senacs_workbench.restricted.importing.run import ImportOutcome
from senacs_workbench.restricted.importing.run import import_file as store_file
from senacs_workbench.trust.identity import acting_user

BOUND_RULE_KINDS = ("range", "share_bounds", "required")
"""The coherence checks that raise the values outside the codebook's bounds and the required
answers left blank."""


def raise_bound_findings(workspace: Workspace, year: int, user: str) -> str | None:
    """Run the bounds rules on ``year``'s latest version; a French note if that failed, else None."""
    from senacs_workbench.restricted.coherence.engine import run_check
    from senacs_workbench.restricted.coherence.rules import load_catalogue

    rules = [r.id for r in load_catalogue().check_rules if r.kind in BOUND_RULE_KINDS]
    try:
        run_check(workspace, year, user=user, rule_ids=rules)
    except SenacsError as exc:
        return (f"Attention : les constats n'ont pas pu être enregistrés ({exc}) ; lancez « senacs check "
                f"--year {year} ».")
    return None


def import_file(workspace: Workspace, path: Path, year: int, *, mapping: Path | None = None, partial: bool = False,
                user: str | None = None, mode: str | None = None) -> ImportOutcome:
    """Import ``path`` as a new data version of ``year`` and raise its out-of-bounds values as findings,
    holding the workspace lock (:mod:`senacs_workbench.core.workspace_lock`): no campaign, publication,
    backup or erasure runs meanwhile."""
    user = user or acting_user(workspace.governance_path)
    with workspace_lock(workspace.root, f"l'import de {Path(path).name} (campagne {year})"):
        outcome = store_file(workspace, path, year, mapping=mapping, partial=partial, user=user, mode=mode)
        if (outcome.out_of_bounds or outcome.missing_required) and not outcome.already_imported:
            note = raise_bound_findings(workspace, year, user)
            if note:
                outcome = dataclasses.replace(outcome, message_fr=f"{outcome.message_fr} {note}")
    return outcome
