"""Typing slips told apart from the natural spread (issue 21): a swap that the centre's own
history gives away, an extra zero weighed on both axes (peers and the previous answer), an
amount in euros with more decimals than money has. Thresholds are the catalogue's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.restricted.coherence.checks import CheckData, Reference, evaluate
from senacs_workbench.restricted.coherence.rules import load_catalogue

YEAR = 2024
RULES = ("valeur_atypique", "saisie_a_verifier", "montant_sous_centime")


def _centres(n: int = 40, spread: float = 0.5, seed: int = 7) -> pd.DataFrame:
    """``n`` comparable centres whose counts vary as much as real ones do (log-spread ``spread``)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, dict[str, Any]] = {}
    for i in range(n):
        noise = lambda: float(rng.lognormal(0, spread))  # noqa: E731
        rows[f"S{i:02d}"] = {
            "departement": "24", "region": "75", "nom_structure": f"Centre {i}", "type_structure": "CS",
            "salaries": 20.0, "etp": 11.0, "budget_total": 420_000.0,
            "financement_caf": 100_000.0, "financement_communes": 130_000.0,
            "personnes_touchees": round(800 * noise()) + 1, "benevoles_activite": round(40 * noise()) + 1,
            "benevoles_instances": round(8 * noise()) + 1, "participants_jeunesse": round(40 * noise()) + 1,
            "habitants_instances": round(12 * noise()) + 1,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "structure_id"
    return frame


def _check(frame: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    references = [] if previous is None else [Reference("campagne 2023", previous)]
    data = CheckData(YEAR, load_codebook(YEAR), frame, references)
    return evaluate(load_catalogue(), data, list(RULES))


def test_a_swap_that_the_history_gives_away() -> None:
    """A centre with many more volunteers than its peers types its two volunteer counts in each
    other's place: swapped back, its first answer is still unusual among the peers (so the peers
    alone cannot say), but both answers are then last year's again."""
    previous = _centres()
    previous.loc["S05", ["benevoles_activite", "benevoles_instances"]] = [150.0, 9.0]
    frame = previous.copy()
    frame.loc["S05", ["benevoles_activite", "benevoles_instances"]] = [9.0, 150.0]
    findings = _check(frame, previous)
    swapped = findings[findings["variables"] == ("benevoles_activite", "benevoles_instances")]
    assert list(swapped["structure_id"]) == ["S05"]
    assert "semblent interverties" in swapped.iloc[0]["message"]
    # the same answers with no history to read them against: one unusual centre, not a slip
    alone = _check(previous)
    assert alone[alone["variables"] == ("benevoles_activite", "benevoles_instances")].empty


def _history(frame: pd.DataFrame, spread: float = 0.3, seed: int = 5) -> pd.DataFrame:
    """Last year's answers: this year's, each moved by a log-spread ``spread``."""
    rng = np.random.default_rng(seed)
    previous = frame.copy()
    counts = ["personnes_touchees", "benevoles_activite", "benevoles_instances", "participants_jeunesse",
              "habitants_instances"]
    previous[counts] = (frame[counts] * rng.lognormal(0, spread, size=(len(frame), len(counts)))).round() + 1
    return previous


def test_an_extra_zero_weighed_with_the_history() -> None:
    """A small centre (3 young participants where its peers have about 40) types 30: among the
    peers 30 is unremarkable, but last year it answered 3. Weighed on both axes, the tenth is
    far more typical: an information finding asks the centre."""
    frame = _centres()
    frame.loc["S06", "participants_jeunesse"] = 3.0
    previous = _history(frame)
    previous.loc["S06", "participants_jeunesse"] = 3.0
    frame.loc["S06", "participants_jeunesse"] = 30.0
    findings = _check(frame, previous)
    hit = findings[(findings["structure_id"] == "S06") & (findings["variables"] == ("participants_jeunesse",))]
    assert list(hit["rule_id"]) == ["saisie_a_verifier"]
    assert "un zéro de moins" in hit.iloc[0]["message"] and "campagne 2023" in hit.iloc[0]["message"]
    # the same 30 with no history: among such noisy peers it cannot be told from a real answer
    assert _check(frame).query("structure_id == 'S06'").empty


def test_no_alarm_on_the_natural_spread() -> None:
    """Forty noisy centres, each with a history as noisy: the slip signatures stay quiet."""
    frame = _centres(seed=11)
    findings = _check(frame, _history(frame, seed=12))
    slips = findings[findings["rule_id"].isin(RULES[1:])]
    assert len(slips) <= 1, slips[["structure_id", "variables"]]


def test_an_amount_with_more_decimals_than_money() -> None:
    frame = _centres()
    frame.loc["S07", "financement_caf"] = 100.347  # 100 347 € typed in thousands of euros
    frame.loc["S08", "financement_communes"] = 130_000.5  # fifty cents: a sum of money
    findings = _check(frame)
    hit = findings[findings["rule_id"] == "montant_sous_centime"]
    assert list(zip(hit["structure_id"], hit["variables"], strict=True)) == [("S07", ("financement_caf",))]
    assert hit.iloc[0]["severity"] == "warning"
    assert "100,347" in hit.iloc[0]["message"].replace("\u202f", " ")
