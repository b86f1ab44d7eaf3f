"""Which additive cells are sensitive, and how much protection they need, from the microdata.

Recomputed here from the structures' answers and the rule set alone (nothing is taken from the
engine). An *additive cell* is one (variable, answer, level, territory, breakdown, category):
the sum of a numeric question (for a percent question the internal sum mean × n, never
published as such) or the count of structures giving one answer of a categorical question.
A cell's structures are those of its territory (national ``FR``: all; a région or
département code) and of its category.

Rules (thresholds from :class:`~senacs_workbench.release_audit.rules.AuditRules`):

- frequency: 0 < n < min_contributors for sums (n respondents), 0 < count < min for counts;
  protection: not exactly derivable (reach ``margin_count`` for counts,
  max(margin_sum_min, margin_sum_ratio·|X|) for sums, either way), and protection_ratio·|X|;
- dominance (n, k) and p % on sums of non-negative contributions of every quantitative
  question not exempt by name; protection up: 100/k·(x1[+x2]) − X and p/100·x1 − (X − x1 − x2),
  down as much when symmetric;
- a sum with a negative contribution: not exactly derivable (frequency margin);
- group disclosure on counts of a small group (0 < respondents ≤ max_respondents): all gave the
  answer (must not be pinned at the top) or, with include_none, none did (must not be pinned
  at zero);
- public identity questions are exempt when the rule set says so.

Requirements are capped at what the cell's natural bounds allow (a sum cannot go below
n·minimum, a count above its respondents): reaching the bound is the most an interval can do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import (
    MULTIPLE_CHOICE_SEPARATOR,
    Codebook,
    Question,
    QuestionType,
    Relation,
    RelationKind,
)
from senacs_workbench.core.errors import InputError
from senacs_workbench.release_audit.rules import AuditRules

NATIONAL = "FR"
MISSING_CATEGORY = "non_renseigne"
KEY = ["variable", "answer", "level", "territory", "breakdown", "category"]
"""Columns identifying an additive cell (within one year)."""

NEED_EITHER = "either"
NEED_BOTH = "both"
NEED_UP = "up"
NEED_DOWN = "down"
LEVEL_COLUMNS = {"national": None, "region": "region", "departement": "departement"}


class MicrodataError(InputError):
    """The microdata cannot support the tables (message in French)."""


def _codes(series: pd.Series) -> np.ndarray:
    return np.asarray(series.astype("string").fillna("").str.strip().to_numpy(dtype=object), dtype=object)


def group_frame(microdata: pd.DataFrame, levels: Iterable[str], breakdowns: Iterable[str]) -> pd.DataFrame:
    """One row per (structure, group): ``row`` (the structure's row), level, territory, breakdown,
    category, and ``gid`` (the group's number)."""
    frames = []
    rows = np.arange(len(microdata))
    for level in levels:
        if level not in LEVEL_COLUMNS:
            raise MicrodataError(f"Niveau « {level} » non pris en charge par l'audit de la publication.")
        column = LEVEL_COLUMNS[level]
        if column is None:
            territory = np.full(len(microdata), NATIONAL, dtype=object)
        else:
            if column not in microdata:
                raise MicrodataError(f"Colonne « {column} » manquante dans les microdonnées.")
            territory = _codes(microdata[column])
        for breakdown in ("", *breakdowns):
            if breakdown == "":
                category = np.full(len(microdata), "", dtype=object)
            else:
                if breakdown not in microdata:
                    raise MicrodataError(f"Ventilation « {breakdown} » absente des microdonnées.")
                category = _codes(microdata[breakdown])
                category = np.where(category == "", MISSING_CATEGORY, category)
            keep = territory != ""
            frames.append(pd.DataFrame({"row": rows[keep], "level": level, "territory": territory[keep],
                                        "breakdown": breakdown, "category": category[keep]}))
    frame = pd.concat(frames, ignore_index=True)
    frame["gid"] = frame.groupby(["level", "territory", "breakdown", "category"], sort=False).ngroup()
    return frame


def _answers(question: Question, values: pd.Series) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    raw = values.astype("string").str.strip()
    answered = (raw.notna() & (raw != "")).to_numpy(dtype=bool)
    texts = raw.fillna("").to_numpy(dtype=object)
    if question.type is QuestionType.MULTIPLE_CHOICE:
        chosen = [set(str(t).split(MULTIPLE_CHOICE_SEPARATOR)) - {""} if t else set() for t in texts]
    else:
        chosen = [{str(t)} if t else set() for t in texts]
    observed = set().union(*chosen) if chosen else set()
    known = list(question.answer_codes)
    answers = tuple(known + sorted(observed - set(known)))
    matrix = np.zeros((len(texts), len(answers)))
    where = {a: i for i, a in enumerate(answers)}
    for s, codes in enumerate(chosen):
        for code in codes:
            matrix[s, where[code]] = 1.0
    return answers, answered, matrix


def _top2(gid: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((-values, gid))
    g, v = gid[order], values[order]
    top1 = np.zeros(n_groups)
    top2 = np.zeros(n_groups)
    if len(g):
        first = np.ones(len(g), dtype=bool)
        first[1:] = g[1:] != g[:-1]
        top1[g[first]] = v[first]
        second = np.zeros(len(g), dtype=bool)
        second[1:] = first[:-1] & (g[1:] == g[:-1])
        top2[g[second]] = v[second]
    return top1, top2


def _bound(value: float | str | None) -> float:
    return float(value) if isinstance(value, int | float) else np.nan


def question_cells(groups: pd.DataFrame, microdata: pd.DataFrame, question: Question,
                   rules: AuditRules) -> pd.DataFrame:
    """Every additive cell of ``question`` over ``groups`` with its true value and requirement."""
    keys = groups.drop_duplicates("gid").sort_values("gid")[["level", "territory", "breakdown", "category"]]
    keys = keys.reset_index(drop=True)
    n_groups = len(keys)
    gid = groups["gid"].to_numpy()
    row = groups["row"].to_numpy()
    exempt_public = question.public and rules.public_exempt
    if question.type.is_numeric:
        values = pd.to_numeric(microdata[question.id], errors="coerce").to_numpy(dtype=float)
        answered = ~np.isnan(values)
        ok = answered[row]
        g, v = gid[ok], values[row][ok]
        n = np.bincount(g, minlength=n_groups).astype(float)
        x = np.bincount(g, weights=v, minlength=n_groups)
        top1, top2 = _top2(g, v, n_groups)
        negative = np.bincount(g, weights=(v < 0).astype(float), minlength=n_groups) > 0
        frame = keys.assign(answer="", n=n, true=x)
        _sum_requirements(frame, question, rules, top1, top2, negative, exempt_public)
    else:
        answers, answered, matrix = _answers(question, microdata[question.id])
        n = np.bincount(gid, weights=answered[row].astype(float), minlength=n_groups)
        parts = []
        for a, answer in enumerate(answers):
            c = np.bincount(gid, weights=matrix[row, a], minlength=n_groups)
            part = keys.assign(answer=answer, n=n, true=c)
            _count_requirements(part, question, rules, exempt_public)
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "variable", question.id)
    return frame


def _empty_requirements(frame: pd.DataFrame) -> None:
    frame["sensitive"] = False
    frame["reason"] = ""
    frame["need"] = ""
    frame["req_up"] = 0.0
    frame["req_down"] = 0.0


def _sum_requirements(frame: pd.DataFrame, question: Question, rules: AuditRules, top1: np.ndarray,
                      top2: np.ndarray, negative: np.ndarray, exempt_public: bool) -> None:
    _empty_requirements(frame)
    if exempt_public:
        return
    n = frame["n"].to_numpy()
    x = frame["true"].to_numpy()
    freq = (n > 0) & (n < rules.min_contributors)
    neg = negative & ~freq
    margin = np.maximum(rules.margin_sum_min, rules.margin_sum_ratio * np.abs(x))
    up = np.zeros(len(frame))
    if question.id not in rules.dominance_exempt:
        nonneg = ~negative & (x > 0) & (n > 0)
        top = top1 + (top2 if rules.dominance_n == 2 else 0.0)
        dom = nonneg & (top > rules.dominance_k / 100.0 * x)
        up = np.where(dom, 100.0 / rules.dominance_k * top - x, 0.0)
        rest = x - top1 - top2
        pp = nonneg & (rest < rules.p_percent / 100.0 * top1)
        up = np.maximum(up, np.where(pp, rules.p_percent / 100.0 * top1 - rest, 0.0))
    magnitude = (up > 0) & ~neg
    sensitive = freq | neg | magnitude
    frame["sensitive"] = sensitive
    frame["reason"] = np.select([magnitude, freq, neg], ["dominance", "frequency", "negative"], "")
    frame["need"] = np.select([magnitude & rules.symmetric, magnitude, sensitive],
                              [NEED_BOTH, NEED_UP, NEED_EITHER], "")
    ratio = rules.protection_ratio * np.abs(x)
    frame["req_up"] = np.where(magnitude, np.maximum(up, margin), np.where(sensitive, np.maximum(ratio, margin), 0.0))
    frame["req_down"] = np.where(magnitude, np.where(rules.symmetric, np.maximum(up, margin), 0.0),
                                 np.where(sensitive, np.maximum(ratio, margin), 0.0))
    low, high = _bound(question.minimum), _bound(question.maximum)
    if not np.isnan(low):
        frame["req_down"] = np.minimum(frame["req_down"], np.maximum(x - n * low, 0.0))
    if not np.isnan(high):
        frame["req_up"] = np.minimum(frame["req_up"], np.maximum(n * high - x, 0.0))


def _count_requirements(frame: pd.DataFrame, question: Question, rules: AuditRules, exempt_public: bool) -> None:
    _empty_requirements(frame)
    if exempt_public:
        return
    c = frame["true"].to_numpy()
    r = frame["n"].to_numpy()
    freq = (c > 0) & (c < rules.min_contributors)
    small = rules.group_enabled & (r > 0) & (r <= rules.group_max_respondents)
    all_same = small & (c == r)
    scope = rules.group_none_all_answers or question.type is QuestionType.MULTIPLE_CHOICE
    none_same = small & (c == 0) & (rules.group_include_none and scope)
    sensitive = freq | all_same | none_same
    frame["sensitive"] = sensitive
    frame["reason"] = np.select([all_same | none_same, freq], ["group", "frequency"], "")
    frame["need"] = np.select([all_same, none_same, freq], [NEED_DOWN, NEED_UP, NEED_EITHER], "")
    base = np.maximum(rules.margin_count, rules.protection_ratio * c)
    frame["req_up"] = np.where(none_same | (freq & ~all_same), np.maximum(base, 1.0 * none_same), 0.0)
    frame["req_down"] = np.where(all_same | (freq & ~none_same), np.maximum(base, 1.0 * all_same), 0.0)
    frame["req_up"] = np.minimum(frame["req_up"], np.maximum(r - c, 0.0))
    frame["req_down"] = np.minimum(frame["req_down"], c)


def cell_sensitivity(microdata: pd.DataFrame, codebook: Codebook, rules: AuditRules, variables: Sequence[str],
                     levels: Iterable[str], breakdowns: Iterable[str]) -> pd.DataFrame:
    """True value, respondents ``n``, sensitivity and required protection of every additive cell
    of ``variables`` at ``levels`` × (total and each of ``breakdowns``), from the microdata.

    Columns: :data:`KEY`, n, true, sensitive, reason, need (either/both/up/down), req_up, req_down.
    """
    missing = [v for v in variables if v not in microdata.columns]
    if missing:
        raise MicrodataError(f"Questions absentes des microdonnées : {', '.join(missing)}.")
    groups = group_frame(microdata, levels, breakdowns)
    frames = [question_cells(groups, microdata, codebook.question(v), rules) for v in variables]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEY, "n", "true"])


def partial_respondents(microdata: pd.DataFrame, relations: Sequence[Relation], levels: Iterable[str],
                        breakdowns: Iterable[str]) -> pd.DataFrame:
    """Per cell key (level, territory, breakdown, category), for each declared relation whose
    questions the microdata hold, whether some structure of the cell answered it partially
    (column ``relation id``, bool): a part of a ``bounded_by`` relation without its bound, or
    some but not all of the questions of an equality. A relation binds the structures that
    answered it whole; a cell with a partial respondent (which a reader sees in the published
    respondents: the budget answered by one more centre than its sources) is not bound by it."""
    chosen = [r for r in relations if all(q in microdata.columns for q in r.questions)]
    groups = group_frame(microdata, levels, breakdowns)
    keys = groups.drop_duplicates("gid").sort_values("gid")[["level", "territory", "breakdown", "category"]]
    keys = keys.reset_index(drop=True)
    gid, row = groups["gid"].to_numpy(), groups["row"].to_numpy()
    for relation in chosen:
        answered = np.column_stack([pd.to_numeric(microdata[q], errors="coerce").notna().to_numpy()
                                    for q in relation.questions])
        if relation.kind is RelationKind.BOUNDED_BY:  # questions: (bound, part)
            partial = answered[:, 1] & ~answered[:, 0]
        else:
            partial = answered.any(axis=1) & ~answered.all(axis=1)
        keys[relation.id] = np.bincount(gid, weights=partial[row].astype(float), minlength=len(keys)) > 0
    return keys
