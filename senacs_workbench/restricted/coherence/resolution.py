"""The resolution workflow: list, ask, confirm, withdraw; the centres' objections; the status.

``open → asked → confirmed | corrected | withdrawn``: asking records the exchange (the question
sheet sent); confirming means the centre says its answer is right; withdrawing means the
correspondent drops the finding; correcting goes through :mod:`.corrections` (a new data
version). Each move is access-checked on the structure's département and kept as an event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.formatting import format_number, format_percent
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections import CorrectionError
from senacs_workbench.restricted.coherence.rules import OBJECTION_RULE, SEVERITIES, SEVERITY_LABELS, load_catalogue
from senacs_workbench.restricted.coherence.scope import in_territory, resolve_territory, structure_territory
from senacs_workbench.restricted.coherence.values import display_value
from senacs_workbench.restricted.store import (
    PROVENANCE_LABELS,
    connect,
    current_answers,
    latest_version,
    structure_row,
    transaction,
)
from senacs_workbench.trust.access import require_raw_access

CLOSING = {
    "confirmer": fs.CONFIRMED,
    "retirer": fs.WITHDRAWN,
    "confirm": fs.CONFIRMED,
    "confirmed": fs.CONFIRMED,
    "withdraw": fs.WITHDRAWN,
    "withdrawn": fs.WITHDRAWN,
    "corrected": fs.CORRECTED,
}


def list_findings(
    workspace: Workspace,
    year: int | None = None,
    *,
    territory: geo.Territory | str | None = None,
    status: str | Sequence[str] | None = None,
    structure: str | None = None,
    rule: str | None = None,
    user: str | None = None,
) -> pd.DataFrame:
    """The findings (access-checked on ``territory``, the workspace's by default)."""
    place = resolve_territory(workspace, territory)
    require_raw_access(
        workspace, "coherence_check", place, details={"year": year, "operation": "list_findings"}, user=user
    )
    if not workspace.store_path.exists():
        return pd.DataFrame(columns=list(fs.FINDING_COLUMNS))
    with connect(workspace, read_only=True) as con:
        frame = fs.fetch_findings(con)
    if frame.empty:
        return frame
    keep = in_territory(frame, place)
    if year is not None:
        keep &= frame["year"] == year
    if status is not None:
        keep &= frame["status"].isin([status] if isinstance(status, str) else list(status))
    if structure is not None:
        keep &= frame["structure_id"] == structure
    if rule is not None:
        keep &= frame["rule_id"] == rule
    return frame[keep.to_numpy()].reset_index(drop=True)


def render_findings(frame: pd.DataFrame, limit: int | None = 50) -> str:
    """One French line per finding (``senacs findings list``)."""
    if frame.empty:
        return "Aucun constat."
    shown = frame if limit is None else frame.head(limit)
    lines = [
        f"n° {r['finding_id']} [{SEVERITY_LABELS.get(r['severity'], r['severity'])}, "
        f"{fs.STATUS_LABELS.get(r['status'], r['status'])}] {r['structure_id']} ({r['nom_structure'] or ''}) — "
        f"{r['rule_id']} : {r['message']}"
        for r in shown.to_dict("records")
    ]
    if len(frame) > len(shown):
        lines.append(
            f"… et {format_number(len(frame) - len(shown))} autre(s) constat(s) ({format_number(len(frame))} au total)."
        )
    return "\n".join(lines)


def _load_for_move(
    workspace: Workspace, finding_ids: Sequence[int], user: str | None, operation: str
) -> tuple[str, list[dict[str, Any]]]:
    with connect(workspace, read_only=True) as con:
        records = fs.get_findings(con, [int(i) for i in finding_ids])
    acting = None
    for departement in sorted({str(r["departement"]) for r in records}):
        acting = require_raw_access(
            workspace,
            "coherence_check",
            structure_territory(departement),
            details={
                "operation": operation,
                "findings": [int(r["finding_id"]) for r in records if str(r["departement"]) == departement],
            },
            user=user,
        )
    return acting or (user or ""), records


def ask_findings(
    workspace: Workspace,
    finding_ids: Sequence[int],
    *,
    exchange: str | None = None,
    user: str | None = None,
) -> int:
    """Mark findings as asked to their centre (``open → asked``); return how many moved.

    Findings already asked get a new event (a reminder); closed findings are refused.
    """
    if not finding_ids:
        return 0
    acting, records = _load_for_move(workspace, finding_ids, user, "ask")
    when = fs.now()
    exchange = exchange or f"fiche de questions du {when:%d/%m/%Y}"
    with transaction(workspace) as con:
        for fresh in fs.get_findings(con, [int(r["finding_id"]) for r in records]):
            fs.move(con, fresh, fs.ASKED, acting, when, note="Question posée au centre.", exchange=exchange)
    return len(records)


def resolve_finding(
    workspace: Workspace,
    finding_id: int,
    status: str,
    *,
    note: str,
    exchange: str | None = None,
    user: str | None = None,
) -> str:
    """Close a finding as ``confirmed`` (the answer is right) or ``withdrawn``; a correction
    goes through :func:`~senacs_workbench.restricted.coherence.corrections.correct_answer`."""
    target = CLOSING.get(status)
    if target is None or target == fs.CORRECTED:
        raise fs.FindingError(
            f"Issue « {status} » inconnue : confirm (la réponse est juste) ou withdraw (constat retiré) ; "
            "pour corriger une valeur, utilisez « senacs correct … --finding N »."
        )
    if not note or not note.strip():
        raise fs.FindingError("Indiquez pourquoi le constat est clos (--why) : c'est conservé dans son historique.")
    acting, records = _load_for_move(workspace, [finding_id], user, target)
    when = fs.now()
    with transaction(workspace) as con:
        fresh = fs.get_finding(con, finding_id)
        fs.move(con, fresh, target, acting, when, note=note.strip(), exchange=exchange)
    return f"Constat n° {finding_id} ({records[0]['structure_id']}) clos : {fs.STATUS_LABELS[target]}."


def finding_events(workspace: Workspace, finding_id: int, *, user: str | None = None) -> pd.DataFrame:
    """The events of one finding (its whole life)."""
    _load_for_move(workspace, [finding_id], user, "read_events")
    with connect(workspace, read_only=True) as con:
        return fs.events(con, [finding_id])


# ---------------------------------------------------------------------------- objections


def record_objection(
    workspace: Workspace,
    year: int,
    structure_id: str,
    variable: str,
    comment: str,
    *,
    proposed_value: Any = None,
    exchange: str | None = None,
    user: str | None = None,
) -> int:
    """A centre contests a value entered for it (charter 2.2): a finding of rule
    ``objection_centre`` that follows the same workflow. Returns its number."""
    codebook = load_codebook(year)
    if variable not in codebook:
        raise CorrectionError(f"La question « {variable} » n'existe pas dans le questionnaire {year}.")
    if not comment or not comment.strip():
        raise CorrectionError("L'objection du centre doit dire ce qu'il conteste (commentaire vide).")
    question = codebook.question(variable)
    with connect(workspace, read_only=True) as con:
        version = latest_version(con, year)
        row = structure_row(con, year, version, structure_id)
    if row is None:
        raise CorrectionError(f"La structure « {structure_id} » n'existe pas dans les données de la campagne {year}.")
    acting = require_raw_access(
        workspace,
        "coherence_check",
        structure_territory(row.get("departement")),
        details={"operation": "objection", "year": year, "structure": structure_id, "variable": variable},
        user=user,
    )
    rule = load_catalogue().rule(OBJECTION_RULE)
    when = fs.now()
    with transaction(workspace) as con:
        answer = current_answers(con, year, version, [(structure_id, variable)]).get((structure_id, variable))
        value = None if answer is None else answer["value"]
        who = "–" if answer is None else PROVENANCE_LABELS.get(str(answer["provenance"]), str(answer["provenance"]))
        texts = {
            "valeur": display_value(question, value),
            "question": question.label,
            "saisi_par": who,
            "commentaire": comment.strip(),
        }
        values: dict[str, Any] = {variable: value, "saisi_par": None if answer is None else answer["provenance"]}
        values_text = f"{question.label} : {texts['valeur']} (saisi par {who})"
        if proposed_value not in (None, ""):
            values["valeur_proposee"] = str(proposed_value)
            values_text += f" ; valeur proposée par le centre : {proposed_value}"
        finding_id = fs.insert_finding(
            con,
            {
                "year": year,
                "structure_id": structure_id,
                "nom_structure": row.get("nom_structure"),
                "departement": row.get("departement"),
                "region": row.get("region"),
                "rule_id": rule.id,
                "severity": rule.severity,
                "family": None,
                "variables": variable,
                "values_json": json.dumps(values, ensure_ascii=False, sort_keys=True),
                "values_text": values_text,
                "message": rule.message.format(**texts),
                "question": rule.question,
                "origin": fs.ORIGIN_OBJECTION,
                "detected_version": version,
                "last_seen_version": version,
                "run_id": None,
                "_note": f"Objection du centre{f' ({exchange})' if exchange else ''} : {comment.strip()}",
            },
            acting,
            when,
        )
    return finding_id


# ---------------------------------------------------------------------------- status


def coherence_status(workspace: Workspace) -> dict[str, Any]:
    """The coherence state of the workspace, per campaign (for ``senacs status``; counts only).

    ``{"available": bool, "years": [{"year", "findings", "unresolved", "unresolved_by_severity",
    "by_status", "resolved", "share_resolved", "last_check", "last_check_version"}]}``.
    """
    out: dict[str, Any] = {"available": False, "years": []}
    if not workspace.store_path.exists():
        return out
    with connect(workspace, read_only=True) as con:
        if not fs.has_tables(con):
            return out
        counts = con.execute(
            "SELECT year, status, severity, count(*) AS n FROM coherence_findings GROUP BY ALL"
        ).fetchdf()
        runs = con.execute(
            """SELECT year, max(run_at) AS last_check, arg_max(version, run_at) AS version
               FROM coherence_runs GROUP BY year"""
        ).fetchdf()
    out["available"] = True
    for year in sorted(set(counts["year"].astype(int)) | set(runs["year"].astype(int))):
        part = counts[counts["year"] == year]
        total = int(part["n"].sum())
        by_status = {s: int(part.loc[part["status"] == s, "n"].sum()) for s in fs.STATUSES}
        unresolved = part[part["status"].isin(fs.ACTIVE)]
        resolved = sum(by_status[s] for s in fs.CLOSED)
        run = runs[runs["year"] == year]
        out["years"].append(
            {
                "year": year,
                "findings": total,
                "unresolved": int(unresolved["n"].sum()),
                "unresolved_by_severity": {
                    s: int(unresolved.loc[unresolved["severity"] == s, "n"].sum()) for s in SEVERITIES
                },
                "by_status": by_status,
                "resolved": resolved,
                "share_resolved": resolved / total if total else None,
                "last_check": None if run.empty else pd.Timestamp(run["last_check"].iloc[0]).isoformat(),
                "last_check_version": None if run.empty else int(run["version"].iloc[0]),
            }
        )
    return out


def render_coherence_status(status: dict[str, Any]) -> str:
    """French lines for ``senacs status``."""
    if not status.get("available") or not status.get("years"):
        return "Contrôle de cohérence : pas encore lancé."
    lines = ["Contrôle de cohérence :"]
    for item in status["years"]:
        severity = ", ".join(
            f"{format_number(item['unresolved_by_severity'][s])} {SEVERITY_LABELS[s]}(s)" for s in SEVERITIES
        )
        share = format_percent(item["share_resolved"]) if item["share_resolved"] is not None else "–"
        check = f", dernier contrôle sur la version {item['last_check_version']}" if item["last_check_version"] else ""
        lines.append(
            f"  {item['year']} : {format_number(item['findings'])} constat(s), {format_number(item['unresolved'])} "
            f"non résolu(s) ({severity}), {format_number(item['resolved'])} résolu(s) ({share}){check}"
        )
    return "\n".join(lines)


def territory_label(workspace: Workspace, territory: geo.Territory | str | None) -> str:
    place = resolve_territory(workspace, territory)
    return f"{geo.LEVEL_LABELS[place.level]} {place.name} ({place.key})"
