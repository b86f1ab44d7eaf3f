"""Recall and precision of the checks against the synthetic generator's planted incoherences.

A planted incoherence (structure, family) is found when a finding of a rule mapped to that
family (``family`` in ``rules.yaml``) concerns the structure. A finding of a mapped rule is a
true positive when its structure carries a planted incoherence of the rule's family; findings
of error or warning rules without a family count as false positives of the whole check
("hors famille"), unless they name a question of an incoherence planted in their structure
(the truth's ``variables``): those detect it under another rule and are counted apart
(``concordant``, issue 21: the outlier rules on every question find planted unit slips and
jumps too); information findings are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class FamilyScore:
    family: str
    planted: int
    found: int
    flagged: int
    true_positives: int

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 1.0


@dataclass(frozen=True)
class Evaluation:
    families: tuple[FamilyScore, ...]
    unmapped_alerts: int
    """Error/warning findings of rules without a family (false alarms on synthetic data)."""
    information: int
    concordant: int = 0
    """Error/warning findings of rules without a family naming a question of a planted incoherence."""

    @property
    def planted(self) -> int:
        return sum(f.planted for f in self.families)

    @property
    def recall(self) -> float:
        return sum(f.found for f in self.families) / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        flagged = sum(f.flagged for f in self.families) + self.unmapped_alerts
        return sum(f.true_positives for f in self.families) / flagged if flagged else 1.0

    def table(self) -> pd.DataFrame:
        rows = [
            {
                "famille": f.family,
                "plantées": f.planted,
                "trouvées": f.found,
                "signalées": f.flagged,
                "vrais positifs": f.true_positives,
                "rappel": f.recall,
                "précision": f.precision,
            }
            for f in self.families
        ]
        return pd.DataFrame(rows)


def evaluate_against_truth(findings: pd.DataFrame, truth: pd.DataFrame) -> Evaluation:
    """``findings``: ``structure_id, family, severity`` (one row per finding); ``truth``: the
    generator's ``id_structure, family`` rows."""
    planted = set(zip(truth["id_structure"].astype(str), truth["family"].astype(str), strict=True))
    mapped = findings[findings["family"].notna()]
    flagged = set(zip(mapped["structure_id"].astype(str), mapped["family"].astype(str), strict=True))
    families = sorted({f for _, f in planted} | {f for _, f in flagged})
    scores = []
    for family in families:
        truth_f = {s for s, f in planted if f == family}
        flagged_f = {s for s, f in flagged if f == family}
        scores.append(
            FamilyScore(
                family=family,
                planted=len(truth_f),
                found=len(truth_f & flagged_f),
                flagged=len(flagged_f),
                true_positives=len(truth_f & flagged_f),
            )
        )
    unmapped = findings[findings["family"].isna()]
    planted_questions: set[tuple[str, str]] = set()
    if "variables" in truth.columns:
        planted_questions = {
            (str(s), v) for s, vs in zip(truth["id_structure"], truth["variables"], strict=True)
            for v in str(vs).split("|")
        }
    raised = unmapped[unmapped["severity"].isin(["error", "warning"])]
    concordant = sum(
        any((str(s), v) in planted_questions for v in str(vs).split("|"))
        for s, vs in zip(raised["structure_id"], raised["variables"], strict=True)
    )
    information = int((unmapped["severity"] == "information").sum())
    return Evaluation(tuple(scores), len(raised) - concordant, information, concordant)
