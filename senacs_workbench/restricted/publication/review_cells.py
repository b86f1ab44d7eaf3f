"""The cells of status R ("review by a person"): which they are, and what a reviewer needs.

The disclosure-control engine gives status R to a sum with a negative contribution (in
practice ``resultat_exercice``, a result that may be a deficit) that passes the frequency
rule: the dominance and p % rules are not defined for such a sum, so a person decides. This
module finds those cells from the microdata (restricted: true values) the way the engine
tabulates them (committee levels, total and each breakdown; a missing category is
``non_renseigne``) and gives, for each, what the decision needs: respondents, the sum, the sums
of the positive and of the negative contributions, the largest contribution's share of the
absolute total and an advice (« publiable » / « à masquer ») from the rule set's dominance and
p % thresholds applied to the absolute contributions.

Each cell has a stable id (a hash of year, question, answer, level, territory, breakdown and
category: the same across reruns of any data version) and a *fingerprint* of its contributions
(structure ids and values): a decision records the fingerprint it was taken on, and applies
only while the cell is unchanged (:mod:`.review_decisions`).

Group disclosure with ``group_disclosure.action: review`` (the shipped rule set says
``suppress``) gives status R to counts too: every respondent of a small group gave the answer,
or none did (:func:`group_cells`). For them ``n`` is the group's respondents, ``sum`` the count,
and the advice is « à masquer »: publishing tells every respondent's answer, which a person may
judge harmless for a given question (a centre social has a reception desk), not a rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, MULTIPLE_CHOICE_SEPARATOR, Question, QuestionType

ADVICE_PUBLISH: Final = "publiable"
ADVICE_SUPPRESS: Final = "à masquer"
MISSING_CATEGORY: Final = "non_renseigne"
KEY: Final = ("variable", "answer", "level", "territory", "breakdown", "category")
COLUMNS: Final = ("id", "year", *KEY, "territory_name", "n", "sum", "positive", "negative", "top_share",
                  "advice", "fingerprint")
LEVEL_COLUMNS: Final = {"national": None, "region": "region", "departement": "departement"}


def cell_id(year: int, variable: str, answer: str, level: str, territory: str, breakdown: str,
            category: str) -> str:
    """The stable id of a cell: ``r`` and 12 hex digits of the hash of its key."""
    text = "|".join((str(year), variable, answer, level, territory, breakdown, category))
    return "r" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def fingerprint(structure_ids: Sequence[str], values: Sequence[float]) -> str:
    """A hash of a cell's contributions (which structures, which values), order-free."""
    lines = sorted(f"{s}={float(v)!r}" for s, v in zip(structure_ids, values, strict=True))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _codes(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def _advice(magnitudes: np.ndarray, dominance_n: int, dominance_k: float, p_percent: float) -> tuple[float, str]:
    """(largest share of the absolute total, advice) from the absolute contributions."""
    ordered = np.sort(magnitudes)[::-1]
    total = float(ordered.sum())
    if total <= 0:
        return 0.0, ADVICE_PUBLISH
    top1 = float(ordered[0])
    top2 = float(ordered[1]) if len(ordered) > 1 else 0.0
    top = top1 + (top2 if dominance_n == 2 else 0.0)
    dominated = top > dominance_k / 100.0 * total
    p_rule = total - top1 - top2 < p_percent / 100.0 * top1
    return top1 / total, ADVICE_SUPPRESS if dominated or p_rule else ADVICE_PUBLISH


def _views(wide: pd.DataFrame, levels: Sequence[str]) -> list[tuple[str, pd.Series, str, pd.Series]]:
    """(level, territory codes, breakdown, category codes) of every view the engine tabulates."""
    views = []
    for level in levels:
        column = LEVEL_COLUMNS.get(level, level)
        territory = (pd.Series(geo.NATIONAL_CODE, index=wide.index) if column is None else _codes(wide[column]))
        views.append((level, territory, "", pd.Series("", index=wide.index)))
        for breakdown in BREAKDOWNS:
            if breakdown in wide.columns:
                category = _codes(wide[breakdown]).replace("", MISSING_CATEGORY)
                views.append((level, territory, breakdown, category))
    return views


def negative_sum_cells(wide: pd.DataFrame, questions: Sequence[Question], year: int, levels: Sequence[str], *,
                       min_contributors: int, dominance_n: int, dominance_k: float,
                       p_percent: float) -> pd.DataFrame:
    """Every cell of status R for a negative contribution (columns :data:`COLUMNS`), from ``wide``
    (one row per structure: ``structure_id``, the level columns, the breakdowns, the questions)."""
    rows: list[dict[str, object]] = []
    ids = wide["structure_id"].astype(str)
    views = _views(wide, levels)
    for question in questions:
        if not question.type.is_numeric or question.id not in wide.columns:
            continue
        values = pd.to_numeric(wide[question.id], errors="coerce")
        if not (values < 0).any():
            continue
        answered = values.notna()
        for level, territory, breakdown, category in views:
            frame = pd.DataFrame({"t": territory, "c": category, "v": values, "s": ids})[answered]
            frame = frame[frame["t"] != ""]
            for (t, c), group in frame.groupby(["t", "c"], sort=True):
                v = group["v"].to_numpy(dtype=float)
                if len(v) < min_contributors or not (v < 0).any():
                    continue
                share, advice = _advice(np.abs(v), dominance_n, dominance_k, p_percent)
                rows.append({
                    "id": cell_id(year, question.id, "", level, str(t), breakdown, str(c)), "year": year,
                    "variable": question.id, "answer": "", "level": level, "territory": str(t),
                    "breakdown": breakdown, "category": str(c), "territory_name": geo.name_or_code(level, str(t)),
                    "n": len(v), "sum": float(v.sum()), "positive": float(v[v > 0].sum()),
                    "negative": float(v[v < 0].sum()), "top_share": share, "advice": advice,
                    "fingerprint": fingerprint(group["s"].tolist(), v.tolist()),
                })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _chosen(question: Question, values: pd.Series) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(answer codes, answered mask, structure × answer 0/1 matrix) of a categorical question."""
    texts = values.astype("string").str.strip().fillna("").to_numpy(dtype=object)
    multiple = question.type is QuestionType.MULTIPLE_CHOICE
    chosen = [({c for c in str(t).split(MULTIPLE_CHOICE_SEPARATOR) if c} if multiple else {str(t)}) if t else set()
              for t in texts]
    observed = set().union(*chosen) if chosen else set()
    answers = (*question.answer_codes, *sorted(observed - set(question.answer_codes)))
    matrix = np.array([[a in codes for a in answers] for codes in chosen], dtype=bool).reshape(len(texts),
                                                                                              len(answers))
    return answers, np.array([bool(t) for t in texts], dtype=bool), matrix


def group_cells(wide: pd.DataFrame, questions: Sequence[Question], year: int, levels: Sequence[str], *,
                min_contributors: int, max_respondents: int, include_none: bool,
                none_all_answers: bool) -> pd.DataFrame:
    """Every count of status R for group disclosure (columns :data:`COLUMNS`): a group of at most
    ``max_respondents`` respondents who all gave the answer (or, with ``include_none``, none of whom
    did), and not already a frequency cell (a count under ``min_contributors`` stays suppressed
    whatever is decided)."""
    rows: list[dict[str, object]] = []
    ids = wide["structure_id"].astype(str).to_numpy(dtype=object)
    views = _views(wide, levels)
    for question in questions:
        if question.id not in wide.columns or question.type.is_numeric:
            continue
        answers, answered, matrix = _chosen(question, wide[question.id])
        scope = none_all_answers or question.type is QuestionType.MULTIPLE_CHOICE
        for level, territory, breakdown, category in views:
            keys = pd.DataFrame({"t": territory.to_numpy(dtype=object), "c": category.to_numpy(dtype=object)})
            keep = answered & (keys["t"] != "").to_numpy()
            for (t, c), index in keys[keep].groupby(["t", "c"], sort=True).groups.items():
                rows_of = np.asarray(index)
                r = len(rows_of)
                if r > max_respondents:
                    continue
                for a, answer in enumerate(answers):
                    picked = matrix[rows_of, a]
                    count = int(picked.sum())
                    if not (count == r or (count == 0 and include_none and scope)):
                        continue
                    if 0 < count < min_contributors:
                        continue
                    rows.append({
                        "id": cell_id(year, question.id, answer, level, str(t), breakdown, str(c)), "year": year,
                        "variable": question.id, "answer": answer, "level": level, "territory": str(t),
                        "breakdown": breakdown, "category": str(c), "territory_name": geo.name_or_code(level, str(t)),
                        "n": r, "sum": float(count), "positive": float(count), "negative": 0.0,
                        "top_share": np.nan, "advice": ADVICE_SUPPRESS,
                        "fingerprint": fingerprint(ids[rows_of].tolist(), picked.astype(float).tolist()),
                    })
    return pd.DataFrame(rows, columns=list(COLUMNS))
