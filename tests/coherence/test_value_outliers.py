"""Outliers on every quantitative question (issue 21): peers, year over year, an extra zero, a
unit slip, swapped answers; thresholds read from the rule catalogue (data, not code)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.restricted.coherence.checks import CheckData, Reference, evaluate
from senacs_workbench.restricted.coherence.rules import Catalogue, load_catalogue, parse_catalogue

YEAR = 2024
RULES = ("valeur_atypique", "saisie_a_verifier")


def _peers(n: int = 40, seed: int = 3) -> pd.DataFrame:
    """``n`` comparable centres (same département, type and size class), answers with mild noise."""
    rng = np.random.default_rng(seed)
    rows: dict[str, dict[str, Any]] = {}
    for i in range(n):
        size = float(rng.lognormal(0, 0.15))
        noise = lambda: float(rng.lognormal(0, 0.15))  # noqa: E731
        rows[f"S{i:02d}"] = {
            "departement": "24", "region": "75", "nom_structure": f"Centre {i}", "type_structure": "CS",
            "salaries": 20.0, "etp": round(11.0 * size, 2), "budget_total": round(420_000 * size),
            "financement_caf": round(100_000 * size * noise()), "financement_communes": round(130_000 * size * noise()),
            "personnes_touchees": round(800 * size * noise()) + 1, "benevoles_activite": round(40 * size * noise()),
            "benevoles_instances": round(8 * size * noise()), "participants_jeunesse": round(40 * size * noise()),
            "habitants_instances": round(12 * size * noise()),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "structure_id"
    return frame


def _check(frame: pd.DataFrame, previous: pd.DataFrame | None = None,
           catalogue: Catalogue | None = None) -> pd.DataFrame:
    references = [] if previous is None else [Reference("campagne 2023", previous)]
    data = CheckData(YEAR, load_codebook(YEAR), frame, references)
    return evaluate(catalogue or load_catalogue(), data, list(RULES))


def _named(findings: pd.DataFrame) -> set[tuple[str, str]]:
    return {(s, "|".join(v)) for s, v in zip(findings["structure_id"], findings["variables"], strict=True)}


def test_peer_outliers_on_any_quantitative_question() -> None:
    frame = _peers()
    frame.loc["S01", "personnes_touchees"] = 8000.0  # an extra zero on people reached
    frame.loc["S02", "financement_caf"] = 100.0  # a unit slip: thousands of euros typed as euros
    frame.loc["S03", "habitants_instances"] *= 30  # another count, not among the old peer rules
    findings = _check(frame)
    assert {("S01", "personnes_touchees"), ("S02", "financement_caf"), ("S03", "habitants_instances")} <= _named(
        findings)
    assert set(findings["structure_id"]) == {"S01", "S02", "S03"}  # no other centre
    row = findings[findings["structure_id"] == "S02"].iloc[0]
    assert row["rule_id"] == "valeur_atypique" and row["severity"] == "warning"
    assert "Financement Caf" in row["message"] and "centres sociaux" in row["message"]


def test_year_over_year_jump_confirmed_by_peers() -> None:
    frame = _peers()
    previous = frame.copy()
    frame.loc["S04", "benevoles_activite"] = previous.loc["S04", "benevoles_activite"] * 5 + 1
    findings = _check(frame, previous)
    hit = findings[(findings["structure_id"] == "S04")]
    assert list(hit["variables"]) == [("benevoles_activite",)]
    assert "campagne 2023" in hit.iloc[0]["message"]
    assert hit.iloc[0]["values"]["valeur_precedente"] == previous.loc["S04", "benevoles_activite"]
    assert set(findings["structure_id"]) == {"S04"}


def test_swapped_answers_are_named_together() -> None:
    frame = _peers()
    frame.loc["S05", ["benevoles_activite", "benevoles_instances"]] = [8.0, 41.0]
    findings = _check(frame)
    swapped = findings[findings["variables"] == ("benevoles_activite", "benevoles_instances")]
    assert list(swapped["structure_id"]) == ["S05"] and "semblent interverties" in swapped.iloc[0]["message"]


def test_thresholds_come_from_the_catalogue() -> None:
    raw = yaml.safe_load(resources.files("senacs_workbench.data.coherence").joinpath("rules.yaml").read_text("utf-8"))
    for rule in raw["rules"]:
        if rule["id"] in RULES:
            rule["params"] = {**rule["params"], "z_peer": 1000.0, "z_yoy": 1000.0, "extra_zero_gain": 1000.0,
                              "swap_gain": 1000.0}
    lenient = parse_catalogue(raw)
    frame = _peers()
    frame.loc["S01", "personnes_touchees"] = 8000.0
    assert not _check(frame).empty
    assert _check(frame, catalogue=lenient).empty
