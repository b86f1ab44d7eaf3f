"""Independent re-audit of every bundle that ``senacs demo`` releases (issue 4).

Written from the bundle's contract (DESIGN.md, ``bundle_contract.py``) and public reference
data only (territories, the questionnaire, the packaged rule set's thresholds): it imports
neither the disclosure engine nor its audit, so that a mistake they share cannot hide here.

The attacker holds every released value, every cell's ``n`` (the respondents of the cell,
released even when its value is suppressed), the codebook (question types, answer bounds) and
the territorial hierarchy. Checked, for every released bundle under
``published/released/<year>/v*/``:

(a) a suppressed cell (status other than ``V``) carries no value;
(b) no released count or sum has 0 < n < 3, no released mean/share/median/quartile n < 3
    (``structures``/``respondents``/``response_rate`` are public identity, and so are the
    counts and shares of the questions the codebook marks ``public``: the identity block,
    public on senacs.fr); no released count of a non-public question is 1 or 2;
(c) no suppressed additive cell (a count per answer, a sum — or ``mean × n`` for questions
    whose sum is not released) is determined by the released values through the linear
    relations they satisfy: breakdown margins (a territory's total = Σ the categories of each
    breakdown, ``non_renseigne`` included), the hierarchy (national = Σ régions, région = Σ its
    départements, for the total and every category), the answer margin of yes/no and
    single-choice questions (Σ answers = n), 0 ≤ count ≤ n, the codebook's answer bounds times
    n for sums. Each suppressed cell is minimised and maximised with ``scipy.optimize.linprog``
    (HiGHS); feasible points met on the way (witnesses) already prove most ranges wide, so
    dedicated LPs are solved only for cells that no witness has moved. A count (or a sum of
    whole-number answers) is disclosed when its LP range holds a single integer, any sum when
    its range is narrower than a tolerance. A second pass also reads the status codes (``A`` =
    frequency rule: a count suppressed ``A`` in a group too large for group disclosure is 1 or 2).

Small hand-made bundles first check that the auditor finds each kind of planted leak.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import OptimizeWarning, linprog
from scipy.sparse.csgraph import connected_components

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Question, QuestionType, load_codebook
from senacs_workbench.disclosure.rules import load_rules
from senacs_workbench.released.bundle_contract import COLUMNS, MANIFEST, RELEASED, sha256_file, table_name

DEMO_YEARS = (2024, 2025)
PACKAGED_RULES = load_rules()
"""The packaged default rule set (the rule set, not the engine: its thresholds are the ones the
bundles were protected under)."""
MIN_CONTRIBUTORS = PACKAGED_RULES.min_contributors
GROUP_MAX = PACKAGED_RULES.group_max_respondents if PACKAGED_RULES.group_enabled else 0
"""The attacker knows the packaged rule set (the package is public, attack A15): group disclosure
(status A, zero counts included) applies to groups of at most this many respondents."""
PUBLIC_IDENTITY_STATISTICS = frozenset({"structures", "respondents", "response_rate"})
RATIO_STATISTICS = frozenset({"mean", "share", "median", "q1", "q3"})
STATISTICS = frozenset({*PUBLIC_IDENTITY_STATISTICS, *RATIO_STATISTICS, "count", "sum"})
STATUSES = frozenset({"V", "A", "B", "D", "R"})
LEVELS = ("national", "region", "departement")
KEY = ["variable", "answer", "level", "territory", "breakdown", "category"]
COUNT_SLACK = 1e-6  # a whole-number cell's LP range is rounded inwards to integers after this slack
SUM_TOLERANCE = 1e-6  # a sum whose LP range is narrower than this (× its variable's scale) is disclosed
WITNESS_GAP = 1e-4  # (scaled) a sum that witnesses show this far apart needs no dedicated LP
MIN_SETTLED = 3  # witness LPs go on while each settles at least this many cells
BOUND_SLACK = 1e-9
BOX = 1e6  # a sum without codebook bounds is boxed at ± BOX × its scale (reaching it: not disclosed)
SAMPLE = 20  # a failing pass stops after this many disclosed cells (the report shows them)


# ------------------------------------------------------------------------- the linear system


@dataclass
class System:
    """The additive cells of one bundle and the linear relations between them."""

    cells: pd.DataFrame  # KEY + value (known or NaN), n, integral, lo, hi, scale
    rows: list[np.ndarray] = field(default_factory=list)  # relation id per entry
    cols: list[np.ndarray] = field(default_factory=list)  # cell index per entry
    coef: list[np.ndarray] = field(default_factory=list)
    rhs: list[np.ndarray] = field(default_factory=list)  # one array per relation block
    n_rel: int = 0

    def add(self, relation: np.ndarray, cell: np.ndarray, coef: np.ndarray, rhs: np.ndarray) -> None:
        """``relation`` ids are local (0..len(rhs)-1) to this block."""
        self.rows.append(relation + self.n_rel)
        self.cols.append(cell)
        self.coef.append(coef)
        self.rhs.append(rhs)
        self.n_rel += len(rhs)

    def matrix(self) -> tuple[sp.csr_matrix, np.ndarray]:
        A = sp.csr_matrix(
            (np.concatenate(self.coef), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rel, len(self.cells)),
        )
        return A, np.concatenate(self.rhs)


def additive_cells(table: pd.DataFrame, year: int, *, statuses: bool = False, group_max: int = GROUP_MAX
                   ) -> pd.DataFrame:
    """Counts and sums with what the attacker knows of each: its value if released, else its bounds.

    For numeric questions without a released sum (percentages), ``mean × n`` stands for it.
    """
    codebook = load_codebook(year)
    sums = set(table.loc[table["statistic"] == "sum", "variable"])
    means = table[(table["statistic"] == "mean") & ~table["variable"].isin(sums)].copy()
    means["value"] = means["value"] * means["n"]
    means["statistic"] = "sum"
    cells = pd.concat([table[table["statistic"].isin(["count", "sum"])], means], ignore_index=True)
    cells["published"] = (cells["status"] == "V") & cells["value"].notna()
    empty = cells["n"] == 0  # no respondent: every count and sum is 0, whatever its status
    cells.loc[empty & ~cells["published"], "value"] = 0.0
    cells["known"] = cells["published"] | empty
    cells.loc[~cells["known"], "value"] = np.nan

    questions = {v: codebook.question(v) for v in cells["variable"].unique()}
    # counts, and sums of whole-number answers, are whole numbers
    cells["integral"] = (cells["statistic"] == "count") | (
        (cells["statistic"] == "sum") & cells["variable"].map({v: q.type is QuestionType.COUNT
                                                                for v, q in questions.items()}).astype(bool))
    n = cells["n"].to_numpy(dtype=float)
    lo = np.zeros(len(cells))
    hi = n.copy()
    scale = np.ones(len(cells))
    for variable, index in cells.groupby("variable").indices.items():
        question = questions[variable]
        if question.type.is_categorical:
            continue
        known = cells["value"].to_numpy()[index]
        s = max(1.0, float(np.nanmax(np.abs(known), initial=0.0)))
        scale[index] = s
        lo[index], hi[index] = sum_bounds(question, n[index], s)
    cells["lo"], cells["hi"], cells["scale"] = lo, hi, scale
    cells["linked"] = cells["variable"].map(
        {v: q.type in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE) for v, q in questions.items()}
    ).astype(bool)
    if statuses:
        # frequency rule: a count suppressed A in a group too large for group disclosure is
        # 1 … threshold − 1; in a small group, A may also be "none" or "all" of it: no bound there
        frequency = ((cells["statistic"] == "count") & (cells["status"] == "A") & ~cells["known"]
                     & (cells["n"] > group_max))
        cells.loc[frequency, "lo"] = np.maximum(cells.loc[frequency, "lo"], 1.0)
        cells.loc[frequency, "hi"] = np.minimum(cells.loc[frequency, "hi"], MIN_CONTRIBUTORS - 1.0)
    return cells.reset_index(drop=True)


def sum_bounds(question: Question, n: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    low = float(question.minimum) if isinstance(question.minimum, int | float) else None
    high = float(question.maximum) if isinstance(question.maximum, int | float) else None
    lo = n * low if low is not None else np.full(len(n), -BOX * scale)
    hi = n * high if high is not None else np.full(len(n), BOX * scale)
    return lo, hi


def build_system(cells: pd.DataFrame) -> System:
    system = System(cells)
    idx = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[["statistic", *KEY]]))

    # breakdown margins: total of a territory = Σ categories of each breakdown
    parts = cells[cells["breakdown"] != ""]
    totals = idx.reindex(pd.MultiIndex.from_frame(
        parts[["statistic", "variable", "answer", "level", "territory"]].assign(breakdown="", category="")
    )).to_numpy()
    assert not np.isnan(totals).any(), "a breakdown category without its territory total"
    group = parts.groupby(["statistic", "variable", "answer", "level", "territory", "breakdown"]).ngroup().to_numpy()
    relation(system, group, totals.astype(np.int64), parts.index.to_numpy())
    # every breakdown lists the same categories everywhere (else Σ categories is not the total)
    cats = parts.groupby(["variable", "breakdown"])["category"].nunique()
    per_territory = parts.groupby(["statistic", "variable", "answer", "level", "territory", "breakdown"]).size()
    expected = cats.reindex(pd.MultiIndex.from_frame(per_territory.index.to_frame()[["variable", "breakdown"]]))
    assert (per_territory.to_numpy() == expected.to_numpy()).all(), "a territory lacks some breakdown category"

    # hierarchy: national = Σ régions, région = Σ its départements (each column: total and categories)
    region_of = dict(zip(geo.departements()["code"], geo.departements()["region"], strict=True))
    known_regions = set(geo.regions()["code"])
    for lower, parent_code in (
        ("region", lambda codes: pd.Series(geo.NATIONAL_CODE, index=codes.index)),
        ("departement", lambda codes: codes.map(region_of)),
    ):
        children = cells[cells["level"] == lower]
        parents = parent_code(children["territory"])
        assert parents.notna().all(), f"unknown {lower} in the bundle: {set(children['territory'][parents.isna()])}"
        if lower == "region":
            assert set(children["territory"]) <= known_regions
        upper = "national" if lower == "region" else "region"
        parent_key = children[["statistic", *KEY]].assign(level=upper, territory=parents.to_numpy())
        parent_idx = idx.reindex(pd.MultiIndex.from_frame(parent_key)).to_numpy()
        assert not np.isnan(parent_idx).any(), f"a {lower} cell whose {upper} is missing from the bundle"
        group = pd.Series(parent_idx).astype(np.int64).to_numpy()
        relation(system, pd.factorize(group)[0], group, children.index.to_numpy())

    # answer margin of yes/no and single-choice questions: Σ_answers count = n
    linked = cells[(cells["statistic"] == "count") & cells["linked"]]
    keys = ["variable", "level", "territory", "breakdown", "category"]
    group = linked.groupby(keys).ngroup().to_numpy()
    n_of = linked.groupby(keys)["n"].agg(["min", "max"])
    assert (n_of["min"] == n_of["max"]).all(), "answers of one cell with different respondents"
    system.add(group, linked.index.to_numpy(), np.ones(len(linked)), n_of["min"].to_numpy(dtype=float))
    return system


def relation(system: System, group: np.ndarray, parent: np.ndarray, children: np.ndarray) -> None:
    """parent[g] − Σ children of g = 0, one relation per group id g (0..k-1)."""
    k = int(group.max()) + 1 if len(group) else 0
    first = pd.Series(parent).groupby(group).first().to_numpy()
    rel = np.concatenate([np.arange(k), group])
    cell = np.concatenate([first, children])
    coef = np.concatenate([np.ones(k), -np.ones(len(children))])
    system.add(rel, cell, coef, np.zeros(k))


def lp(objective: np.ndarray, A: sp.csr_matrix, b: np.ndarray, bounds: np.ndarray, *, interior: bool = False
       ) -> np.ndarray | None:
    """A vertex optimal for ``objective`` (dual simplex), or with ``interior`` a point of the relative
    interior of the optimal face (interior point method without crossover); None if infeasible."""
    constraints = {"A_eq": A, "b_eq": b} if A.shape[0] else {}
    if interior:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # HiGHS's own option, passed verbatim
            result = linprog(objective, **constraints, bounds=bounds, method="highs-ipm",
                             options={"run_crossover": "off", "presolve": False})
    else:
        result = linprog(objective, **constraints, bounds=bounds, method="highs")
    return result.x if result.status == 0 else None


@dataclass
class Component:
    """One connected block of the system: unknowns linked by open relations."""

    A: sp.csr_matrix
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    step: np.ndarray  # the unit of a whole-number cell in this component's scale; 0 for others


@dataclass
class Ranges:
    low: np.ndarray  # attained values (exact LP minimum and maximum where ``determined`` was decided by LP)
    high: np.ndarray
    determined: np.ndarray  # bool: LP minimum and maximum leave a single value
    lps: int
    complete: bool  # False when stopped after ``stop_after`` determined cells


def audit_component(comp: Component, rng: np.random.Generator, stop_after: int | None = None) -> Ranges | None:
    """The range of every unknown of ``comp`` (None if the relations are infeasible).

    First the relative interior of the polytope (there, every coordinate that is not fixed is
    strictly inside its range), then vertices pushing each open cell away from where the
    witnesses left it, while that settles several cells per LP; then, for each cell still open,
    its exact LP maximum and minimum.
    """
    A, b, lo, hi, step = comp.A, comp.b, comp.lo, comp.hi, comp.step
    k = A.shape[1]
    bounds = np.column_stack([lo, hi])
    low = np.full(k, np.inf)
    high = np.full(k, -np.inf)
    determined = np.zeros(k, dtype=bool)
    lps = 0

    def witness(x: np.ndarray) -> None:
        np.minimum(low, x, out=low)
        np.maximum(high, x, out=high)

    def single_value(gap: float) -> np.ndarray:
        narrow = high - low <= gap
        with np.errstate(divide="ignore", invalid="ignore"):
            one_whole = np.floor(high / step + COUNT_SLACK) - np.ceil(low / step - COUNT_SLACK) < 1
        return np.where(step > 0, one_whole | narrow, narrow)

    x = lp(np.zeros(k), A, b, bounds, interior=True)
    if x is None:  # the interior point method did not converge: any feasible point will do
        x = lp(np.zeros(k), A, b, bounds)
        lps += 1
    lps += 1
    if x is None:
        return None
    witness(x)
    todo = single_value(WITNESS_GAP)
    first = True
    while todo.any():
        if first:
            c = rng.standard_normal(k)
            first = False
        else:
            c = np.where(low > lo + BOUND_SLACK, 1.0, np.where(high < hi - BOUND_SLACK, -1.0, 0.0))
        x = lp(c * todo, A, b, bounds)
        lps += 1
        if x is None:
            return None
        witness(x)
        before, todo = todo.sum(), single_value(WITNESS_GAP)
        if before - todo.sum() < MIN_SETTLED:
            break
    for j in np.flatnonzero(todo):
        for sign in (-1.0, 1.0):  # maximise, then minimise
            if not single_value(WITNESS_GAP)[j]:
                break
            if (sign < 0 and high[j] >= hi[j] - BOUND_SLACK) or (sign > 0 and low[j] <= lo[j] + BOUND_SLACK):
                continue  # that end is attained already: it is the bound
            c = np.zeros(k)
            c[j] = sign
            x = lp(c, A, b, bounds)
            lps += 1
            if x is None:
                return None
            witness(x)
        determined[j] = single_value(SUM_TOLERANCE)[j]
        if stop_after is not None and determined.sum() >= stop_after:
            return Ranges(low, high, determined, lps, complete=False)
    return Ranges(low, high, determined, lps, complete=True)


@dataclass
class Audit:
    disclosures: pd.DataFrame  # the disclosed cells (statistic, KEY, n, status, low, high)
    stats: dict[str, int] = field(default_factory=dict)
    complete: bool = True


def reaudit(table: pd.DataFrame, year: int, *, statuses: bool = False, stop_after: int | None = None,
            seed: int = 0, group_max: int = GROUP_MAX) -> Audit:
    """Every suppressed additive cell of one bundle that the bundle determines.

    With ``statuses``, the attacker also reads the status codes: ``A`` on a count of a group of
    more than ``group_max`` respondents (too large for group disclosure) says it is 1 … threshold
    − 1. ``stop_after``: stop once that many disclosed cells are found (the audit is then
    incomplete).
    """
    cells = additive_cells(table, year, statuses=statuses, group_max=group_max)
    A, rhs = build_system(cells).matrix()
    known = cells["known"].to_numpy()
    value = np.nan_to_num(cells["value"].to_numpy(dtype=float))
    scale = cells["scale"].to_numpy()

    # relations between released values only must hold (else the relations above are wrong)
    b = rhs - A[:, known] @ value[known]
    U = A[:, ~known].tocsr()
    closed = np.diff(U.indptr) == 0
    row_scale = abs(A) @ np.where(known, np.abs(value), 0.0) + 1.0
    inconsistent = closed & (np.abs(b) > 1e-6 * row_scale)
    assert not inconsistent.any(), f"{inconsistent.sum()} relations between released values do not hold"

    unknown = np.flatnonzero(~known)
    U, b = U[~closed], b[~closed]
    audit = Audit(pd.DataFrame(), {"additive_cells": len(cells), "suppressed": len(unknown),
                                   "open_relations": U.shape[0], "components": 0, "lps": 0})
    if not len(unknown):
        return audit
    _, labels = connected_components(sp.bmat([[None, U], [U.T, None]]).tocsr(), directed=False)
    rows_of = pd.Series(np.arange(U.shape[0])).groupby(labels[: U.shape[0]]).indices
    cols_of = pd.Series(np.arange(len(unknown))).groupby(labels[U.shape[0]:]).indices
    lo, hi = cells["lo"].to_numpy()[unknown], cells["hi"].to_numpy()[unknown]
    integral = cells["integral"].to_numpy()[unknown]
    rng = np.random.default_rng(seed)
    found: list[pd.DataFrame] = []
    for label, cols in cols_of.items():
        rows = rows_of.get(label, np.array([], dtype=np.int64))
        s = float(scale[unknown[cols]].max())
        comp = Component(U[rows][:, cols], b[rows] / s, lo[cols] / s, hi[cols] / s,
                         np.where(integral[cols], 1.0 / s, 0.0))
        remaining = None if stop_after is None else stop_after - sum(len(f) for f in found)
        ranges = audit_component(comp, rng, remaining)
        assert ranges is not None, f"infeasible relations around {cells.iloc[unknown[cols[0]]][KEY].to_dict()}"
        audit.stats["components"] += 1
        audit.stats["lps"] += ranges.lps
        if ranges.determined.any():
            hit = cells.iloc[unknown[cols[ranges.determined]]][["statistic", *KEY, "n", "status"]].copy()
            hit["low"] = ranges.low[ranges.determined] * s
            hit["high"] = ranges.high[ranges.determined] * s
            found.append(hit)
        if not ranges.complete:
            audit.complete = False
            break
    if found:
        audit.disclosures = pd.concat(found, ignore_index=True)
    return audit


# ---------------------------------------------------------- the auditor finds planted leaks

YEAR = 2025
YES_NO, AMOUNT, PERCENT = "actions_numerique", "budget_total", "part_cdi"
# Corse (région 94): départements 2A and 2B; (département, type, n structures)
SMALL_UNIVERSE = (("2A", "CS", 3), ("2A", "EVS", 3), ("2B", "CS", 3), ("2B", "EVS", 3))


def small_microdata(oui: dict[tuple[str, str], int], universe=SMALL_UNIVERSE) -> pd.DataFrame:
    """One row per structure; ``oui[(dep, type)]`` structures of the cell answer oui, the others non."""
    rows = []
    for dep, kind, n in universe:
        for i in range(n):
            rows.append({"departement": dep, "type_structure": kind,
                         YES_NO: "oui" if i < oui[(dep, kind)] else "non",
                         AMOUNT: 100_000.0 * (1 + i) + (5_000.0 if kind == "EVS" else 0.0),
                         PERCENT: 10.0 * (1 + i) + (3.0 if dep == "2B" else 0.0)})
    frame = pd.DataFrame(rows)
    frame["region"] = frame["departement"].map(geo.region_of)
    return frame


def small_bundle(micro: pd.DataFrame) -> pd.DataFrame:
    """The contract's long table of ``micro`` (national, région, départements; total and by type)."""
    rows = []
    territories = [("national", geo.NATIONAL_CODE, micro)]
    territories += [("region", r, g) for r, g in micro.groupby("region")]
    territories += [("departement", d, g) for d, g in micro.groupby("departement")]
    for level, code, group in territories:
        cuts = [("", "", group)] + [("type_structure", c, group[group["type_structure"] == c]) for c in ("CS", "EVS")]
        for breakdown, category, cell in cuts:
            n = len(cell)  # every structure answers every question here
            key = {"level": level, "territory": code, "breakdown": breakdown, "category": category, "n": n}
            for variable in (YES_NO, AMOUNT, PERCENT):
                rows.append({**key, "variable": variable, "statistic": "structures", "answer": "", "value": n})
                rows.append({**key, "variable": variable, "statistic": "respondents", "answer": "", "value": n})
            for answer in ("oui", "non"):
                count = int((cell[YES_NO] == answer).sum())
                rows.append({**key, "variable": YES_NO, "statistic": "count", "answer": answer, "value": count})
                rows.append({**key, "variable": YES_NO, "statistic": "share", "answer": answer,
                             "value": count / n if n else np.nan})
            rows.append({**key, "variable": AMOUNT, "statistic": "sum", "answer": "", "value": cell[AMOUNT].sum()})
            for variable in (AMOUNT, PERCENT):
                rows.append({**key, "variable": variable, "statistic": "mean", "answer": "",
                             "value": cell[variable].mean() if n else np.nan})
    table = pd.DataFrame(rows)
    table["year"] = YEAR
    table["status"] = "V"
    return table[list(COLUMNS)]


def suppress(table: pd.DataFrame, variable: str, cells: list[tuple[str, str]], answers=("",),
             status: str = "D") -> pd.DataFrame:
    """Suppress the additive cells (and their share/mean) of ``variable`` at (territory, category)."""
    table = table.copy()
    where = (table["variable"] == variable) & table["answer"].isin(answers) & table["statistic"].isin(
        ["count", "share", "sum", "mean"]) & pd.Series(
        [(t, c) in cells for t, c in zip(table["territory"], table["category"], strict=True)], index=table.index)
    table.loc[where, "status"] = status
    table.loc[where, "value"] = np.nan
    return table


def disclosed(audit: Audit) -> set[tuple[str, str, str, str]]:
    if audit.disclosures.empty:
        return set()
    d = audit.disclosures
    return set(zip(d["variable"], d["answer"], d["territory"], d["category"], strict=True))


BALANCED = {("2A", "CS"): 2, ("2A", "EVS"): 1, ("2B", "CS"): 1, ("2B", "EVS"): 2}
RECTANGLE = [("2A", "CS"), ("2A", "EVS"), ("2B", "CS"), ("2B", "EVS")]


def test_a_protected_rectangle_passes() -> None:
    """2×2 suppression (départements × types), every margin released: one degree of freedom each."""
    table = small_bundle(small_microdata(BALANCED))
    table = suppress(table, YES_NO, RECTANGLE, answers=("oui", "non"))
    for variable in (AMOUNT, PERCENT):
        table = suppress(table, variable, RECTANGLE)
    audit = reaudit(table, YEAR)
    assert audit.stats["suppressed"] == 16 and audit.disclosures.empty, audit.disclosures


def test_a_cell_given_by_a_breakdown_margin_is_found() -> None:
    table = small_bundle(small_microdata(BALANCED))
    table = suppress(table, YES_NO, [("2A", "CS")], answers=("oui", "non"))
    table = suppress(table, AMOUNT, [("2A", "CS")])
    table = suppress(table, PERCENT, [("2A", "CS")])  # its mean × n is a sum too
    assert disclosed(reaudit(table, YEAR)) == {
        (YES_NO, "oui", "2A", "CS"), (YES_NO, "non", "2A", "CS"), (AMOUNT, "", "2A", "CS"), (PERCENT, "", "2A", "CS"),
    }


def test_a_cell_given_by_the_hierarchy_is_found() -> None:
    table = small_bundle(small_microdata(BALANCED))
    table = suppress(table, AMOUNT, [("2A", ""), ("2A", "CS"), ("2A", "EVS")])  # région − 2B
    audit = reaudit(table, YEAR)
    assert disclosed(audit) == {(AMOUNT, "", "2A", ""), (AMOUNT, "", "2A", "CS"), (AMOUNT, "", "2A", "EVS")}
    exact = audit.disclosures.set_index("category")
    assert exact.loc["CS", "low"] == pytest.approx(600_000.0) and exact.loc["CS", "high"] == pytest.approx(600_000.0)


def test_a_count_given_by_the_answer_margin_is_found() -> None:
    table = small_bundle(small_microdata(BALANCED))
    table = suppress(table, YES_NO, RECTANGLE, answers=("oui",))  # oui = n − non, non released
    assert disclosed(reaudit(table, YEAR)) == {(YES_NO, "oui", dep, kind) for dep, kind in RECTANGLE}


def test_a_count_pinned_by_its_bounds_is_found() -> None:
    """A 2×2 suppression where nobody in 2A answers oui: 2A's released total oui = 0 and counts ≥ 0
    leave a single solution (without the bounds it would have one degree of freedom)."""
    micro = small_microdata({**BALANCED, ("2A", "CS"): 0, ("2A", "EVS"): 0})
    table = suppress(small_bundle(micro), YES_NO, RECTANGLE, answers=("oui", "non"))
    assert disclosed(reaudit(table, YEAR)) == {
        (YES_NO, answer, dep, kind) for answer in ("oui", "non") for dep, kind in RECTANGLE
    }


def test_a_lone_respondent_given_away_by_the_status_codes_is_found() -> None:
    """2B's EVS has one structure: values alone leave two solutions, the primary/secondary codes one
    (under a rule set without group disclosure, where A on a count always means 1 … threshold − 1)."""
    universe = (("2A", "CS", 3), ("2A", "EVS", 3), ("2B", "CS", 3), ("2B", "EVS", 1))
    micro = small_microdata({("2A", "CS"): 1, ("2A", "EVS"): 2, ("2B", "CS"): 2, ("2B", "EVS"): 1}, universe)
    table = suppress(small_bundle(micro), YES_NO, RECTANGLE, answers=("oui", "non"))
    lone = (table["territory"] == "2B") & (table["category"] == "EVS") & (table["answer"] == "oui")
    table.loc[lone & (table["statistic"] == "count"), "status"] = "A"  # its count is 1: frequency rule
    assert reaudit(table, YEAR).disclosures.empty
    assert reaudit(table, YEAR, statuses=True).disclosures.empty  # packaged rules: A may be "none" there
    assert disclosed(reaudit(table, YEAR, statuses=True, group_max=0)) == {
        (YES_NO, answer, dep, kind) for answer in ("oui", "non") for dep, kind in RECTANGLE
    }


# -------------------------------------------------------------------- the demo's bundles


def released_bundles(workspace: Path) -> list[Path]:
    root = workspace / "published" / RELEASED
    return sorted(p for p in root.glob("*/v*") if p.is_dir() and p.name[1:].isdigit())


@pytest.fixture(scope="module")
def bundles(demo_cli_run: tuple[Path, object]) -> list[tuple[Path, pd.DataFrame]]:
    """Every released bundle of the session's ``senacs demo --years 2024-2025 --scale 0.02`` (conftest.py)."""
    workspace, result = demo_cli_run
    assert result.returncode == 0, result.stderr[-3000:]
    found = released_bundles(workspace)
    assert sorted(int(p.parent.name) for p in found) == list(DEMO_YEARS), found
    return [(folder, pd.read_parquet(folder / table_name(int(folder.parent.name)))) for folder in found]


@pytest.mark.slow
def test_demo_bundles_follow_the_contract(bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    for folder, table in bundles:
        year = int(folder.parent.name)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["state"] == "released" and manifest["year"] == year
        assert manifest["files"][table_name(year)] == sha256_file(folder / table_name(year))
        assert tuple(table.columns) == COLUMNS
        assert (table["year"] == year).all()
        assert set(table["statistic"]) <= STATISTICS
        assert set(table["status"]) <= STATUSES
        assert set(table["level"]) == set(LEVELS)  # the committee bundle: no EPCI, no commune
        assert (table["n"] >= 0).all()
        assert not table.duplicated(["statistic", *KEY]).any()


@pytest.mark.slow
def test_demo_bundles_no_suppressed_cell_has_a_value(bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    found = {folder: table[(table["status"] != "V") & table["value"].notna()] for folder, table in bundles}
    assert all(cells.empty for cells in found.values()), report(found)


def test_demo_bundles_publish_one_code_for_every_suppressed_cell(bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    """Why a cell is hidden is itself information (attack A15): the bundle says only V or D."""
    for folder, table in bundles:
        assert set(table["status"]) <= {"V", "D"}, folder


@pytest.mark.slow
def test_demo_bundles_no_released_cell_has_fewer_than_three_contributors(
        bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    found = {}
    for folder, table in bundles:
        public = {q.id for q in load_codebook(int(folder.parent.name)).questions if q.public}
        released = table[(table["status"] == "V") & table["value"].notna()]
        exempt = released["statistic"].isin(PUBLIC_IDENTITY_STATISTICS) | (
            released["variable"].isin(public) & released["statistic"].isin(["count", "share"])
        )
        checked = released[~exempt]
        problems = {
            "count or sum with 0 < n < 3": checked["statistic"].isin(["count", "sum"])
            & (checked["n"] > 0) & (checked["n"] < MIN_CONTRIBUTORS),
            "mean, share or quantile with n < 3": checked["statistic"].isin(RATIO_STATISTICS)
            & (checked["n"] < MIN_CONTRIBUTORS),
            "count of 1 or 2 structures": (checked["statistic"] == "count") & (checked["value"] > 0)
            & (checked["value"] < MIN_CONTRIBUTORS),
        }
        found.update({f"{folder}, released {what}": checked[mask] for what, mask in problems.items()})
    assert all(cells.empty for cells in found.values()), report(found)


@pytest.mark.slow
def test_demo_bundles_ratios_and_their_sums_are_suppressed_together(bundles: list[tuple[Path, pd.DataFrame]]
                                                                      ) -> None:
    """count = share × n, sum = mean × n (n is released for every cell): one released gives the other."""
    found = {}
    for folder, table in bundles:
        for additive, ratio in (("count", "share"), ("sum", "mean")):
            both = table[table["statistic"] == additive].merge(
                table[table["statistic"] == ratio], on=KEY, suffixes=("", "_ratio"))
            both = both[both["n"] > 0]
            found[f"{folder}, {additive} and {ratio} suppressed apart"] = both[
                (both["status"] == "V") != (both["status_ratio"] == "V")]
    assert all(cells.empty for cells in found.values()), report(found)


@pytest.mark.slow
def test_demo_bundles_no_suppressed_cell_is_derivable_from_released_values(
        bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    found = {}
    for folder, table in bundles:
        audit = reaudit(table, int(folder.parent.name), stop_after=SAMPLE)
        assert audit.stats["suppressed"] > 1000, audit.stats  # the demo does suppress: the audit has work
        found[f"{folder}, determined by the released values ({audit.stats})"] = audit.disclosures
    assert all(cells.empty for cells in found.values()), report(found)


@pytest.mark.slow
def test_demo_bundles_no_suppressed_cell_is_derivable_once_statuses_are_read(
        bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    """The status column is released too: ``A`` (frequency) on a yes/no or single-choice count means ≥ 1."""
    found = {}
    for folder, table in bundles:
        audit = reaudit(table, int(folder.parent.name), statuses=True, stop_after=SAMPLE)
        found[f"{folder}, determined by the released values and status codes"
              + ("" if audit.complete else f" (audit stopped after {SAMPLE})")] = audit.disclosures
    assert all(cells.empty for cells in found.values()), report(found)


def report(found: dict[object, pd.DataFrame], limit: int = SAMPLE) -> str:
    return "\n".join(f"{where}: {len(cells)} cell(s), e.g.\n{cells.head(limit).to_string()}"
                     for where, cells in found.items() if not cells.empty)


# -------------------------------------------------------------------- year over year (attack A7)

BASE_BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")


def answers_by_structure(workspace: Path, year: int, version: int, variables: list[str]) -> pd.DataFrame:
    """One row per structure of the released data version: geography, breakdowns, answers as text."""
    from senacs_workbench.core.workspace import Workspace
    from senacs_workbench.restricted.store import RawDataStore

    wide = RawDataStore(Workspace(workspace), "prep").wide(year, "FR", version, variables=[*BASE_BREAKDOWNS,
                                                                                        *variables])
    frame = wide[["structure_id", "region", "departement", *BASE_BREAKDOWNS]].astype("string").fillna("")
    for variable in variables:
        frame[variable] = wide[variable].astype("string").fillna("")
    return frame.set_index("structure_id")


def changed_structures(before: pd.DataFrame, after: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Per (variable, level, territory, breakdown, category): how many structures' answers changed
    between the two years (an entrant or a leaver that answered counts, so does a structure that
    moved to another category with an answer)."""
    both = before.add_suffix("_a").join(after.add_suffix("_b"), how="outer")
    rows = []
    for level in LEVELS:
        for breakdown in ("", *BASE_BREAKDOWNS):
            def group(side: str, level: str = level, breakdown: str = breakdown) -> pd.Series:
                territory = (pd.Series("FR", index=both.index).where(both[f"region_{side}"].notna())
                             if level == "national" else both[f"{level}_{side}"])
                if not breakdown:
                    return territory.fillna("").astype(str) + "|"
                category = both[f"{breakdown}_{side}"].replace("", "non_renseigne")
                return territory.fillna("").astype(str) + "|" + category.fillna("").astype(str)
            key_a, key_b = group("a"), group("b")
            for variable in variables:
                value_a, value_b = both[f"{variable}_a"].fillna(""), both[f"{variable}_b"].fillna("")
                same_group = key_a == key_b
                changes = pd.concat([
                    key_a[same_group & (value_a != value_b)],
                    key_a[~same_group & (value_a != "") & both["region_a"].notna()],
                    key_b[~same_group & (value_b != "") & both["region_b"].notna()],
                ])
                for key, k in changes[changes.str.len() > 1].value_counts().items():
                    territory, category = key.split("|")
                    rows.append((variable, level, territory, breakdown, category, int(k)))
    return pd.DataFrame(rows, columns=["variable", "level", "territory", "breakdown", "category", "changed"])


@pytest.mark.slow
def test_demo_bundles_year_over_year_differences_do_not_reveal_one_or_two_structures(
        demo_cli_run: tuple[Path, object], bundles: list[tuple[Path, pd.DataFrame]]) -> None:
    """Attack A7 on the two demo years: a cell published both years whose value moved because of
    one or two structures gives their answers away (an entrant's budget, a leaver's "oui");
    and a cell hidden last year and unchanged must stay hidden. Checked from the raw store
    (restricted, as the preparer), not from the engine."""
    workspace, _ = demo_cli_run
    (folder_a, table_a), (folder_b, table_b) = bundles
    versions = [json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["data_version"]
                for folder in (folder_a, folder_b)]
    additive = ["count", "sum"]
    a = table_a[table_a["statistic"].isin(additive) & (table_a["breakdown"].isin(["", *BASE_BREAKDOWNS]))]
    b = table_b[table_b["statistic"].isin(additive) & (table_b["breakdown"].isin(["", *BASE_BREAKDOWNS]))]
    variables = sorted(set(a["variable"]) & set(b["variable"]))
    before = answers_by_structure(workspace, DEMO_YEARS[0], versions[0], variables)
    after = answers_by_structure(workspace, DEMO_YEARS[1], versions[1], variables)
    changed = changed_structures(before, after, variables)
    group_key = ["variable", "level", "territory", "breakdown", "category"]
    pairs = a.merge(b, on=["statistic", *KEY], suffixes=("_a", "_b")).merge(changed, on=group_key, how="left")
    pairs["changed"] = pairs["changed"].fillna(0).astype(int)
    few = (pairs["changed"] > 0) & (pairs["changed"] < MIN_CONTRIBUTORS)
    # a count above this year's published respondents cannot have stayed: the drop is public
    few &= ~((pairs["statistic"] == "count") & (pairs["value_a"] > pairs["n_b"]))
    assert (few & (pairs["status_a"] == "V")).sum() > 0, "no cell to check: the demo has no small change"
    revealing = pairs[few & (pairs["status_a"] == "V") & (pairs["status_b"] == "V")]
    unhidden = pairs[(pairs["changed"] == 0) & (pairs["status_a"] != "V") & (pairs["status_b"] == "V")]
    assert revealing.empty, report({"published both years, changed by 1 or 2 structures": revealing})
    assert unhidden.empty, report({"hidden last year, unchanged, published this year": unhidden})
