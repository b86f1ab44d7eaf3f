"""The attacker's linear system over the union of released tables, and its LP bounds.

Unknowns are the hidden additive cells (sums, internal sums of percent questions, counts of
answers); every relation is derived from what is *published* plus the codebook, never from the
engine's model:

- hierarchy: national = Σ régions = Σ départements, région = Σ its départements;
- breakdown margins: total = Σ categories;
  both only as equalities where the published respondents show that the children cover the
  parent (n(parent) = Σ n(children)); otherwise parent ≥ Σ children for non-negative values;
- answer margins of single-choice and yes/no questions: Σ counts = respondents;
- derived statistics: a published mean (share) times n gives the sum (count); a published
  quantile bounds the sum (at least n − ⌈h⌉ values are ≥ it, ⌊h⌋ + 1 are ≤ it, h = q(n − 1));
- bounds: n·minimum ≤ sum ≤ n·maximum (codebook), 0 ≤ count ≤ n;
- declared relations of the codebook at every cell key where all their cells exist: an
  equality where the true aggregates satisfy it exactly at that key (a reader guessing that
  the identity holds is right to the euro), else the interval of its declared tolerance summed
  over the cell's structures — kept only where it holds for the true values. A relation binds
  the structures that answered it whole: it is kept only at keys where no structure answered
  it partially (``partial_respondents``: the budget without its sources, a part without its
  bound).

Relations link variables, so the system is solved per connected component of variables (a
declared-relation group, else one variable), and inside it per connected block of unknowns.
A few batch LPs with random signed weights (fixed seed) collect feasible solutions; a cell
whose witnessed values already reach its protection is safe, the others get their own
min/max LPs. The LPs of a block share its rows: they are solved on one HiGHS instance
(``highspy``, this package's own few lines, nothing of the engine's), each from the previous
optimal basis, several times faster than a cold ``scipy.optimize.linprog`` per LP; any solve
that does not end optimal is redone cold by ``linprog``, whose verdict stands.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook, QuestionType, Relation, RelationKind
from senacs_workbench.release_audit.sensitivity import NEED_BOTH, NEED_DOWN, NEED_EITHER, NEED_UP

BATCH_PAIRS = 3
SEED = 20240516
EXACT_ABS = 0.5
"""Width under which an attacker's interval is an exact recovery (to the euro, to the unit)."""


def exact_tolerance(true: np.ndarray) -> np.ndarray:
    return np.maximum(EXACT_ABS, 1e-7 * np.abs(true))


def reach_tolerance(true: np.ndarray, need: np.ndarray) -> np.ndarray:
    return 1e-6 * np.maximum(1.0, np.maximum(np.abs(true), need))


@dataclass
class Rows:
    """Linear rows over the union's cells: Σ coef·cell (= or ≤) rhs."""

    row: list[np.ndarray] = field(default_factory=list)
    col: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    rhs: list[np.ndarray] = field(default_factory=list)
    equal: list[np.ndarray] = field(default_factory=list)
    count: int = 0

    def add(self, local_row: np.ndarray, col: np.ndarray, coef: np.ndarray, rhs: np.ndarray,
            equal: np.ndarray) -> None:
        """``local_row`` numbers rows from 0 to len(rhs) − 1."""
        if not len(rhs):
            return
        self.row.append(np.asarray(local_row, dtype=np.int64) + self.count)
        self.col.append(np.asarray(col, dtype=np.int64))
        self.coef.append(np.asarray(coef, dtype=float))
        self.rhs.append(np.asarray(rhs, dtype=float))
        self.equal.append(np.asarray(equal, dtype=bool))
        self.count += len(rhs)

    def matrix(self, n_cells: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        if not self.count:
            return sp.csr_matrix((0, n_cells)), np.zeros(0), np.zeros(0, dtype=bool)
        m = sp.csr_matrix((np.concatenate(self.coef), (np.concatenate(self.row), np.concatenate(self.col))),
                          shape=(self.count, n_cells))
        return m, np.concatenate(self.rhs), np.concatenate(self.equal)


def _sum_relations(rows: Rows, parent: pd.DataFrame, children: pd.DataFrame, on: list[str],
                   nonneg: np.ndarray) -> None:
    """parent = Σ children (where the children's n add up to the parent's), else parent ≥ Σ
    children for non-negative cells. ``parent``: ``on`` + idx, n; ``children``: ``on`` + idx, n."""
    if parent.empty or children.empty:
        return
    sums = children.groupby(on, sort=False)["n"].sum().rename("child_n").reset_index()
    joined = parent.merge(sums, on=on, how="inner")
    joined = joined[(joined["child_n"] <= joined["n"] + 1e-9)]
    covered = np.isclose(joined["child_n"].to_numpy(), joined["n"].to_numpy())
    usable = covered | nonneg[joined["idx"].to_numpy()]
    joined = joined[usable].reset_index(drop=True)
    covered = covered[usable]
    if joined.empty:
        return
    joined["rid"] = np.arange(len(joined))
    kids = children.merge(joined[[*on, "rid"]], on=on, how="inner")
    sign = np.where(covered, 1.0, -1.0)  # equality: parent − Σ = 0; inequality: −parent + Σ ≤ 0
    rid = np.concatenate([joined["rid"].to_numpy(), kids["rid"].to_numpy()])
    col = np.concatenate([joined["idx"].to_numpy(), kids["idx"].to_numpy()])
    coef = np.concatenate([sign, -sign[kids["rid"].to_numpy()]])
    rows.add(rid, col, coef, np.zeros(len(joined)), covered)


def hierarchy_and_margins(cells: pd.DataFrame, rows: Rows, nonneg: np.ndarray) -> None:
    base = cells[["variable", "answer", "level", "territory", "breakdown", "category", "idx", "n"]]
    region_of = dict(zip(geo.departements()["code"], geo.departements()["region"], strict=True))
    by = ["variable", "answer", "breakdown", "category"]
    regions = base[base["level"] == "region"]
    depts = base[base["level"] == "departement"].assign(parent=lambda f: f["territory"].map(region_of))
    nation = base[base["level"] == "national"]
    _sum_relations(rows, nation[[*by, "idx", "n"]], regions[[*by, "idx", "n"]], by, nonneg)
    _sum_relations(rows, nation[[*by, "idx", "n"]], depts[[*by, "idx", "n"]], by, nonneg)
    _sum_relations(rows, regions.rename(columns={"territory": "parent"})[[*by, "parent", "idx", "n"]],
                   depts[[*by, "parent", "idx", "n"]], [*by, "parent"], nonneg)
    on = ["variable", "answer", "level", "territory"]
    totals = base[base["breakdown"] == ""]
    for breakdown, cats in base[base["breakdown"] != ""].groupby("breakdown", sort=True):
        _sum_relations(rows, totals[[*on, "idx", "n"]], cats[[*on, "idx", "n"]], on, nonneg)
        del breakdown


def answer_margins(cells: pd.DataFrame, rows: Rows, codebook: Codebook) -> None:
    """Σ counts of a single-choice or yes/no question = its respondents n at every key."""
    single = [v for v in cells["variable"].unique()
              if codebook.question(v).type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO)]
    frame = cells[cells["variable"].isin(single)]
    if frame.empty:
        return
    on = ["variable", "level", "territory", "breakdown", "category"]
    answers = frame.groupby("variable")["answer"].nunique()
    grouped = frame.groupby(on, sort=False)
    rid = grouped.ngroup().to_numpy()
    first = frame.assign(rid=rid).drop_duplicates("rid").sort_values("rid")
    complete = (grouped["answer"].nunique().reindex(pd.MultiIndex.from_frame(first[on])).to_numpy()
                == first["variable"].map(answers).to_numpy())
    rows.add(rid, frame["idx"].to_numpy(), np.ones(len(frame)), first["n"].to_numpy(dtype=float), complete)


def _relation_keys(cells: pd.DataFrame, relation: Relation) -> pd.DataFrame:
    on = ["level", "territory", "breakdown", "category"]
    part = cells[cells["variable"].isin(relation.questions) & (cells["answer"] == "")]
    wide = part.pivot_table(index=on, columns="variable", values="idx", aggfunc="first")
    if any(q not in wide.columns for q in relation.questions):
        return pd.DataFrame()
    return wide.dropna().astype(np.int64)


def declared_relations(cells: pd.DataFrame, rows: Rows, relations: Sequence[Relation]
                       ) -> dict[str, tuple[int, int]]:
    """Rows of the codebook's declared relations; returns, per relation, how many cell keys it
    covers as an equality and as an interval (for the report)."""
    true = cells["true"].to_numpy()
    n = cells["n"].to_numpy(dtype=float)
    counts: dict[str, tuple[int, int]] = {}
    for relation in relations:
        keys = _relation_keys(cells, relation)
        if keys.empty:
            continue
        # the relation binds the keys where no structure answered it partially
        column = f"partial:{relation.id}"
        head_rows = keys[relation.questions[0]].to_numpy()
        binds = (~cells[column].fillna(False).to_numpy(dtype=bool)[head_rows] if column in cells
                 else np.ones(len(keys), dtype=bool))
        if relation.kind is RelationKind.SUM_TO_TOTAL:
            head = keys[relation.total].to_numpy()
            parts = keys[list(relation.parts)].to_numpy()
            gap = true[head] - true[parts].sum(axis=1)
            exact = binds & (np.abs(gap) <= 1e-6 * np.maximum(1.0, np.abs(true[head])))
            slack = relation.relative_tolerance * true[head] + relation.absolute_tolerance * n[head]
            inside = binds & ~exact & (np.abs(gap) <= slack + 1e-9) & (true[head] >= 0)
            rel = relation.relative_tolerance
            sel = np.flatnonzero(exact)
            if len(sel):
                _add_linear(rows, head[sel], parts[sel], 1.0, -1.0, np.zeros(len(sel)), True)
            sel = np.flatnonzero(inside)
            if len(sel):  # (1 − rel)·T − ΣP ≤ abs·n and −(1 + rel)·T + ΣP ≤ abs·n
                bound = relation.absolute_tolerance * n[head[sel]]
                _add_linear(rows, head[sel], parts[sel], 1.0 - rel, -1.0, bound, False)
                _add_linear(rows, head[sel], parts[sel], -(1.0 + rel), 1.0, bound, False)
            counts[relation.id] = (int(exact.sum()), int(inside.sum()))
        elif relation.kind is RelationKind.SUM_TO_CONSTANT:
            parts = keys[list(relation.parts)].to_numpy()
            ns = n[parts]
            same = binds & np.all(ns == ns[:, :1], axis=1) & (ns[:, 0] > 0)
            constant = float(relation.constant or 0.0)
            target = constant * ns[:, 0]
            gap = true[parts].sum(axis=1) - target
            exact = same & (np.abs(gap) <= 1e-6 * np.maximum(1.0, np.abs(target)))
            slack = ns[:, 0] * relation.tolerance(constant)
            inside = same & ~exact & (np.abs(gap) <= slack + 1e-9)
            for sel, equal in ((np.flatnonzero(exact), True), (np.flatnonzero(inside), False)):
                if not len(sel):
                    continue
                cols = parts[sel]
                rid = np.repeat(np.arange(len(sel)), cols.shape[1])
                if equal:
                    rows.add(rid, cols.ravel(), np.ones(cols.size), target[sel], np.ones(len(sel), bool))
                else:
                    rows.add(rid, cols.ravel(), np.ones(cols.size), target[sel] + slack[sel],
                             np.zeros(len(sel), bool))
                    rows.add(rid, cols.ravel(), -np.ones(cols.size), -(target[sel] - slack[sel]),
                             np.zeros(len(sel), bool))
            counts[relation.id] = (int(exact.sum()), int(inside.sum()))
        else:  # bounded_by: part ≤ bound (+ tolerance), where every respondent of the part answered the bound
            part = keys[relation.parts[0]].to_numpy()
            bound = keys[relation.bound].to_numpy()
            exact = binds & (true[part] <= true[bound] + 1e-9)
            rel = relation.relative_tolerance
            slack = relation.absolute_tolerance * n[part]
            inside = binds & ~exact & (true[part] <= (1 + rel) * true[bound] + slack + 1e-9)
            for sel, factor, rhs in ((np.flatnonzero(exact), 1.0, np.zeros(int(exact.sum()))),
                                     (np.flatnonzero(inside), 1.0 + rel, slack[inside])):
                if len(sel):
                    _add_linear(rows, part[sel], bound[sel], 1.0, -factor, rhs, False)
            counts[relation.id] = (int(exact.sum()), int(inside.sum()))
    return counts


def _add_linear(rows: Rows, head: np.ndarray, parts: np.ndarray, head_coef: float, part_coef: float,
                rhs: np.ndarray, equal: bool) -> None:
    head = np.asarray(head).reshape(len(rhs), -1)
    parts = np.asarray(parts).reshape(len(rhs), -1)
    k = len(rhs)
    rid = np.concatenate([np.repeat(np.arange(k), head.shape[1]), np.repeat(np.arange(k), parts.shape[1])])
    col = np.concatenate([head.ravel(), parts.ravel()])
    coef = np.concatenate([np.full(head.size, head_coef), np.full(parts.size, part_coef)])
    rows.add(rid, col, coef, rhs, np.full(k, equal))


@dataclass
class AttackResult:
    """The attacker's interval of every hidden cell (``low``/``high``; for a cell not solved on
    its own these are witnessed values, i.e. the interval is at least that wide)."""

    low: np.ndarray
    high: np.ndarray
    solved: np.ndarray
    lp_count: int
    seconds: float
    errors: list[str]


def _lp(c: np.ndarray, a_ub: sp.csr_matrix | None, b_ub: np.ndarray | None, a_eq: sp.csr_matrix | None,
        b_eq: np.ndarray | None, bounds: np.ndarray) -> tuple[np.ndarray | None, str]:
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status == 0:
        return result.x, ""
    if result.status == 3:
        return None, "unbounded"
    return None, result.message



class _QuietHighs(highspy.Highs):  # type: ignore[misc, unused-ignore]  # Any in highspy 1.12 (no type information)
    """``highspy.Highs`` without callbacks (registering them at construction prints HiGHS's
    banner before ``output_flag`` can be set)."""

    def enableCallbacks(self) -> None:
        """Leave the callbacks off."""


class _Block:
    """The rows and bounds of one block, loaded once into a HiGHS instance; each LP only sets
    its objective, and HiGHS restarts from the previous optimal basis (the attacker's LPs of a
    block share every constraint). A solve that does not end optimal is solved again from
    scratch by :func:`_lp` (``scipy.optimize.linprog``), whose outcome and message then stand:
    a warm start never decides that a program is unbounded, infeasible or failed."""

    def __init__(self, a_ub: sp.csr_matrix | None, b_ub: np.ndarray | None, a_eq: sp.csr_matrix | None,
                 b_eq: np.ndarray | None, bounds: np.ndarray) -> None:
        self.args = (a_ub, b_ub, a_eq, b_eq, bounds)
        n = bounds.shape[0]
        parts = [m for m in (a_eq, a_ub) if m is not None]
        matrix = sp.vstack(parts, format="csc") if parts else sp.csc_matrix((0, n))
        matrix.sort_indices()
        inf = highspy.kHighsInf
        eq = np.zeros(0) if b_eq is None else np.asarray(b_eq, dtype=float)
        ub = np.zeros(0) if b_ub is None else np.asarray(b_ub, dtype=float)
        low = np.array([-inf if b is None else float(b) for b in bounds[:, 0]], dtype=float)
        high = np.array([inf if b is None else float(b) for b in bounds[:, 1]], dtype=float)
        self.n = n
        self.highs = _QuietHighs()  # type: ignore[no-untyped-call, unused-ignore]
        self.highs.setOptionValue("output_flag", False)
        # primal simplex: a new objective leaves the last basis primal feasible (on the demo's
        # national 2024 budget block, a third fewer processor seconds than the dual's default)
        self.highs.setOptionValue("simplex_strategy", 4)
        self.highs.passModel(n, matrix.shape[0], matrix.nnz, int(highspy.MatrixFormat.kColwise),
                             int(highspy.ObjSense.kMinimize), 0.0, np.zeros(n), low, high,
                             np.concatenate([eq, np.full(len(ub), -inf)]), np.concatenate([eq, ub]),
                             matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
                             matrix.data.astype(float), np.zeros(n, dtype=np.int32))
        self.columns = np.arange(n, dtype=np.int32)

    def solve(self, c: np.ndarray) -> tuple[np.ndarray | None, str]:
        """``min c·x`` over the block (as :func:`_lp`)."""
        self.highs.changeColsCost(self.n, self.columns, np.asarray(c, dtype=float))
        self.highs.run()
        if self.highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            return np.asarray(self.highs.getSolution().col_value, dtype=float), ""
        return _lp(c, *self.args)


TARGETED_ROUNDS = 60
"""Most LPs that push every cell not yet shown safe at once, before the cells' own LPs."""
RELAXED_MAX_CELLS = 1500
"""Largest neighbourhood solved as a relaxation before the whole block's LP."""


def _relaxed(j: int, a: sp.csr_matrix, rhs: np.ndarray, equal: np.ndarray, lower: np.ndarray, upper: np.ndarray,
             true: np.ndarray, need: np.ndarray, req_up: np.ndarray, req_down: np.ndarray,
             pattern: sp.csr_matrix, by_cell: sp.csr_matrix, scale: float, low: np.ndarray, high: np.ndarray,
             tol_exact: np.ndarray, tol_up: np.ndarray, tol_down: np.ndarray) -> bool:
    """Bound cell ``j`` under the rows near it only (a relaxation: its interval contains the
    true one). When that interval already fails the cell's protection, the failure is proven
    and recorded in ``low``/``high``; returns whether it was. ``tol_up``/``tol_down``: the
    cells' reach tolerances (:func:`reach_tolerance`)."""
    rows = by_cell[j].indices
    for _radius in (1, 2):
        cells = np.unique(pattern[rows].indices)
        if len(cells) > RELAXED_MAX_CELLS or not len(rows):
            return False
        sub = a[rows][:, cells].tocsr()
        eq = equal[rows]
        bounds = np.column_stack([np.where(np.isfinite(lower[cells]), lower[cells] / scale, -np.inf),
                                  np.where(np.isfinite(upper[cells]), upper[cells] / scale, np.inf)])
        bounds = np.where(np.isfinite(bounds), bounds, None)  # type: ignore[call-overload]  # linprog: None = no bound
        args = (sub[~eq] if (~eq).any() else None, rhs[rows][~eq] / scale if (~eq).any() else None,
                sub[eq] if eq.any() else None, rhs[rows][eq] / scale if eq.any() else None, bounds)
        position = int(np.searchsorted(cells, j))
        program = _Block(*args)
        c = np.zeros(len(cells))
        c[position] = -1.0
        hi_x, _ = program.solve(c)
        c[position] = 1.0
        lo_x, _ = program.solve(c)
        hi = math.inf if hi_x is None else hi_x[position] * scale
        lo = -math.inf if lo_x is None else lo_x[position] * scale
        up_ok = hi >= true[j] + req_up[j] - tol_up[j]
        down_ok = lo <= true[j] - req_down[j] + tol_down[j]
        kind = need[j]
        fails = {
            NEED_EITHER: not ((req_up[j] > 0 and up_ok) or (req_down[j] > 0 and down_ok)),
            NEED_BOTH: not ((req_up[j] <= 0 or up_ok) and (req_down[j] <= 0 or down_ok)),
            NEED_UP: not up_ok,
            NEED_DOWN: not down_ok,
        }.get(kind, False) or hi - lo <= tol_exact[j]
        if fails:
            low[j], high[j] = lo, hi
            return True
        rows = np.unique(by_cell[cells].indices)
    return False


def solve_block(a: sp.csr_matrix, rhs: np.ndarray, equal: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                true: np.ndarray, targets: np.ndarray, need: np.ndarray, req_up: np.ndarray,
                req_down: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int,
                                                                          list[str]]:
    """min/max of the cells of one connected block (columns of ``a``), as far as needed.

    ``targets``: cells whose interval matters (sensitive, or possibly exact); ``need`` and the
    requirements tell when a witnessed interval is already wide enough."""
    scale = max(1.0, float(np.mean(np.abs(true))) if len(true) else 1.0)
    a_eq = a[equal] if equal.any() else None
    a_ub = a[~equal] if (~equal).any() else None
    b_eq = rhs[equal] / scale if equal.any() else None
    b_ub = rhs[~equal] / scale if (~equal).any() else None
    bounds = np.column_stack([np.where(np.isfinite(lower), lower / scale, -np.inf),
                              np.where(np.isfinite(upper), upper / scale, np.inf)])
    bounds = np.where(np.isfinite(bounds), bounds, None)  # type: ignore[call-overload]  # linprog: None = no bound
    low = true.copy()
    high = true.copy()
    solved = np.zeros(len(true), dtype=bool)
    errors: list[str] = []
    lps = 0
    weight = 1.0 / np.maximum(1.0, np.abs(true) / scale)

    program = _Block(a_ub, b_ub, a_eq, b_eq, bounds)

    def witness(x: np.ndarray) -> None:
        np.minimum(low, x * scale, out=low)
        np.maximum(high, x * scale, out=high)

    for _ in range(BATCH_PAIRS):
        c = rng.choice([-1.0, 1.0], size=len(true)) * weight
        for sign in (1.0, -1.0):
            x, message = program.solve(sign * c)
            lps += 1
            if x is not None:
                witness(x)
            elif message != "unbounded":
                errors.append(message)
    tol_exact = exact_tolerance(true)
    tol_up, tol_down = reach_tolerance(true, req_up), reach_tolerance(true, req_down)

    def done(j: int) -> bool:
        up_ok = high[j] >= true[j] + req_up[j] - tol_up[j]
        down_ok = low[j] <= true[j] - req_down[j] + tol_down[j]
        wide = high[j] - low[j] > tol_exact[j]
        kind = need[j]
        if kind == NEED_EITHER:
            ok = (req_up[j] > 0 and up_ok) or (req_down[j] > 0 and down_ok)
        elif kind == NEED_BOTH:
            ok = (req_up[j] <= 0 or up_ok) and (req_down[j] <= 0 or down_ok)
        elif kind == NEED_UP:
            ok = up_ok
        elif kind == NEED_DOWN:
            ok = down_ok
        else:
            ok = True
        return bool(ok and wide)

    # Targeted rounds: push the cells not yet shown safe in the direction they still need,
    # while a round (one LP) shows at least one more cell safe (its own LPs would cost two).
    stalled = 0
    for round_number in range(TARGETED_ROUNDS):
        open_cells = [j for j in targets if not done(j)]
        if not open_cells:
            break
        c = np.zeros(len(true))
        for j in open_cells:
            up_needed = high[j] < true[j] + req_up[j] - tol_up[j]
            down_needed = low[j] > true[j] - req_down[j] + tol_down[j]
            if need[j] == NEED_UP or (need[j] == NEED_BOTH and up_needed and not down_needed):
                direction = -1.0
            elif need[j] == NEED_DOWN or (need[j] == NEED_BOTH and down_needed and not up_needed):
                direction = 1.0
            else:
                direction = rng.choice([-1.0, 1.0])
            c[j] = direction * weight[j] * rng.uniform(0.5, 1.5)
        x, message = program.solve(c)
        lps += 1
        if x is None:
            if message != "unbounded":
                errors.append(message)
            break
        witness(x)
        progress = len(open_cells) - sum(1 for j in open_cells if not done(j))
        stalled = stalled + 1 if progress < 1 else 0
        if stalled >= 2:
            break
        del round_number
    pattern = a.copy().tocsr()
    pattern.data[:] = 1.0
    by_cell = pattern.T.tocsr()
    for j in targets:
        if done(j):
            continue
        if _relaxed(j, a, rhs, equal, lower, upper, true, need, req_up, req_down, pattern, by_cell,
                    scale, low, high, tol_exact, tol_up, tol_down):
            solved[j] = True
            lps += 2
            continue
        for sign in (-1.0, 1.0):  # maximise, then minimise
            c = np.zeros(len(true))
            c[j] = sign
            x, message = program.solve(c)
            lps += 1
            if x is not None:
                witness(x)
            elif message == "unbounded":
                if sign < 0:
                    high[j] = math.inf
                else:
                    low[j] = -math.inf
            else:
                errors.append(message)
        solved[j] = True
    return low, high, solved, lps, errors


def truth_violations(a: sp.csr_matrix, rhs: np.ndarray, equal: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                     true: np.ndarray) -> list[str]:
    """Every row and bound must hold for the true values (each was derived to hold): a
    violation is a modelling error, reported so that the variables fail rather than pass."""
    residual = a @ true - rhs
    slack = 1e-6 * np.maximum(1.0, np.abs(rhs)) + 1e-6
    rows = int((np.abs(residual[equal]) > slack[equal]).sum() + (residual[~equal] > slack[~equal]).sum())
    margin = 1e-6 * np.maximum(1.0, np.abs(true))
    bounds = int(((true < lower - margin) | (true > upper + margin)).sum())
    if rows or bounds:
        return [f"les valeurs vraies violent {rows} relation(s) et {bounds} borne(s) du système de l'attaquant"]
    return []


def attack(cells: pd.DataFrame, a: sp.csr_matrix, rhs: np.ndarray, equal: np.ndarray,
           lower: np.ndarray, upper: np.ndarray, all_cells: bool = True) -> AttackResult:
    """Bound every hidden cell of ``cells`` (one component of variables) under the rows ``a``;
    with ``all_cells=False`` only the sensitive ones are pursued (the others keep the interval
    the batch LPs witnessed)."""
    started = time.perf_counter()
    known = cells["known"].to_numpy()
    values = np.where(known, cells["value"].to_numpy(dtype=float), 0.0)
    true = cells["true"].to_numpy(dtype=float)
    low = np.where(known, values, np.nan)
    high = low.copy()
    solved = known.copy()
    unknown = np.flatnonzero(~known)
    errors = truth_violations(a, rhs, equal, lower, upper, true)
    lps = 0
    if len(unknown):
        rhs_eff = rhs - a @ values
        sub = a[:, unknown].tocsr()
        used = np.diff(sub.indptr) > 0
        sub, rhs_eff, eq = sub[used], rhs_eff[used], equal[used]
        pattern = sub.copy()
        pattern.data[:] = 1.0
        graph = (pattern.T @ pattern).tocsr()
        n_blocks, block_of = connected_components(graph, directed=False)
        rng = np.random.default_rng(SEED)
        sensitive = cells["sensitive"].to_numpy()
        need = cells["need"].to_numpy()
        req_up = cells["req_up"].to_numpy(dtype=float)
        req_down = cells["req_down"].to_numpy(dtype=float)
        for b in range(n_blocks):
            members = np.flatnonzero(block_of == b)
            cols = unknown[members]
            block_rows = np.flatnonzero(np.diff(sub[:, members].tocsr().indptr) > 0)
            block = sub[block_rows][:, members].tocsr()
            targets = np.arange(len(cols)) if all_cells else np.flatnonzero(sensitive[cols])
            if not len(targets):
                continue
            order = np.argsort(~sensitive[cols][targets], kind="stable")  # sensitive cells first
            lo, hi, ok, count, errs = solve_block(
                block, rhs_eff[block_rows], eq[block_rows], lower[cols], upper[cols], true[cols],
                targets[order], np.where(sensitive[cols], need[cols], ""), req_up[cols], req_down[cols], rng)
            low[cols], high[cols], solved[cols] = lo, hi, ok
            lps += count
            errors += errs
    return AttackResult(low, high, solved, lps, time.perf_counter() - started, errors)
