"""``senacs release show``: drafts and releases, their audit and what changed since the last release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core.approvals import INSTITUTION_LABELS
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.bundle_contract import DRAFTS, RELEASED, read_manifest, released_versions, table_name
from senacs_workbench.released.published import is_withdrawn, verified_bundle_approvals
from senacs_workbench.restricted.publication.approval import draft_approval_state

KEY = ["variable", "statistic", "answer", "level", "territory", "breakdown", "category"]


def changes(previous: Path, current: Path, year: int) -> dict[str, int]:
    """Cells added, removed, whose value changed, newly suppressed and newly published."""
    old = pd.read_parquet(previous / table_name(year)).set_index(KEY)
    new = pd.read_parquet(current / table_name(year)).set_index(KEY)
    common = old.index.intersection(new.index)
    o, n = old.loc[common], new.loc[common]
    value_changed = ~((o.value == n.value) | (o.value.isna() & n.value.isna()))
    return {
        "added": len(new.index.difference(old.index)),
        "removed": len(old.index.difference(new.index)),
        "value_changed": int(value_changed.sum()),
        "newly_suppressed": int(((o.status == "V") & (n.status != "V")).sum()),
        "newly_published": int(((o.status != "V") & (n.status == "V")).sum()),
    }


def release_records(workspace: Workspace) -> list[dict[str, Any]]:
    """One record per draft and released bundle (for ``senacs status`` and ``release show``)."""
    records: list[dict[str, Any]] = []
    released_root = workspace.published / RELEASED
    years = set()
    for root in (released_root, workspace.published / DRAFTS):
        if root.is_dir():
            years |= {int(p.name) for p in root.iterdir() if p.name.isdigit()}
    for year in sorted(years):
        versions = released_versions(released_root, year)
        for folder in versions:
            manifest = read_manifest(folder)
            state = "withdrawn" if is_withdrawn(folder) else "released"
            records.append(_record(manifest, folder, state, verified_bundle_approvals(folder, manifest)))
        draft = workspace.published / DRAFTS / str(year)
        if (draft / "manifest.json").exists():
            manifest = read_manifest(draft)
            approvals, missing = draft_approval_state(workspace, manifest)
            record = _record(manifest, draft, "draft", approvals)
            record["missing_approvals"] = missing
            record["review_pending"] = pending_review(workspace, year, str(manifest.get("bundle_hash")))
            if versions:
                record["changes_since_release"] = changes(versions[-1], draft, year)
            records.append(record)
    return records


def pending_review(workspace: Workspace, year: int, bundle_hash: str) -> int:
    """Cells of status R of the draft still awaiting a person's decision: its sums of status R
    (restricted reasons file) whose decision in force is not « masquer » (none, or a « publier »
    the engine did not apply because the cell changed since: stale)."""
    from senacs_workbench.restricted.publication.review_cells import cell_id
    from senacs_workbench.restricted.publication.review_decisions import SUPPRESS, latest, load_decisions

    path = workspace.restricted / "publication" / str(year) / f"reasons-{bundle_hash}.parquet"
    if not path.exists():
        return 0
    reasons = pd.read_parquet(path)
    cells = reasons[(reasons["status"] == "R") & (reasons["statistic"] == "sum")]
    decided = {i for i, d in latest(load_decisions(workspace.restricted, year)).items() if d["decision"] == SUPPRESS}
    ids = (cell_id(year, r.variable, r.answer, r.level, r.territory, r.breakdown, r.category)
           for r in cells.itertuples(index=False))
    return sum(i not in decided for i in ids)


def _record(manifest: dict[str, Any], folder: Path, state: str, approvals: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "year": manifest["year"],
        "state": state,
        "folder": str(folder),
        "data_version": manifest.get("data_version"),
        "bundle_hash": manifest.get("bundle_hash"),
        "cells": manifest.get("cells"),
        "suppressed": manifest.get("suppressed"),
        "audit": manifest.get("audit", {}),
        "approvals": [
            {"user": a["user"], "institution": a["institution"], "time": a["time"]} for a in approvals
        ],
    }


def describe_releases(workspace: Workspace) -> str:
    records = release_records(workspace)
    if not records:
        return "Aucun jeu de tableaux : lancez « senacs publish --year ANNÉE »."
    lines = []
    for record in records:
        labels = {"released": "publié", "withdrawn": "RETIRÉ (plus servi)"}
        state = labels.get(record["state"], "EN ATTENTE D'APPROBATION")
        lines.append(
            f"Campagne {record['year']} — {state} — version {record['data_version']} des données, "
            f"{format_number(record['cells'])} cellules dont {format_number(record['suppressed'])} masquées "
            f"(empreinte {str(record['bundle_hash'])[:12]}…)"
        )
        audit = record["audit"]
        if audit:
            shown = ", ".join(f"{k} = {v}" for k, v in sorted(audit.items()) if not isinstance(v, list | dict))
            lines.append(f"  audit : {shown}")
        if audit.get("withheld_variables"):
            lines.append("  questions non publiées (protection non garantie par l'audit) : "
                         + ", ".join(audit["withheld_variables"]))
        for approval in record["approvals"]:
            lines.append(f"  approuvé par {approval['user']} ({approval['institution']}) le {approval['time']}")
        if record.get("review_pending"):
            lines.append(f"  cellules à relire (statut R, masquées en attendant) : {record['review_pending']} "
                         f"(« senacs secret list --year {record['year']} »)")
        if record.get("missing_approvals"):
            lines.append("  approbations manquantes : " + ", ".join(
                INSTITUTION_LABELS[m] for m in record["missing_approvals"]))
        if "changes_since_release" in record:
            c = record["changes_since_release"]
            lines.append(
                f"  depuis la dernière publication : {c['value_changed']} valeurs modifiées, {c['added']} cellules "
                f"ajoutées, {c['removed']} retirées, {c['newly_suppressed']} nouvellement masquées, "
                f"{c['newly_published']} nouvellement publiées"
            )
    return "\n".join(lines)
