"""Each coherence rule on hand-built cases (no store)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.restricted.coherence.checks import CheckData, Reference, evaluate
from senacs_workbench.restricted.coherence.rules import SEVERITIES, RuleCatalogueError, load_catalogue, parse_catalogue

YEAR = 2024
CLEAN: dict[str, Any] = {
    "departement": "24",
    "region": "75",
    "nom_structure": "Centre",
    "type_structure": "CS",
    "mode_gestion": "associatif",
    "type_territoire": "urbain",
    "qpv": "qpv",
    "personnes_touchees": 800.0,
    "salaries": 20.0,
    "etp": 11.0,
    "part_cdi": 75.0,
    "part_0_10": 12.0,
    "part_11_25": 17.0,
    "part_25_59": 27.0,
    "part_60_plus": 44.0,
    "budget_total": 420_000.0,
    "financement_caf": 100_000.0,
    "financement_communes": 130_000.0,
    "financement_interco": 50_000.0,
    "financement_departement": 20_000.0,
    "financement_region": 0.0,
    "financement_etat": 40_000.0,
    "financement_usagers": 40_000.0,
    "financement_autres": 40_000.0,
    "benevoles_activite": 30.0,
    "benevoles_instances": 10.0,
    "actions_jeunesse": "oui",
    "participants_jeunesse": 40.0,
    "actions_familles": "non",
    "participants_familles": 0.0,
}


def data(rows: dict[str, dict[str, Any]], references: list[Reference] | None = None) -> CheckData:
    frame = pd.DataFrame.from_dict({sid: {**CLEAN, **changes} for sid, changes in rows.items()}, orient="index")
    frame.index.name = "structure_id"
    return CheckData(YEAR, load_codebook(YEAR), frame, references or [])


def found(checked: CheckData, rule: str) -> pd.DataFrame:
    findings = evaluate(load_catalogue(), checked, [rule])
    findings = findings[findings["rule_id"] == rule].copy()
    findings["message"] = findings["message"].map(plain)
    return findings


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_catalogue_has_the_required_rules_with_french_messages() -> None:
    catalogue = load_catalogue()
    ids = {r.id for r in catalogue.rules}
    assert {
        "plage_valeurs",
        "reponse_obligatoire",
        "etp_superieur_salaries",
        "part_cdi_coherente",
        "tranches_age_total",
        "financements_total_budget",
        "benevoles_instances_plausibles",
        "action_sans_participants",
        "evolution_budget",
        "evolution_salaries",
        "budget_par_etp_atypique",
        "objection_centre",
    } <= ids
    for rule in catalogue.rules:
        assert rule.severity in SEVERITIES
        assert rule.message and rule.question and rule.label
    assert set(catalogue.families()) == {
        "etp_superieur_salaries",
        "tranches_age",
        "financements_budget",
        "benevoles_instances",
        "action_sans_participants",
        "evolution_annuelle",
        "valeur_aberrante",
    }


def test_catalogue_errors_are_french() -> None:
    with pytest.raises(RuleCatalogueError, match="gravité"):
        parse_catalogue(
            {
                "rules": [
                    {"id": "x", "kind": "compare", "severity": "grave", "label": "l", "message": "m", "question": "q"}
                ]
            }
        )


def test_clean_structure_has_no_finding() -> None:
    assert evaluate(load_catalogue(), data({"S1": {}})).empty


def test_range_and_required() -> None:
    checked = data(
        {"S1": {"part_cdi": 120.0, "budget_total": -5.0}, "S2": {"salaries": np.nan}, "S3": {"type_structure": None}}
    )
    ranges = found(checked, "plage_valeurs")
    assert set(zip(ranges["structure_id"], ranges["variables"], strict=True)) == {("S1", ("budget_total",))}
    assert "entre 0 € et 20 000 000 €" in ranges.iloc[0]["message"]
    required = found(checked, "reponse_obligatoire")
    assert set(zip(required["structure_id"], required["variables"], strict=True)) == {
        ("S2", ("salaries",)),
        ("S3", ("type_structure",)),
    }


def test_fte_above_headcount() -> None:
    result = found(data({"S1": {"etp": 21.5}, "S2": {"etp": 20.0}}), "etp_superieur_salaries")
    assert list(result["structure_id"]) == ["S1"]
    assert result.iloc[0]["message"].startswith(
        "Vous avez déclaré 21,5 équivalents temps plein (ETP) pour 20 salarié(s)"
    )
    assert result.iloc[0]["values"] == {"etp": 21.5, "salaries": 20.0}


def test_permanent_contract_share() -> None:
    result = found(
        data(
            {
                "S1": {"part_cdi": 101.0},
                "S2": {"salaries": 0.0, "etp": 0.0, "part_cdi": 50.0},
                "S3": {"part_cdi": 100.0},
            }
        ),
        "part_cdi_coherente",
    )
    assert sorted(result["structure_id"]) == ["S1", "S2"]


def test_age_bands_sum_to_100_with_tolerance() -> None:
    result = found(
        data(
            {
                "S1": {"part_60_plus": 0.0},
                "S2": {"part_60_plus": 44.8},
                "S3": {"part_60_plus": np.nan, "part_25_59": 80.0},
            }
        ),
        "tranches_age_total",
    )
    assert sorted(result["structure_id"]) == ["S1", "S3"]
    assert "totalisent 56" in result.iloc[0]["message"]


def test_funding_sources_sum_to_total_budget() -> None:
    result = found(
        data(
            {
                "S1": {"financement_autres": 120_000.0},
                "S2": {"financement_autres": 45_000.0},
                "S3": {"financement_caf": 0.0},
            }
        ),
        "financements_total_budget",
    )
    assert sorted(result["structure_id"]) == ["S1", "S3"]
    messages = dict(zip(result["structure_id"], result["message"], strict=True))
    assert "supérieure de 19" in messages["S1"] and "inférieure de 24" in messages["S3"]


def test_volunteers_in_governance() -> None:
    result = found(
        data({"S1": {"benevoles_instances": 31.0}, "S2": {"benevoles_instances": 30.0}}),
        "benevoles_instances_plausibles",
    )
    assert list(result["structure_id"]) == ["S1"]


def test_action_without_participants_and_participants_without_action() -> None:
    result = found(
        data({"S1": {"participants_jeunesse": 0.0}, "S2": {"participants_familles": 12.0}}), "action_sans_participants"
    )
    messages = dict(zip(result["structure_id"], result["message"], strict=True))
    assert "« Oui » à « Actions jeunesse » mais déclaré 0 participant" in messages["S1"]
    assert "« Non » à « Actions familles et parentalité » mais déclaré 12 participant(s)" in messages["S2"]


def test_year_over_year_and_version_over_version() -> None:
    before = pd.DataFrame(
        {"budget_total": [100_000.0, 400_000.0, 400_000.0], "salaries": [20.0, 40.0, 20.0]}, index=["S1", "S2", "S3"]
    )
    checked = data(
        {"S1": {"budget_total": 420_000.0}, "S2": {"salaries": 20.0}, "S3": {}}, [Reference("campagne 2023", before)]
    )
    budget = found(checked, "evolution_budget")
    assert list(budget["structure_id"]) == ["S1"]
    assert "passe de 100 000 € (campagne 2023) à 420 000 € : il est multiplié par 4,2" in budget.iloc[0]["message"]
    headcount = found(checked, "evolution_salaries")
    assert list(headcount["structure_id"]) == ["S2"]
    assert "divisé par 2" in headcount.iloc[0]["message"]


def test_peer_outlier_uses_robust_scores_among_peers() -> None:
    rng = np.random.default_rng(1)
    rows = {f"S{i}": {"budget_total": float(round(37_500 * 11 * rng.uniform(0.9, 1.1)))} for i in range(12)}
    rows["S99"] = {"budget_total": 4_200_000.0}
    result = found(data(rows), "budget_par_etp_atypique")
    assert list(result["structure_id"]) == ["S99"]
    message = result.iloc[0]["message"]
    assert "centres sociaux de 10 à 29 salariés du département Dordogne" in message
    assert result.iloc[0]["values"]["score_robuste"] > 4


def test_peer_outlier_needs_enough_peers() -> None:
    rows = {"S1": {}, "S2": {}, "S3": {"budget_total": 4_200_000.0}}
    assert found(data(rows), "budget_par_etp_atypique").empty
