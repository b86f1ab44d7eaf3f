"""Helpers of the engine tests: small realistic microdata and an independent attacker.

The attacker works at the level of individual structures (finer than the engine's inner
cells): one unknown per structure (its numeric answer) or per structure and answer (0/1),
bounded by the codebook, constrained by every published cell (counts, sums, means × n,
shares × n), optionally with some structures' answers known (insiders). It then minimises
and maximises every suppressed additive cell (LP, or MILP for counts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, Question, QuestionType
from senacs_workbench.disclosure.cells import NATIONAL_CODE

BREAKDOWN_CHOICES = {
    "type_structure": (["CS", "EVS"], [0.6, 0.4]),
    "mode_gestion": (["associatif", "collectivite", "caf", "autre"], [0.7, 0.2, 0.06, 0.04]),
    "type_territoire": (["urbain", "rural"], [0.55, 0.45]),
    "qpv": (["qpv", "proximite", "non_concerne"], [0.3, 0.2, 0.5]),
}


def make_microdata(
    seed: int,
    departements: dict[str, tuple[str, int]],
    question: Question,
    dominant: bool = False,
) -> pd.DataFrame:
    """``departements``: code → (région, number of structures)."""
    rng = np.random.default_rng(seed)
    rows = []
    i = 0
    for dep, (region, n) in sorted(departements.items()):
        for _ in range(n):
            i += 1
            row = {"structure_id": f"S{i:04d}", "region": region, "departement": dep}
            for b, (cats, p) in BREAKDOWN_CHOICES.items():
                row[b] = str(rng.choice(cats, p=p))
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["value"] = random_values(rng, question, len(frame), dominant)
    return frame


def random_values(rng: np.random.Generator, question: Question, n: int, dominant: bool = False) -> list:
    t = question.type
    if t is QuestionType.YES_NO:
        return [str(v) for v in rng.choice(["oui", "non"], n, p=[0.6, 0.4])]
    if t is QuestionType.SINGLE_CHOICE:
        return [str(v) for v in rng.choice(list(question.answer_codes), n)]
    if t is QuestionType.MULTIPLE_CHOICE:
        codes = list(question.answer_codes)
        return [MULTIPLE_CHOICE_SEPARATOR.join(c for c in codes if rng.random() < 0.4) or codes[0] for _ in range(n)]
    if t is QuestionType.PERCENT:
        return list(np.round(rng.uniform(0, 100, n), 1))
    vals = np.round(rng.lognormal(10, 0.6, n))
    if dominant:
        vals[:: max(1, n // 4)] *= 40
    return list(vals)


def _unit_matrix(micro: pd.DataFrame, question: Question) -> tuple[list[str], np.ndarray, np.ndarray]:
    """answers, matrix structures × answers of contributions, answered mask."""
    raw = micro["value"]
    answered = raw.notna().to_numpy()
    if question.type.is_numeric:
        vals = pd.to_numeric(raw, errors="coerce").fillna(0.0).to_numpy(dtype=float)
        return [""], vals[:, None], answered
    answers = list(question.answer_codes)
    mat = np.zeros((len(micro), len(answers)))
    for s, v in enumerate(raw.tolist()):
        if isinstance(v, str) and v:
            for code in v.split(MULTIPLE_CHOICE_SEPARATOR):
                if code in answers:
                    mat[s, answers.index(code)] = 1.0
    return answers, mat, answered


def members(micro: pd.DataFrame, level: str, territory: str, breakdown: str, category: str) -> np.ndarray:
    mask = np.ones(len(micro), dtype=bool)
    if level != "national":
        mask &= micro[level].astype(str).to_numpy() == territory
    else:
        assert territory == NATIONAL_CODE
    if breakdown:
        mask &= micro[breakdown].astype(str).to_numpy() == category
    return mask


def attacker_intervals(
    micro: pd.DataFrame,
    question: Question,
    cells: pd.DataFrame,
    known: tuple[str, ...] = (),
    integral: bool | None = None,
    targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Attacker's [lo, hi] for every suppressed count/sum cell (or for ``targets``).

    ``known``: ids of structures whose answers the attacker knows (insiders)."""
    answers, unit, answered = _unit_matrix(micro, question)
    n_s, n_a = unit.shape
    numeric = question.type.is_numeric
    integral = (not numeric) if integral is None else integral
    # unknowns: x[s, a] (answer-major)
    def col(s: np.ndarray, a: int) -> np.ndarray:
        return a * n_s + s

    n_vars = n_s * n_a
    truth = unit.T.reshape(-1)
    lo = np.zeros(n_vars)
    hi = np.zeros(n_vars)
    for a in range(n_a):
        idx = col(np.arange(n_s), a)
        if numeric:
            qmin = question.minimum if isinstance(question.minimum, int | float) else -1e12
            qmax = question.maximum if isinstance(question.maximum, int | float) else 1e12
            lo[idx] = np.where(answered, min(qmin, truth[idx].min()), 0.0)
            hi[idx] = np.where(answered, max(qmax, truth[idx].max()), 0.0)
        else:
            hi[idx] = answered.astype(float)
    ids = micro["structure_id"].astype(str).to_numpy()
    for sid in known:
        s = np.flatnonzero(ids == sid)
        for a in range(n_a):
            lo[col(s, a)] = truth[col(s, a)]
            hi[col(s, a)] = truth[col(s, a)]
    rows, cols, vals, rhs = [], [], [], []
    r = 0
    if question.type in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
        for s in np.flatnonzero(answered):
            for a in range(n_a):
                rows.append(r)
                cols.append(col(np.array([s]), a)[0])
                vals.append(1.0)
            rhs.append(1.0)
            r += 1
    pub = cells[cells["status"] == "V"]
    add_stats = {"count", "sum", "share", "mean"}
    for row in pub[pub["statistic"].isin(add_stats)].itertuples():
        mask = members(micro, row.level, row.territory, row.breakdown, row.category)
        a = answers.index(row.answer) if row.answer else 0
        value = float(row.value)
        if row.statistic in ("share", "mean"):
            if not np.isfinite(value):
                continue
            value *= float(row.n)
        s = np.flatnonzero(mask)
        rows += [r] * len(s)
        cols += list(col(s, a))
        vals += [1.0] * len(s)
        rhs.append(value)
        r += 1
    A = sp.csr_matrix((vals, (rows, cols)), shape=(r, n_vars))
    b = np.array(rhs)
    if targets is None:
        stat = "sum" if numeric else "count"
        targets = cells[(cells["statistic"] == stat) & (cells["status"] != "V")]
    out = []
    for row in targets.itertuples():
        mask = members(micro, row.level, row.territory, row.breakdown, row.category)
        a = answers.index(row.answer) if row.answer else 0
        c = np.zeros(n_vars)
        c[col(np.flatnonzero(mask), a)] = 1.0
        bounds = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=A, b_eq=b, bounds=np.column_stack([lo, hi]), method="highs")
            assert res.status == 0, f"attacker system infeasible: {res.message}"
            bounds.append(sign * res.fun)
        if integral and bounds[1] - bounds[0] < 3.0:  # integrality matters for narrow intervals
            bounds = []
            for sign in (1.0, -1.0):
                res = milp(
                    sign * c,
                    constraints=[LinearConstraint(A, b, b)],
                    integrality=np.ones(n_vars),
                    bounds=Bounds(lo, hi),
                )
                assert res.status == 0, f"attacker system infeasible: {res.message}"
                bounds.append(sign * res.fun)
        out.append(
            {
                "statistic": row.statistic,
                "answer": row.answer,
                "level": row.level,
                "territory": row.territory,
                "breakdown": row.breakdown,
                "category": row.category,
                "value": float(c @ truth),
                "lo": bounds[0],
                "hi": bounds[1],
            }
        )
    return pd.DataFrame(out)


def exact_disclosures(intervals: pd.DataFrame, tol: float = 1e-6) -> pd.DataFrame:
    if intervals.empty:
        return intervals
    return intervals[(intervals["hi"] - intervals["lo"]) <= tol * np.maximum(1.0, intervals["value"].abs())]


def linked_attack(
    frames: dict[str, pd.DataFrame],
    results: dict[str, Any],
    questions: list[str],
    year: int,
    relation_rows: sp.csr_matrix,
    equal: bool,
) -> pd.DataFrame:
    """A centre-by-centre attacker of questions linked by a relation: one unknown per centre and
    question (question-major, ``frames[q]["value"]`` the truth), bounded by the codebook, every
    published sum (or mean × n) of every question, and ``relation_rows`` (= 0 when ``equal``,
    else ≤ 0). Every hidden sum: true value, attacker's [lo, hi] and required protection."""
    from senacs_workbench.core.codebook import load_codebook

    base = frames[questions[0]]
    n_s = len(base)
    truth = np.concatenate([frames[q]["value"].to_numpy(dtype=float) for q in questions])
    codebook = load_codebook(year)
    hi = np.concatenate([np.full(n_s, float(codebook.question(q).maximum)) for q in questions])  # type: ignore[arg-type]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []
    for a, q in enumerate(questions):
        cells = results[q].cells
        for cell in cells[(cells["status"] == "V") & cells["statistic"].isin(["sum", "mean"])].itertuples():
            if not np.isfinite(cell.value):
                continue
            s = np.flatnonzero(members(base, cell.level, cell.territory, cell.breakdown, cell.category))
            rows += [len(rhs)] * len(s)
            cols += list(a * n_s + s)
            vals += [1.0] * len(s)
            rhs.append(float(cell.value) * (float(cell.n) if cell.statistic == "mean" else 1.0))
    published = sp.csr_matrix((vals, (rows, cols)), shape=(len(rhs), len(truth)))
    zeros = np.zeros(relation_rows.shape[0])
    a_eq = sp.vstack([published, relation_rows]) if equal else published
    b_eq = np.concatenate([rhs, zeros]) if equal else np.array(rhs)
    a_ub, b_ub = (None, None) if equal else (relation_rows, zeros)
    assert np.allclose(a_eq @ truth, b_eq) and (a_ub is None or np.all(a_ub @ truth <= 1e-9))
    out = []
    for a, q in enumerate(questions):
        cells, protection = results[q].cells, results[q].protection
        levels = protection.set_index(["level", "territory", "breakdown", "category"])
        for cell in cells[(cells["statistic"] == "sum") & (cells["status"] != "V")].itertuples():
            c = np.zeros(len(truth))
            c[a * n_s + np.flatnonzero(members(base, cell.level, cell.territory, cell.breakdown, cell.category))] = 1
            bounds = []
            for sign in (1.0, -1.0):
                res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                              bounds=np.column_stack([np.zeros_like(hi), hi]), method="highs")
                assert res.status == 0, res.message
                bounds.append(sign * res.fun)
            key = (cell.level, cell.territory, cell.breakdown, cell.category)
            up = float(levels.loc[[key], "upper"].max()) if key in levels.index else 0.0
            down = float(levels.loc[[key], "lower"].max()) if key in levels.index else 0.0
            out.append({"variable": q, "level": cell.level, "territory": cell.territory, "breakdown": cell.breakdown,
                        "category": cell.category, "value": float(c @ truth), "lo": bounds[0], "hi": bounds[1],
                        "upper": up, "lower": down})
    return pd.DataFrame(out)


def linked_failures(intervals: pd.DataFrame) -> pd.DataFrame:
    """Hidden cells given away exactly, and sensitive cells narrowed inside their protection."""
    tol = 1e-6 * np.maximum(1.0, intervals["value"].abs())
    exact = intervals["hi"] - intervals["lo"] <= tol
    short = ((intervals["upper"] > 0) & (intervals["hi"] < intervals["value"] + intervals["upper"] - tol)) | (
        (intervals["lower"] > 0) & (intervals["lo"] > intervals["value"] - intervals["lower"] + tol))
    return intervals[exact | short]


def structures(rng: np.random.Generator, departements: dict[str, tuple[str, int]]) -> pd.DataFrame:
    """``departements`` (code → (région, number of structures)) as one row per structure with
    its geography and random breakdown categories (``structure_id`` S0000, S0001…)."""
    rows = []
    for dep, (region, n) in sorted(departements.items()):
        for _ in range(n):
            row = {"structure_id": f"S{len(rows):04d}", "region": region, "departement": dep}
            for breakdown, (categories, weights) in BREAKDOWN_CHOICES.items():
                row[breakdown] = str(rng.choice(categories, p=weights))
            rows.append(row)
    return pd.DataFrame(rows)
