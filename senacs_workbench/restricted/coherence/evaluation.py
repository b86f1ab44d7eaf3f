"""Recall and precision of the checks against the synthetic generator's planted incoherences.

A planted incoherence (structure, family) is found when a finding of a rule mapped to that
family (``family`` in ``rules.yaml``) concerns the structure. A finding of a mapped rule is a
true positive when its structure carries a planted incoherence of the rule's family; findings
of error or warning rules without a family count as false positives of the whole check
("hors famille"); information findings are reported apart.
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
    alerts = int(unmapped["severity"].isin(["error", "warning"]).sum())
    information = int((unmapped["severity"] == "information").sum())
    return Evaluation(tuple(scores), alerts, information)
