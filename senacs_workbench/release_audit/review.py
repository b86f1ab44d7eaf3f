"""Cells of status R a person decided to publish, as the independent audit reads them.

A sum with a negative contribution is sensitive for the audit (:mod:`.sensitivity`): the
concentration rules are not defined for it, so the rule set sends it to a person (status R).
When that person decides « publier », the cell is published; the audit must then accept it, but
only on its own evidence: it reads the decisions file itself (the restricted record written by
``senacs secret decide``, ``restricted/publication/<year>/review-decisions.json``), keeps for
each cell the decision recorded last, and lifts the sensitivity of a cell only when

- the audit itself finds it sensitive for a negative contribution and for nothing else, or (a
  rule set with ``group_disclosure.action: review``) for group disclosure alone: a count of
  zero, or at least the frequency threshold (a cell under the frequency threshold stays
  sensitive whatever was decided);
- the decision in force is « publier »;
- the sum and the respondents the person reviewed are the cell's true ones now (a decision
  taken before a correction changed the cell does not carry over).

Nothing here comes from the disclosure-control engine or the publication code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from senacs_workbench.release_audit.rules import AuditRulesError
from senacs_workbench.release_audit.sensitivity import KEY

DECISIONS_FORMAT = "senacs-review-decisions"
REVIEWED_COLUMNS = [*KEY, "reviewed_sum", "reviewed_n"]


def read_review_publications(path: Path, year: int) -> pd.DataFrame:
    """The cells of ``year`` whose decision in force is « publier »: :data:`KEY`, the sum and
    respondents reviewed (an absent file: none)."""
    if not path.exists():
        return pd.DataFrame(columns=REVIEWED_COLUMNS)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != DECISIONS_FORMAT or int(data["year"]) != year:
            raise ValueError("format ou campagne inattendus")
        in_force: dict[tuple[str, ...], dict[str, object]] = {}
        for record in sorted(data["decisions"], key=lambda d: int(d["seq"])):
            in_force[tuple(str(record[k]) for k in KEY)] = record
        rows = [(*key, float(str(r["sum"])), float(str(r["n"])))
                for key, r in in_force.items() if r["decision"] == "publier"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditRulesError(f"Décisions de relecture illisibles pour l'audit ({path}) : {exc}.") from exc
    return pd.DataFrame(rows, columns=REVIEWED_COLUMNS)


def apply_reviews(truth: pd.DataFrame, reviewed: pd.DataFrame | None, min_contributors: int) -> pd.DataFrame:
    """``truth`` (:func:`~.sensitivity.cell_sensitivity`) with the negative-sum and group cells
    decided « publier » no longer sensitive (see the module docs)."""
    if reviewed is None or reviewed.empty or truth.empty:
        return truth
    merged = truth.merge(reviewed, on=KEY, how="left")
    true = merged["true"].to_numpy(dtype=float)
    same = (np.abs(merged["reviewed_sum"].to_numpy(dtype=float) - true) <= 1e-6 * np.maximum(1.0, np.abs(true))) \
        & np.isclose(merged["reviewed_n"].to_numpy(dtype=float), merged["n"].to_numpy(dtype=float))
    group = merged["reason"].eq("group").to_numpy() & ((true == 0) | (true >= min_contributors))
    lifted = (merged["reason"].eq("negative").to_numpy() | group) & same
    out = truth.copy()
    out.loc[lifted, "sensitive"] = False
    out.loc[lifted, ["reason", "need"]] = ""
    out.loc[lifted, ["req_up", "req_down"]] = 0.0
    return out
