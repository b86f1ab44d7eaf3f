"""The state of a workspace, as a JSON-serialisable dict (``senacs status --json``) and in French."""

from __future__ import annotations

from typing import Any

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.publication.audit_anchors import workspace_anchors
from senacs_workbench.trust import audit_log

KIND_LABELS = {"correction": "corrections", "entry": "saisie pour le compte d'un centre"}


def workspace_status(workspace: Workspace) -> dict[str, Any]:
    from senacs_workbench.restricted.store import store_summary

    config = workspace.config
    status: dict[str, Any] = {
        "workspace": str(workspace.root),
        "name": config.get("name"),
        "territory": config.get("territory"),
    }
    status.update(store_summary(workspace))
    try:
        governance = load_governance(workspace.governance_path)
        status["governance"] = [
            {
                "territory": t.territory.key,
                "preparer": t.preparer.user,
                "committee": [m.user for m in t.committee],
                "correspondents": [c.user for c in t.correspondents],
            }
            for t in governance.territories
        ]
    except SenacsError as exc:
        status["governance"] = {"error": str(exc)}
    from senacs_workbench.restricted.coherence.resolution import coherence_status
    from senacs_workbench.restricted.publication.plaquette import plaquette_states
    from senacs_workbench.restricted.publication.review import release_records

    status["findings"] = coherence_status(workspace)
    status["releases"] = release_records(workspace)
    status["plaquettes"] = plaquette_states(workspace)
    try:
        verification = audit_log.verify(workspace.audit_log_path, workspace_anchors(workspace))
        status["audit_log"] = {"entries": verification.entries, "last_hash": verification.last_hash, "ok": True}
    except SenacsError as exc:
        status["audit_log"] = {"ok": False, "error": str(exc)}
    return status


def render_status(status: dict[str, Any]) -> str:
    """The readable (French) form of :func:`workspace_status`."""
    lines = [f"Espace de travail : {status['workspace']} ({status.get('name')}, territoire {status.get('territory')})"]
    years = status.get("years") or []
    lines.append(f"Campagnes importées : {', '.join(str(y) for y in years) if years else 'aucune'}")
    for version in status.get("data_versions", []):
        lines.append(
            f"  {version['year']} — version {version['version']} : "
            f"{format_number(version['structures'])} structures, {format_number(version['answers'])} réponses"
            f" ({version.get('import_file') or KIND_LABELS.get(str(version.get('kind')), str(version.get('kind')))})"
        )
    imports = status.get("imports", [])
    if imports:
        lines.append("Fichiers importés :")
        for item in imports:
            lines.append(f"  {item['file']} (campagne {item['year']}) sha256 {item['sha256']}")
    from senacs_workbench.restricted.coherence.resolution import render_coherence_status

    if "findings" in status:
        lines.append(render_coherence_status(status["findings"]))
    releases = status.get("releases") or []
    lines.append("Jeux de tableaux :" if releases else "Jeux de tableaux : aucun (« senacs publish »).")
    for record in releases:
        state = {"released": "publié", "withdrawn": "retiré"}.get(record["state"], "en attente d'approbation")
        approvers = ", ".join(f"{a['user']} ({a['institution']})" for a in record["approvals"]) or "aucune"
        lines.append(
            f"  {record['year']} — {state}, version {record['data_version']} des données, "
            f"{format_number(record['suppressed'])} cellules masquées sur {format_number(record['cells'])} ; "
            f"approbations : {approvers}"
        )
    if status.get("plaquettes"):
        from senacs_workbench.restricted.publication.plaquette import render_states

        lines.append(render_states(status["plaquettes"]))
    governance = status.get("governance")
    if isinstance(governance, dict):
        lines.append(f"Gouvernance : {governance['error']}")
    elif governance:
        lines.append("Gouvernance :")
        for entry in governance:
            lines.append(
                f"  {entry['territory']} : préparateur {entry['preparer']}, "
                f"{len(entry['committee'])} membres du comité, {len(entry['correspondents'])} correspondants"
            )
    log = status.get("audit_log", {})
    if log.get("ok"):
        lines.append(f"Journal d'audit : {log['entries']} entrées, chaînage intact")
    else:
        lines.append(f"Journal d'audit : ALERTE — {log.get('error')}")
    return "\n".join(lines)
