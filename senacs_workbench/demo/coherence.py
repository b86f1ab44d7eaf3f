"""The coherence step of ``senacs demo``: check, question sheets, and one finding of each outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections import correct_answer, render_history, value_history
from senacs_workbench.restricted.coherence.engine import run_check
from senacs_workbench.restricted.coherence.resolution import (
    ask_findings,
    coherence_status,
    list_findings,
    render_coherence_status,
    resolve_finding,
)
from senacs_workbench.restricted.coherence.review import entered_for_centres, write_review_sheets
from senacs_workbench.restricted.coherence.sheets import coherence_dir, write_question_sheets

Echo = Callable[[str], None]


def _corrected_value(finding: dict[str, Any]) -> tuple[str, str] | None:
    """A plausible corrected value for the demo: (variable, value)."""
    values = fs.decode_values(finding["values_json"])
    if finding["rule_id"] == "etp_superieur_salaries" and values.get("etp") is not None:
        return "salaries", str(int(-(-float(values["etp"]) // 1)) + 1)
    if finding["rule_id"] == "benevoles_instances_plausibles" and values.get("benevoles_instances") is not None:
        return "benevoles_activite", str(int(values["benevoles_instances"]) + 5)
    return None


def demo_coherence(workspace: Workspace, year: int, echo: Echo = print) -> dict[str, Any]:
    """Run the check on ``year``, send the question sheets, then confirm one finding, correct
    one (a new data version, the original kept) and withdraw one; print what happened."""
    report = run_check(workspace, year)
    echo(report.message_fr)
    sheets = write_question_sheets(workspace, year)
    open_findings = list_findings(workspace, year, status=fs.OPEN)
    ask_findings(workspace, [int(i) for i in open_findings["finding_id"]], exchange="fiches de questions de la démo")
    echo(f"{sheets.message_fr} Fiches dans {coherence_dir(workspace, year)}.")
    asked = list_findings(workspace, year, status=fs.ASKED).to_dict("records")
    asked.sort(key=lambda f: _corrected_value(f) is None)  # a correctable finding first
    done: dict[str, Any] = {"check": report, "confirmed": None, "corrected": None, "withdrawn": None}
    for finding in asked:
        fix = _corrected_value(finding)
        if fix is not None and done["corrected"] is None:
            variable, value = fix
            result = correct_answer(
                workspace,
                year,
                finding["structure_id"],
                variable,
                value,
                why="Le centre a répondu à la fiche de questions : erreur de saisie.",
                exchange="courriel du centre (démo)",
                finding_id=int(finding["finding_id"]),
            )
            echo(result.message_fr)
            echo(
                render_history(
                    value_history(workspace, year, finding["structure_id"], variable),
                    year,
                    finding["structure_id"],
                    variable,
                )
            )
            done["corrected"] = int(finding["finding_id"])
        elif finding["severity"] == "warning" and done["confirmed"] is None and fix is None:
            echo(
                resolve_finding(
                    workspace,
                    int(finding["finding_id"]),
                    "confirm",
                    note="Le centre confirme : la valeur déclarée est juste.",
                    exchange="appel téléphonique (démo)",
                )
            )
            done["confirmed"] = int(finding["finding_id"])
        elif done["withdrawn"] is None and fix is None:
            echo(
                resolve_finding(
                    workspace,
                    int(finding["finding_id"]),
                    "withdraw",
                    note="Constat retiré par le correspondant après vérification.",
                )
            )
            done["withdrawn"] = int(finding["finding_id"])
        if all(done[k] is not None for k in ("confirmed", "corrected", "withdrawn")):
            break
    entered = entered_for_centres(workspace, year)
    sample = sorted(entered["structure_id"].unique())[:3]
    review = write_review_sheets(workspace, year, structures=sample)
    echo(
        f"{review.message_fr} (démonstration : {len(sample)} centres ; « senacs review-sheets --year {year} » "
        f"les écrit pour les {entered['structure_id'].nunique()} centres concernés)."
    )
    echo(render_coherence_status(coherence_status(workspace)))
    done["review"] = review
    return done
