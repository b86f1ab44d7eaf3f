"""Recall and precision against the generator's planted incoherences (fixed seed)."""

from __future__ import annotations

import pandas as pd

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence.engine import run_check
from senacs_workbench.restricted.coherence.evaluation import evaluate_against_truth
from senacs_workbench.restricted.coherence.resolution import list_findings

from .conftest import YEARS


def test_recall_and_precision_on_planted_incoherences(
    workspace: Workspace, ground_truth: dict[int, pd.DataFrame]
) -> None:
    findings, truths = [], []
    for year in YEARS:
        run_check(workspace, year)
        found = list_findings(workspace, year)
        findings.append(found.assign(structure_id=found["structure_id"].astype(str) + f"@{year}"))
        truth = ground_truth[year]
        truths.append(truth.assign(id_structure=truth["id_structure"] + f"@{year}"))
    evaluation = evaluate_against_truth(pd.concat(findings), pd.concat(truths))
    print("\n" + evaluation.table().to_string(index=False))
    assert evaluation.planted >= 30
    assert {f.family for f in evaluation.families} == {
        "etp_superieur_salaries",
        "tranches_age",
        "financements_budget",
        "benevoles_instances",
        "action_sans_participants",
        "evolution_annuelle",
        "valeur_aberrante",
    }
    assert evaluation.recall >= 0.95
    assert evaluation.precision >= 0.90
