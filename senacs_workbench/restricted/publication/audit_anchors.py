"""The audit log's anchors: the log heads recorded in the workspace's bundle manifests.

Every draft records the audit log's head when it was written (``audit_anchor``); the committee
signs it with the bundle's hash, so it cannot be changed without losing the approvals.
:func:`workspace_anchors` gathers them (drafts and released bundles) for
:func:`senacs_workbench.trust.audit_log.verify`.
"""

from __future__ import annotations

import json
from pathlib import Path

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.bundle_contract import DRAFTS, MANIFEST, RELEASED
from senacs_workbench.trust.audit_log import Anchor


def _manifests(published: Path) -> list[Path]:
    found = sorted((published / DRAFTS).glob(f"*/{MANIFEST}")) if (published / DRAFTS).is_dir() else []
    if (published / RELEASED).is_dir():
        found += sorted((published / RELEASED).glob(f"*/v*/{MANIFEST}"))
    return found


def workspace_anchors(workspace: Workspace) -> list[Anchor]:
    """One anchor per bundle manifest that records the log's head (older bundles record none)."""
    anchors = []
    for path in _manifests(workspace.published):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        anchor = manifest.get("audit_anchor")
        if isinstance(anchor, dict) and isinstance(anchor.get("seq"), int) and isinstance(anchor.get("hash"), str):
            where = path.parent.relative_to(workspace.published)
            anchors.append(Anchor(anchor["seq"], anchor["hash"], f"le jeu de tableaux {where}"))
    return anchors
