"""Independent audit of a protected cell table: what can an attacker derive from what is published?

This module is written apart from the suppression engine on purpose: it imports only the
shared vocabulary (:mod:`senacs_workbench.disclosure.cells`), the rule set
(:mod:`senacs_workbench.disclosure.rules`: the thresholds it checks are read from the same
:class:`~senacs_workbench.disclosure.rules.RuleSet` the engine applied, never from defaults of its
own that could drift), the codebook, the territories and the solver wrapper
(:mod:`senacs_workbench.disclosure.lp`: HiGHS calls only, no disclosure logic).
It rebuilds every linear relation an outside reader can know from the cell table's own
structure, then computes, for every suppressed cell (status other than ``V``), the interval
of values compatible with everything published (linear programs solved by HiGHS, plus
mixed-integer ones for narrow intervals of counts, which are integers).

Relations rebuilt (each one is kept only if the true values satisfy it, when they are known:
the audit never adds a relation that does not hold):

* hierarchy: national = Σ régions, région = Σ its départements, département = Σ communes,
  EPCI = Σ communes; an EPCI that straddles départements is linked through latent parts
  (EPCI = Σ its parts, département = Σ the parts of the EPCI touching it, all ≥ 0);
* breakdown margins: the territory's total = Σ the categories of each breakdown, for the
  additive statistics (``structures``, ``respondents``, ``count``, ``sum``);
* answer margins: Σ counts over the answers = respondents (yes/no and single choice; detected
  from the data), and always count ≤ respondents ≤ structures;
* derived statistics: a published mean gives sum = mean × respondents, a published share
  gives count = share × respondents, a published response rate gives respondents = rate ×
  structures; the ``n`` of every published row gives the respondents of its cell; a
  published quantile of n units bounds the sum from below (values ≥ 0), and a median of one
  or two units gives the sum;
* public knowledge: counts are integers ≥ 0, sums of non-negative questions are ≥ 0, the
  codebook's minimum and maximum bound a sum by min × n and max × n; optionally the
  frequency threshold (a status ``A`` count lies in 1…threshold − 1: attack A15).

The system is split into connected components over the unknown (suppressed) values; only
components holding suppressed cells are solved, each with one warm-started HiGHS instance.

Limits (what this audit does not see; the test suite's attacker toolkit covers them):

* one release at a time: revisions, year-over-year differences and views released separately
  are not joined (attacks A3 across releases, A6, A7);
* the table alone: it knows the one-way breakdowns, not the public directory of structures, so
  an attacker who crosses the identity of every structure (the engine's inner cells, attack
  A14) can be stronger;
* the rule parameters: by default the attacker does not know them (``attacker_knows_rules``;
  A15 needs a disjunction per suppressed count when group disclosure shares status ``A``);
* dominated unions of suppressed cells need the contributions, which the cell table lacks;
* in the default mode the reported interval of a cell proven safe is an inner one (``witness``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from senacs_workbench.core import territories
from senacs_workbench.core.codebook import QuestionType, load_codebook
from senacs_workbench.disclosure.cells import (
    ADDITIVE_STATISTICS,
    CELL_COLUMNS,
    COUNT,
    DOMINANCE,
    FREQUENCY,
    MEAN,
    MEDIAN,
    NATIONAL_CODE,
    PUBLISHABLE,
    Q1,
    Q3,
    RESPONDENTS,
    RESPONSE_RATE,
    REVIEW,
    SHARE,
    STRUCTURES,
    SUM,
)
from senacs_workbench.disclosure.lp import Outcome, Program, Result, Solver
from senacs_workbench.disclosure.rules import RuleSet

KEY_COLUMNS: tuple[str, ...] = ("variable", "statistic", "answer", "level", "territory", "breakdown", "category")
"""Columns that identify a cell (``year`` aside); the key of the ``protection`` table."""

PRIMARY_STATUSES: tuple[str, ...] = (FREQUENCY, DOMINANCE, REVIEW)
SENSITIVE_STATISTICS: tuple[str, ...] = (COUNT, SHARE, SUM, MEAN, MEDIAN, Q1, Q3)
"""Statistics whose published value with 0 < n < 3 tells something about one or two structures."""
COUNT_LIKE: tuple[str, ...] = (STRUCTURES, RESPONDENTS, COUNT)
QUANTILE_LEVELS: dict[str, float] = {Q1: 0.25, MEDIAN: 0.5, Q3: 0.75}

PROBLEM_COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    *KEY_COLUMNS,
    "status",
    "value",
    "n",
    "lower",
    "upper",
    "required_lower",
    "required_upper",
    "detail",
)
INTERVAL_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "status",
    "value",
    "n",
    "lower",
    "upper",
    "method",
    "exact",
)

_ERROR = "error"
_WARNING = "warning"


# --------------------------------------------------------------------------- report


@dataclass
class AuditReport:
    """Outcome of :func:`audit`.

    ``problems`` has one row per finding (:data:`PROBLEM_COLUMNS`); findings of severity
    ``error`` block the result, ``warning`` ones are for the human checker. ``intervals`` has
    one row per suppressed cell (:data:`INTERVAL_COLUMNS`): the lowest and highest value an
    attacker can derive, ``method`` telling how (``lp``, ``milp``, ``ratio``, ``none``).
    """

    problems: pd.DataFrame
    intervals: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not bool((self.problems["severity"] == _ERROR).any())

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable figures for the bundle's manifest."""
        kinds = self.problems.loc[self.problems["severity"] == _ERROR, "kind"].value_counts()
        out: dict[str, Any] = {
            "ok": self.ok,
            "cells": int(self.stats.get("cells", 0)),
            "suppressed": int(self.stats.get("suppressed", 0)),
            "primary": int(self.stats.get("primary", 0)),
            "exact": int(kinds.get("exact_disclosure", 0)),
            "insufficient": int(kinds.get("insufficient_protection", 0)),
            "small_cells_published": int(kinds.get("small_cell_published", 0)),
            "quantiles_too_few_units": int(kinds.get("quantile_too_few_units", 0)),
            "infeasible_components": int(kinds.get("infeasible_relations", 0)),
            "errors": int((self.problems["severity"] == _ERROR).sum()),
            "warnings": int((self.problems["severity"] == _WARNING).sum()),
            "relations": int(self.stats.get("relations", 0)),
            "relations_dropped": int(self.stats.get("relations_dropped", 0)),
            "components": int(self.stats.get("components", 0)),
            "lp_solved": int(self.stats.get("lp_solved", 0)),
            "milp_solved": int(self.stats.get("milp_solved", 0)),
            "seconds": round(float(self.stats.get("seconds", 0.0)), 3),
        }
        return out


# --------------------------------------------------------------------------- relation builder


class _Relations:
    """Sparse linear relations over the additive cells (and latent parts), with verification.

    Equalities ``A_eq x = b_eq`` and inequalities ``A_ub x <= b_ub``. A batch of relations is
    checked against the true values (when all its terms have one): a relation the truth does
    not satisfy is dropped, never added.
    """

    def __init__(self, truth: np.ndarray) -> None:
        self.truth = truth
        self.eq: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.ub: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_eq = 0
        self.n_ub = 0
        self.dropped = 0
        self.kinds: dict[str, int] = {}

    def set_truth(self, truth: np.ndarray) -> None:
        self.truth = truth

    def add(
        self,
        kind: str,
        rows: np.ndarray,
        cols: np.ndarray,
        coefs: np.ndarray,
        rhs: np.ndarray,
        *,
        inequality: bool = False,
        verify: bool = True,
    ) -> None:
        """Add relations ``Σ coef·x[col] (= or <=) rhs[row]``; ``rows`` are 0…len(rhs) − 1."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        coefs = np.asarray(coefs, dtype=float)
        rhs = np.asarray(rhs, dtype=float)
        k = len(rhs)
        if k == 0:
            return
        keep = np.isfinite(rhs)
        if verify:
            t = self.truth[cols]
            known = np.isfinite(t)
            all_known = np.bincount(rows, weights=(~known).astype(float), minlength=k) == 0
            lhs = np.bincount(rows, weights=np.where(known, coefs * t, 0.0), minlength=k)
            scale = np.bincount(rows, weights=np.abs(np.where(known, coefs * t, 0.0)), minlength=k)
            tol = 1e-6 * (1.0 + scale + np.abs(rhs))
            good = lhs - rhs <= tol if inequality else np.abs(lhs - rhs) <= tol
            keep &= ~all_known | good
        self.dropped += int((~keep).sum())
        if not keep.all():
            new_id = np.cumsum(keep) - 1
            mask = keep[rows]
            rows, cols, coefs = new_id[rows[mask]], cols[mask], coefs[mask]
            rhs = rhs[keep]
            k = len(rhs)
        if k == 0:
            return
        self.kinds[kind] = self.kinds.get(kind, 0) + k
        if inequality:
            self.ub.append((rows + self.n_ub, cols, coefs, rhs))
            self.n_ub += k
        else:
            self.eq.append((rows + self.n_eq, cols, coefs, rhs))
            self.n_eq += k

    @staticmethod
    def _assemble(
        parts: Sequence[tuple[np.ndarray, ...]], n_rows: int, n_cols: int
    ) -> tuple[sparse.csr_matrix, np.ndarray]:
        if not parts:
            return sparse.csr_matrix((0, n_cols)), np.zeros(0)
        rows = np.concatenate([p[0] for p in parts])
        cols = np.concatenate([p[1] for p in parts])
        vals = np.concatenate([p[2] for p in parts])
        rhs = np.concatenate([p[3] for p in parts])
        matrix = sparse.coo_matrix((vals, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
        matrix.sum_duplicates()
        return matrix, rhs

    def matrices(self, n_cols: int) -> tuple[sparse.csr_matrix, np.ndarray, sparse.csr_matrix, np.ndarray]:
        a_eq, b_eq = self._assemble(self.eq, self.n_eq, n_cols)
        a_ub, b_ub = self._assemble(self.ub, self.n_ub, n_cols)
        return a_eq, b_eq, a_ub, b_ub


def _sum_relations(
    rel: _Relations, kind: str, parent: np.ndarray, children: np.ndarray, group: np.ndarray | None = None,
    n: np.ndarray | None = None,
) -> None:
    """Relations ``x[parent] − Σ x[children] = 0``, one per distinct ``group`` (default: parent).

    ``n`` (per additive cell, the published ``n``): a reader sees a margin hold in one
    territory when the ``n`` of its parts add up to the ``n`` of the whole (every structure,
    every respondent of the whole is in one part): the relation is kept exactly there, cell by
    cell, whatever holds elsewhere (a category left unanswered in some territories only). Where
    the ``n`` do not add up, the parts do not cover the whole and the relation is dropped."""
    if len(parent) == 0:
        return
    grp = parent if group is None else group
    ids, row_of = np.unique(grp, return_inverse=True)
    if n is not None:
        n_parent = np.zeros(len(ids))
        n_parent[row_of] = n[parent]
        n_kids = np.bincount(row_of, weights=np.nan_to_num(n[children]), minlength=len(ids))
        unknown = np.bincount(row_of, weights=np.isnan(n[children]).astype(float), minlength=len(ids)) > 0
        covers = unknown | np.isnan(n_parent) | (np.abs(n_kids - n_parent) < 0.5)
        if not covers.all():
            rel.dropped += int((~covers).sum())
            keep = covers[row_of]
            parent, children, row_of = parent[keep], children[keep], row_of[keep]
            if len(parent) == 0:
                return
            ids, row_of = np.unique(row_of, return_inverse=True)
    first = np.zeros(len(ids), dtype=np.int64)
    first[row_of] = parent  # any parent of the group (they are all equal)
    rows = np.concatenate([np.arange(len(ids)), row_of])
    cols = np.concatenate([first, children])
    coefs = np.concatenate([np.ones(len(ids)), -np.ones(len(children))])
    rel.add(kind, rows, cols, coefs, np.zeros(len(ids)))


# --------------------------------------------------------------------------- preparation


def _normalise(cells: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in CELL_COLUMNS if c not in cells.columns]
    if missing:
        raise ValueError(f"Table de cellules incomplète : colonnes manquantes {missing}.")
    frame = cells.loc[:, list(CELL_COLUMNS)].copy().reset_index(drop=True)
    for col in ("variable", "statistic", "answer", "level", "territory", "breakdown", "category", "status"):
        text = frame[col].astype("object").where(frame[col].notna(), "").astype(str)
        # plain Python strings in an object column: fast to join into flat keys
        frame[col] = pd.Series(text.to_numpy(dtype=object), index=frame.index, dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").astype(float)
    return frame


IMPLICIT = "~"
"""Internal status of the sums the audit adds where only means are released (percent questions)."""


def _with_implicit_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Add an unknown ``sum`` row wherever a ``mean`` row has none: means of sub-groups combine
    through their (unreleased) sums, so an attacker can difference them like sums."""
    means = frame[frame["statistic"] == MEAN]
    if means.empty:
        return frame
    sums = frame[frame["statistic"] == SUM]
    cols = [c for c in KEY_COLUMNS if c != "statistic"]
    have = _flat(sums, cols)
    missing = means[~_flat(means, cols).isin(have)]
    if missing.empty:
        return frame
    extra = missing.copy()
    extra["statistic"] = SUM
    value = missing["value"].to_numpy(dtype=float) * missing["n"].to_numpy(dtype=float)
    value = np.where(missing["n"].to_numpy(dtype=float) == 0, 0.0, value)
    extra["value"] = value
    extra["status"] = IMPLICIT
    return pd.concat([frame, extra], ignore_index=True)


def _question_info(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per variable: codebook type, minimum and maximum when the codebook knows it."""
    info: dict[str, dict[str, Any]] = {}
    years = pd.to_numeric(frame["year"], errors="coerce").dropna().unique()
    codebook = None
    if len(years) == 1:
        try:
            codebook = load_codebook(int(years[0]))
        except (ValueError, KeyError, FileNotFoundError):
            codebook = None
    for variable in frame["variable"].unique():
        entry: dict[str, Any] = {"type": None, "min": None, "max": None, "public": False}
        if codebook is not None and variable in codebook:
            q = codebook.question(variable)
            entry["type"] = q.type
            entry["public"] = q.public
            if q.type.is_numeric:
                entry["min"] = float(q.minimum) if isinstance(q.minimum, int | float) else None
                entry["max"] = float(q.maximum) if isinstance(q.maximum, int | float) else None
        info[str(variable)] = entry
    return info


_SEP = "\x1f"


def _flat(keys: pd.DataFrame, columns: tuple[str, ...] | list[str] = KEY_COLUMNS) -> pd.Index:
    """One string per row joining the key columns (faster to index than a MultiIndex)."""
    cols = []
    for c in columns:
        arr = keys[c].to_numpy(dtype=object)
        if keys[c].dtype != object:
            arr = arr.astype(str).astype(object)
        cols.append(arr)
    joined = cols[0]
    for col in cols[1:]:
        joined = joined + _SEP + col
    return pd.Index(joined, dtype=object)


def _lookup(index: pd.Series, keys: pd.DataFrame) -> np.ndarray:
    """Positions of ``keys`` rows in ``index`` (a Series: flat key → position), −1 if absent."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    pos = index.index.get_indexer(_flat(keys))
    out = np.full(len(keys), -1, dtype=np.int64)
    found = pos >= 0
    out[found] = index.to_numpy()[pos[found]]
    return out


# --------------------------------------------------------------------------- the audit


def audit(
    cells: pd.DataFrame,
    protection: pd.DataFrame | None = None,
    *,
    rules: RuleSet,
    integral_counts: bool = True,
    attacker_knows_rules: bool = False,
    n_published: str = "all_rows",
    milp_max_width: float = 3.0,
    milp_max_vars: int = 4000,
    milp_time_limit: float = 5.0,
    milp_budget: float = 20.0,
    exact_intervals: bool = False,
    complete_epci_departements: Collection[str] | None = None,
) -> AuditReport:
    """Audit a protected cell table.

    ``cells`` has :data:`~senacs_workbench.disclosure.cells.CELL_COLUMNS`; ``value`` holds the
    true value of every cell (restricted zone) or is empty where suppressed (published zone:
    the intervals are then computed but cannot be compared with the truth). ``protection``,
    keyed by :data:`KEY_COLUMNS`, gives the required ``upper`` and ``lower`` protection of
    primary cells. ``n_published``: ``"all_rows"`` (the bundle contract: publication blanks
    ``value`` only, so the ``n`` — respondents — of every cell is public) or ``"published_rows"``
    (the ``n`` of suppressed rows is blanked too).

    ``complete_epci_departements``: the départements whose every EPCI holding structures is in
    the table (None: all of them — a full EPCI table). An EPCI absent from the table counts as
    empty (its parts 0) only in those départements; elsewhere its parts are unknown (≥ 0), as in
    an authorised release that holds one département's EPCI.

    ``rules``: the rule set the table was protected under (required: every threshold the audit
    checks comes from it — the frequency threshold, group disclosure, quantiles' units on each
    side). ``attacker_knows_rules`` models attack A15 (the rule parameters are restricted,
    default: the attacker does not know them): a status ``A`` structure or respondent count, or
    a status ``A`` count of answers when group disclosure does not also give status ``A``, lies
    in 1 … threshold − 1. When group disclosure gives ``A`` too, an ``A`` count of a group of at
    most ``rules.group_max_respondents`` is 1 … threshold − 1, 0 or all the respondents: no
    convex bound is added; in a larger group it is 1 … threshold − 1.

    ``exact_intervals``: solve the minimum and the maximum of every suppressed cell. By default
    a few LPs with many cells in the objective first gather feasible tables (witnesses): rounds
    that push every cell not yet proven safe, then random halves of them (seeded), until three
    rounds prove nothing new. A cell whose witnessed values already reach its required
    protection on both sides (and are not a single value; for a count, in integral tables) is
    proven safe without its own LPs, and its reported interval is the witnessed one (``method``
    = ``witness``: the attacker's true interval is at least that wide). Every other cell gets its
    own LPs (and, on a side whose LP optimum is fractional, a MILP), so every problem found is
    reported with exact bounds.
    """
    started = time.perf_counter()
    frame = _normalise(cells)
    info = _question_info(frame)
    stats: dict[str, Any] = {"cells": len(frame)}
    problems: list[dict[str, Any]] = []

    status = frame["status"].to_numpy()
    suppressed = status != PUBLISHABLE
    stats["suppressed"] = int(suppressed.sum())
    stats["primary"] = int(np.isin(status, PRIMARY_STATUSES).sum())

    small_cell_threshold = rules.min_contributors
    group_max_respondents = rules.group_max_respondents if rules.group_enabled else 0
    group_status = (FREQUENCY if rules.group_action == "suppress" else REVIEW) if rules.group_enabled else None
    frequency_threshold = rules.min_contributors if attacker_knows_rules else None
    stats["rules_hash"] = rules.hash
    _published_checks(frame, problems, small_cell_threshold, rules.quantile_min_each_side, info, group_max_respondents,
                      rules)
    if not suppressed.any():  # nothing to attack: every value is published
        stats["seconds"] = time.perf_counter() - started
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in INTERVAL_COLUMNS})
        return AuditReport(pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)), empty, stats)
    frame = _with_implicit_sums(frame)

    # ---- variables: additive cells, then latent parts
    additive = frame["statistic"].isin(ADDITIVE_STATISTICS).to_numpy()
    add_rows = np.flatnonzero(additive)
    n_add = len(add_rows)
    var_of_row = np.full(len(frame), -1, dtype=np.int64)
    var_of_row[add_rows] = np.arange(n_add)
    add = frame.iloc[add_rows].reset_index(drop=True)
    key_index = pd.Series(np.arange(n_add), index=_flat(add))
    if not key_index.index.is_unique:
        dup = add.loc[key_index.index.duplicated(), list(KEY_COLUMNS)].head(3).to_dict("records")
        raise ValueError(f"Cellules en double dans la table : {dup}")

    truth = add["value"].to_numpy(dtype=float).copy()
    published = add["status"].to_numpy() == PUBLISHABLE
    nonneg = np.array(
        [
            stat in COUNT_LIKE or _nonnegative(var, info, frame)
            for var, stat in zip(add["variable"], add["statistic"], strict=True)
        ],
        dtype=bool,
    )
    rel = _Relations(truth)

    latent_truth: list[float] = []
    latent_nonneg: list[bool] = []

    def new_latents(k: int, nn: np.ndarray) -> np.ndarray:
        start = n_add + len(latent_truth)
        latent_truth.extend([math.nan] * k)
        latent_nonneg.extend(bool(x) for x in nn)
        rel.set_truth(np.concatenate([truth, np.array(latent_truth)]))
        return np.arange(start, start + k)

    _hierarchy_relations(add, key_index, rel, new_latents, nonneg, complete_epci_departements)
    _breakdown_relations(add, key_index, rel)
    _answer_relations(add, key_index, rel)
    _derived_relations(frame, add, key_index, rel, info, n_published)

    n_vars = n_add + len(latent_truth)
    lower = np.where(np.concatenate([nonneg, np.array(latent_nonneg, dtype=bool)]), 0.0, -np.inf)
    upper = np.full(n_vars, np.inf)
    integral = np.zeros(n_vars, dtype=bool)
    if integral_counts:
        integral[:n_add] = add["statistic"].isin(COUNT_LIKE).to_numpy()
    if frequency_threshold is not None:
        bounded = (STRUCTURES, RESPONDENTS) if group_status == FREQUENCY else COUNT_LIKE
        a_cells = (add["status"].to_numpy() == FREQUENCY) & add["statistic"].isin(bounded).to_numpy()
        if group_status == FREQUENCY:
            # group disclosure (status A too) applies only to groups of at most
            # group_max_respondents: in larger ones a status A count is 1 … threshold − 1
            large = add["n"].to_numpy(dtype=float) > group_max_respondents
            a_cells |= (add["status"].to_numpy() == FREQUENCY) & (add["statistic"] == COUNT).to_numpy() & large
        ok_truth = ~np.isfinite(truth) | ((truth >= 1) & (truth <= frequency_threshold - 1))
        sel = a_cells & ok_truth
        lower[:n_add][sel] = np.maximum(lower[:n_add][sel], 1.0)
        upper[:n_add][sel] = float(frequency_threshold - 1)
    fixed = np.full(n_vars, np.nan)
    fixed[:n_add][published] = truth[published]
    stats["relations"] = rel.n_eq + rel.n_ub
    stats["relations_dropped"] = rel.dropped
    stats["relation_kinds"] = dict(rel.kinds)

    a_eq, b_eq, a_ub, b_ub = rel.matrices(n_vars)
    # Variables whose published value is unknown (published row with empty value) stay free.
    is_fixed = np.isfinite(fixed)
    req_up, req_lo = _requirements(protection, add, key_index, n_vars)
    truth_all = np.concatenate([truth, np.full(n_vars - n_add, np.nan)])
    lp = _solve_all(
        a_eq,
        b_eq,
        a_ub,
        b_ub,
        fixed,
        is_fixed,
        lower,
        upper,
        integral,
        _targets(frame, add, n_vars),
        truth_all,
        req_up,
        req_lo,
        exact_intervals=exact_intervals,
        milp_max_width=milp_max_width,
        milp_max_vars=milp_max_vars,
        milp_time_limit=milp_time_limit,
        milp_budget=milp_budget,
    )
    stats.update(lp.stats)
    for comp_rows in lp.infeasible:
        problems.append(
            _problem(
                "infeasible_relations",
                _ERROR,
                None,
                detail=f"relations incompatibles dans une composante de {comp_rows} inconnues",
            )
        )

    # ---- intervals of the suppressed cells
    lo_add, hi_add, method_add = lp.lower[:n_add], lp.upper[:n_add], lp.method[:n_add]
    intervals = _intervals(frame, add, key_index, var_of_row, lo_add, hi_add, method_add, lp, info)
    _interval_problems(intervals, protection, problems, integral_counts)

    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    stats["seconds"] = time.perf_counter() - started
    return AuditReport(problems=problem_frame, intervals=intervals, stats=stats)


def _targets(frame: pd.DataFrame, add: pd.DataFrame, n_vars: int) -> np.ndarray:
    """Variables whose bounds are wanted: suppressed additive cells, and the implicit sums of
    suppressed means."""
    out = np.zeros(n_vars, dtype=bool)
    status = add["status"].to_numpy()
    out[: len(add)] = ~np.isin(status, (PUBLISHABLE, IMPLICIT))
    implicit = np.flatnonzero(status == IMPLICIT)
    if len(implicit):
        means = frame[frame["statistic"] == MEAN]
        keys = means[list(KEY_COLUMNS)].assign(statistic=SUM)
        hidden = pd.Series((means["status"] != PUBLISHABLE).to_numpy(), index=_flat(keys))
        hidden = hidden[~hidden.index.duplicated()]
        look = _flat(add.iloc[implicit])
        pos = hidden.index.get_indexer(look)
        out[implicit] = (pos >= 0) & hidden.to_numpy()[np.maximum(pos, 0)]
    return out


def _requirements(
    protection: pd.DataFrame | None, add: pd.DataFrame, key_index: pd.Series, n_vars: int
) -> tuple[np.ndarray, np.ndarray]:
    """Required upper and lower protection per additive variable (a mean's, as its sum's × n)."""
    req_up = np.zeros(n_vars)
    req_lo = np.zeros(n_vars)
    if protection is None or protection.empty:
        return req_up, req_lo
    prot = protection.copy()
    for col in KEY_COLUMNS:
        prot[col] = prot[col].astype("object").where(prot[col].notna(), "").astype(str)
    up = pd.to_numeric(prot["upper"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    lo = pd.to_numeric(prot["lower"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    keys = prot[list(KEY_COLUMNS)].copy()
    is_mean = (keys["statistic"] == MEAN).to_numpy()
    keys.loc[is_mean, "statistic"] = SUM
    pos = _lookup(key_index, keys)
    has = pos >= 0
    factor = np.ones(len(prot))
    n = add["n"].to_numpy(dtype=float)
    factor[is_mean & has] = np.nan_to_num(n[pos[is_mean & has]], nan=0.0)
    np.maximum.at(req_up, pos[has], up[has] * factor[has])
    np.maximum.at(req_lo, pos[has], lo[has] * factor[has])
    return req_up, req_lo


def _nonnegative(variable: str, info: dict[str, dict[str, Any]], frame: pd.DataFrame) -> bool:
    entry = info.get(variable, {})
    if "nonneg" not in entry:
        minimum = entry.get("min")
        if minimum is not None:
            entry["nonneg"] = minimum >= 0
        else:
            sel = (frame["variable"] == variable) & frame["statistic"].isin((SUM, MEAN, MEDIAN, Q1, Q3))
            values = frame.loc[sel, "value"].dropna()
            entry["nonneg"] = bool((values >= 0).all())
        info[variable] = entry
    return bool(entry["nonneg"])


def _problem(kind: str, severity: str, row: pd.Series | dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {c: None for c in PROBLEM_COLUMNS}
    out["kind"] = kind
    out["severity"] = severity
    if row is not None:
        for c in (*KEY_COLUMNS, "status", "value", "n", "lower", "upper"):
            if c in row:
                out[c] = row[c]
    out.update(extra)
    return out


def _published_checks(
    frame: pd.DataFrame,
    problems: list[dict[str, Any]],
    small: int,
    side_min: int,
    info: dict[str, dict[str, Any]],
    group_max: int,
    rules: RuleSet,
) -> None:
    """Findings on published rows alone: small cells, quantiles of too few units."""
    pub = frame[frame["status"] == PUBLISHABLE]
    public = [v for v, entry in info.items() if entry.get("public")] if rules.public_exempt else []
    pub = pub[~pub["variable"].isin(public)]
    # Sums, means, quantiles: n contributors (the respondents). Counts and shares of an answer:
    # the contributors are the structures giving the answer (the count itself).
    magnitude = pub["statistic"].isin((SUM, MEAN, MEDIAN, Q1, Q3)) & (pub["n"] > 0) & (pub["n"] < small)
    givers = np.where(pub["statistic"] == SHARE, pub["value"] * pub["n"], pub["value"])
    answer_stat = pub["statistic"].isin((COUNT, SHARE)).to_numpy()
    givers = np.round(np.nan_to_num(np.asarray(givers, dtype=float)), 6)
    frequency = answer_stat & (givers > 0) & (givers < small)
    small_rows = pub[magnitude.to_numpy() | frequency]
    for _, row in small_rows.iterrows():
        problems.append(
            _problem("small_cell_published", _ERROR, row, detail=f"valeur publiée pour n = {int(row['n'])}")
        )
    # Group disclosure: none or all of a few respondents gave the answer (review, not blocking).
    n_resp = pub["n"].to_numpy(dtype=float)
    # "none gave it" is a group disclosure where the rule set says so (include_none, none_scope)
    in_scope = {
        v: rules.group_none_all_answers or entry.get("type") in (None, QuestionType.MULTIPLE_CHOICE)
        for v, entry in info.items()
    }
    none_scope = pub["variable"].astype(str).map(in_scope).fillna(True).to_numpy(dtype=bool)
    none = (givers == 0) & rules.group_include_none & none_scope
    group = answer_stat & (n_resp > 0) & (n_resp <= group_max) & (none | (givers == n_resp))
    for _, row in pub[group].iterrows():
        problems.append(
            _problem(
                "group_disclosure_published",
                _WARNING,
                row,
                detail=f"aucune ou toutes les {int(row['n'])} structures ont donné cette réponse",
            )
        )
    quant = pub[pub["statistic"].isin(tuple(QUANTILE_LEVELS)) & (pub["n"] >= small)]
    nq = quant["n"].to_numpy(dtype=float)
    hq = (nq - 1) * quant["statistic"].map(QUANTILE_LEVELS).to_numpy(dtype=float)
    few = np.minimum(np.floor(hq), nq - 1 - np.ceil(hq)) < side_min
    for _, row in quant[few].iterrows():
        n = int(row["n"])
        h = (n - 1) * QUANTILE_LEVELS[row["statistic"]]
        below, above = math.floor(h), n - 1 - math.ceil(h)
        problems.append(
            _problem(
                "quantile_too_few_units",
                _ERROR,
                row,
                detail=f"{below} unité(s) en dessous et {above} au-dessus du quantile (n = {n})",
            )
        )


def _hierarchy_relations(
    add: pd.DataFrame, key_index: pd.Series, rel: _Relations, new_latents: Any, nonneg: np.ndarray,
    complete_epci_departements: Collection[str] | None = None,
) -> None:
    levels = set(add["level"].unique())
    deps = territories.departements()
    dep_region = dict(zip(deps["code"], deps["region"], strict=True))
    slice_cols = ["variable", "statistic", "answer", "breakdown", "category"]

    def link(child_level: str, parent_level: str, parent_code: pd.Series, kind: str) -> None:
        child = add.index[add["level"] == child_level].to_numpy()
        if len(child) == 0:
            return
        keys = add.loc[child, slice_cols].copy()
        keys["level"] = parent_level
        keys["territory"] = parent_code.loc[child].to_numpy()
        keys = keys[list(KEY_COLUMNS)]
        ok = keys["territory"].notna().to_numpy()
        parent = np.full(len(child), -1, dtype=np.int64)
        if ok.any():
            parent[ok] = _lookup(key_index, keys[ok].astype({"territory": str}))
        has = parent >= 0
        _sum_relations(rel, kind, parent[has], child[has], n=add["n"].to_numpy(dtype=float))

    if "region" in levels and "national" in levels:
        link("region", "national", pd.Series(NATIONAL_CODE, index=add.index), "hierarchy_national")
    if "departement" in levels and "region" in levels:
        link("departement", "region", add["territory"].map(dep_region), "hierarchy_region")
    if "departement" in levels and "national" in levels and "region" not in levels:
        link("departement", "national", pd.Series(NATIONAL_CODE, index=add.index), "hierarchy_national")
    if "commune" in levels:
        communes = territories.communes()
        if "departement" in levels:
            link(
                "commune",
                "departement",
                add["territory"].map(dict(zip(communes["code"], communes["departement"], strict=True))),
                "hierarchy_commune",
            )
        if "epci" in levels:
            link(
                "commune",
                "epci",
                add["territory"].map(dict(zip(communes["code"], communes["epci"], strict=True))),
                "hierarchy_commune_epci",
            )
    if "epci" in levels and "departement" in levels:
        _epci_relations(add, key_index, rel, new_latents, nonneg, complete_epci_departements)


def _epci_relations(
    add: pd.DataFrame, key_index: pd.Series, rel: _Relations, new_latents: Any, nonneg: np.ndarray,
    complete_epci_departements: Collection[str] | None = None,
) -> None:
    """Non-nested groups: latent parts x[e, d] ≥ 0, EPCI e = Σ_d x[e, d], département d = Σ_e x[e, d]."""
    links = territories.epci_departements()[["epci", "departement"]]
    epci_rows = add[add["level"] == "epci"]
    dep_rows = add[add["level"] == "departement"]
    slice_cols = ["variable", "statistic", "answer", "breakdown", "category"]
    for slice_key, grp in epci_rows.groupby(slice_cols, sort=False):
        sel = dep_rows
        for col, val in zip(slice_cols, slice_key, strict=True):
            sel = sel[sel[col] == val]
        if sel.empty:
            continue
        epci_pos = dict(zip(grp["territory"], grp.index, strict=True))
        dep_pos = dict(zip(sel["territory"], sel.index, strict=True))
        # Parts: every (EPCI, département) pair touching a published EPCI or département.
        pairs = links[links["epci"].isin(epci_pos) | links["departement"].isin(dep_pos)]
        if pairs.empty:
            continue
        nn = np.full(len(pairs), bool(nonneg[grp.index[0]]))
        latent = new_latents(len(pairs), nn)
        pe = pairs["epci"].to_numpy()
        pd_ = pairs["departement"].to_numpy()
        for owner_codes, owner_pos, kind in ((pe, epci_pos, "epci_parts"), (pd_, dep_pos, "departement_parts")):
            owners = np.array([owner_pos.get(c, -1) for c in owner_codes], dtype=np.int64)
            has = owners >= 0
            if not has.any():
                continue
            # A département whose cells exist is fully covered by its EPCI parts; an EPCI absent
            # from the table has value 0 (no structure), so its parts in a present département
            # stay free but must sum with the others.
            _sum_relations(rel, kind, owners[has], latent[has])
        # EPCI absent from the table: its parts are 0 where the table holds every EPCI.
        absent = ~np.isin(pe, list(epci_pos))
        if complete_epci_departements is not None:
            absent &= np.isin(pd_, list(complete_epci_departements))
        if absent.any():
            k = int(absent.sum())
            rel.add("epci_absent", np.arange(k), latent[absent], np.ones(k), np.zeros(k), verify=False)


def _breakdown_relations(add: pd.DataFrame, key_index: pd.Series, rel: _Relations) -> None:
    inner = add.index[add["breakdown"] != ""].to_numpy()
    if len(inner) == 0:
        return
    keys = add.loc[inner, list(KEY_COLUMNS)].copy()
    keys["breakdown"] = ""
    keys["category"] = ""
    parent = _lookup(key_index, keys)
    has = parent >= 0
    bd_code = pd.factorize(add.loc[inner, "breakdown"])[0]
    group = parent.astype(np.int64) * (int(bd_code.max()) + 1) + bd_code
    _sum_relations(rel, "breakdown_margin", parent[has], inner[has], group[has], n=add["n"].to_numpy(dtype=float))


def _answer_relations(add: pd.DataFrame, key_index: pd.Series, rel: _Relations) -> None:
    counts = add.index[add["statistic"] == COUNT].to_numpy()
    if len(counts) > 0:
        keys = add.loc[counts, list(KEY_COLUMNS)].copy()
        keys["statistic"] = RESPONDENTS
        keys["answer"] = ""
        resp = _lookup(key_index, keys)
        has = resp >= 0
        # Σ answers = respondents: verified against the truth (holds for yes/no and single choice).
        _sum_relations(rel, "answer_margin", resp[has], counts[has])
        # count ≤ respondents, always.
        k = int(has.sum())
        rows = np.concatenate([np.arange(k), np.arange(k)])
        cols = np.concatenate([counts[has], resp[has]])
        coefs = np.concatenate([np.ones(k), -np.ones(k)])
        rel.add("count_le_respondents", rows, cols, coefs, np.zeros(k), inequality=True)
    resp_rows = add.index[add["statistic"] == RESPONDENTS].to_numpy()
    if len(resp_rows) > 0:
        keys = add.loc[resp_rows, list(KEY_COLUMNS)].copy()
        keys["statistic"] = STRUCTURES
        struct = _lookup(key_index, keys)
        has = struct >= 0
        k = int(has.sum())
        rows = np.concatenate([np.arange(k), np.arange(k)])
        cols = np.concatenate([resp_rows[has], struct[has]])
        coefs = np.concatenate([np.ones(k), -np.ones(k)])
        rel.add("respondents_le_structures", rows, cols, coefs, np.zeros(k), inequality=True)


def _companion(add_keys: pd.DataFrame, key_index: pd.Series, statistic: str, keep_answer: bool) -> np.ndarray:
    """Positions of the ``statistic`` cells of the same territory, breakdown and category."""
    if len(add_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    head = add_keys["variable"].to_numpy(dtype=object)
    answer = add_keys["answer"].to_numpy(dtype=object) if keep_answer else ""
    tail = _flat(add_keys, ("level", "territory", "breakdown", "category")).to_numpy()
    joined = head + (_SEP + statistic + _SEP) + answer + _SEP + tail
    pos = key_index.index.get_indexer(pd.Index(joined, dtype=object))
    out = np.full(len(add_keys), -1, dtype=np.int64)
    found = pos >= 0
    out[found] = key_index.to_numpy()[pos[found]]
    return out


def _derived_relations(
    frame: pd.DataFrame,
    add: pd.DataFrame,
    key_index: pd.Series,
    rel: _Relations,
    info: dict[str, dict[str, Any]],
    n_published: str,
) -> None:
    pub = frame[frame["status"] == PUBLISHABLE]
    pub = pub[pub["value"].notna()]
    # ratio = numerator / denominator, published: numerator − ratio × denominator = 0.
    for stat, num_stat, den_stat, keep_answer in (
        (SHARE, COUNT, RESPONDENTS, True),
        (MEAN, SUM, RESPONDENTS, False),
        (RESPONSE_RATE, RESPONDENTS, STRUCTURES, False),
    ):
        rows = pub[pub["statistic"] == stat]
        if rows.empty:
            continue
        num = _companion(rows, key_index, num_stat, keep_answer)
        den = _companion(rows, key_index, den_stat, False)
        value = rows["value"].to_numpy(dtype=float)
        has = (num >= 0) & (den >= 0)
        k = int(has.sum())
        if k:
            rel.add(
                f"derived_{stat}",
                np.concatenate([np.arange(k), np.arange(k)]),
                np.concatenate([num[has], den[has]]),
                np.concatenate([np.ones(k), -value[has]]),
                np.zeros(k),
            )
        # With the row's n (its respondents), the numerator itself is known.
        nn = rows["n"].to_numpy(dtype=float)
        if stat != RESPONSE_RATE:
            has2 = (num >= 0) & np.isfinite(nn)
            k2 = int(has2.sum())
            if k2:
                rel.add(f"derived_{stat}_n", np.arange(k2), num[has2], np.ones(k2), value[has2] * nn[has2])

    # n of a row = respondents of its cell (structures when the cell has no respondents row).
    n_rows = frame if n_published == "all_rows" else pub
    n_rows = n_rows[n_rows["n"].notna() & (n_rows["statistic"] != RESPONSE_RATE)]
    if not n_rows.empty:
        resp = _companion(n_rows, key_index, RESPONDENTS, False)
        struct = _companion(n_rows, key_index, STRUCTURES, False)
        target = np.where(resp >= 0, resp, struct)
        target = np.where(n_rows["statistic"].to_numpy() == STRUCTURES, struct, target)
        has = target >= 0
        pairs = pd.DataFrame({"t": target[has], "n": n_rows["n"].to_numpy(dtype=float)[has]}).drop_duplicates()
        k = len(pairs)
        rel.add("n_published", np.arange(k), pairs["t"].to_numpy(), np.ones(k), pairs["n"].to_numpy())

    # Quantiles: at least n − ceil((n − 1)·p) units are ≥ q_p; with values ≥ 0 the sum is ≥ that.
    quant = pub[pub["statistic"].isin(tuple(QUANTILE_LEVELS)) & pub["n"].notna() & (pub["n"] > 0)]
    if not quant.empty:
        sums = _companion(quant, key_index, SUM, False)
        n = quant["n"].to_numpy(dtype=float)
        p = quant["statistic"].map(QUANTILE_LEVELS).to_numpy(dtype=float)
        q = quant["value"].to_numpy(dtype=float)
        above = n - np.ceil((n - 1) * p)
        nonneg = np.array([_nonnegative(v, info, frame) for v in quant["variable"]], dtype=bool)
        has = (sums >= 0) & nonneg & (q >= 0)
        k = int(has.sum())
        if k:
            rel.add("quantile_lower", np.arange(k), sums[has], -np.ones(k), -(q * above)[has], inequality=True)
        # A median of one or two units gives the sum.
        med = (quant["statistic"].to_numpy() == MEDIAN) & (n <= 2) & (sums >= 0)
        k = int(med.sum())
        if k:
            rel.add("median_small_n", np.arange(k), sums[med], np.ones(k), (q * n)[med])

    # Codebook minimum and maximum: min × respondents ≤ sum ≤ max × respondents.
    sums = add.index[add["statistic"] == SUM].to_numpy()
    if len(sums):
        resp = _companion(add.loc[sums], key_index, RESPONDENTS, False)
        mins = np.array([info.get(v, {}).get("min") for v in add.loc[sums, "variable"]], dtype=float)
        maxs = np.array([info.get(v, {}).get("max") for v in add.loc[sums, "variable"]], dtype=float)
        for bound, sign, kind in ((maxs, 1.0, "codebook_max"), (mins, -1.0, "codebook_min")):
            has = (resp >= 0) & np.isfinite(bound)
            if kind == "codebook_min":
                has &= bound != 0  # already a variable bound (sum ≥ 0)
            k = int(has.sum())
            if k:
                rel.add(
                    kind,
                    np.concatenate([np.arange(k), np.arange(k)]),
                    np.concatenate([sums[has], resp[has]]),
                    np.concatenate([sign * np.ones(k), -sign * bound[has]]),
                    np.zeros(k),
                    inequality=True,
                )


# --------------------------------------------------------------------------- solving


@dataclass
class _Solution:
    lower: np.ndarray
    upper: np.ndarray
    method: np.ndarray
    component: np.ndarray
    infeasible: list[int]
    stats: dict[str, Any]
    # Per component: data needed for ratio bounds (Charnes-Cooper).
    systems: dict[int, tuple[Any, ...]]


def _solve_all(
    a_eq: sparse.csr_matrix,
    b_eq: np.ndarray,
    a_ub: sparse.csr_matrix,
    b_ub: np.ndarray,
    fixed: np.ndarray,
    is_fixed: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integral: np.ndarray,
    is_target: np.ndarray,
    truth: np.ndarray,
    req_up: np.ndarray,
    req_lo: np.ndarray,
    *,
    exact_intervals: bool,
    milp_max_width: float,
    milp_max_vars: int,
    milp_time_limit: float,
    milp_budget: float,
) -> _Solution:
    milp_spent = 0.0
    n_vars = len(fixed)
    out_lo = np.where(is_fixed, fixed, np.nan)
    out_hi = out_lo.copy()
    method = np.where(is_fixed, "published", "none").astype(object)
    unknown = np.flatnonzero(~is_fixed)
    fixed_vals = np.where(is_fixed, fixed, 0.0)
    b_eq_adj = b_eq - a_eq @ fixed_vals
    b_ub_adj = b_ub - a_ub @ fixed_vals
    a_eq_u = a_eq.tocsc()[:, unknown].tocsr()
    a_ub_u = a_ub.tocsc()[:, unknown].tocsr()
    n_u = len(unknown)
    n_e, n_i = a_eq_u.shape[0], a_ub_u.shape[0]
    stats: dict[str, Any] = {"components": 0, "lp_solved": 0, "milp_solved": 0}
    component = np.full(n_vars, -1, dtype=np.int64)
    if n_u == 0:
        return _Solution(out_lo, out_hi, method, component, [], stats, {})
    # Bipartite graph: unknowns 0..n_u−1, equality rows, inequality rows.
    a_all = sparse.vstack([a_eq_u, a_ub_u]).tocoo()
    size = n_u + n_e + n_i
    graph = sparse.coo_matrix((np.ones(a_all.nnz), (a_all.col, n_u + a_all.row)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    var_label = labels[:n_u]
    eq_label = labels[n_u : n_u + n_e]
    ub_label = labels[n_u + n_e :]
    component[unknown] = var_label
    order_v = np.argsort(var_label, kind="stable")
    order_e = np.argsort(eq_label, kind="stable")
    order_i = np.argsort(ub_label, kind="stable")
    uniq = np.unique(var_label)
    starts_v = np.searchsorted(var_label[order_v], uniq)
    ends_v = np.searchsorted(var_label[order_v], uniq, side="right")
    sorted_e = eq_label[order_e]
    sorted_i = ub_label[order_i]
    infeasible: list[int] = []
    systems: dict[int, tuple[Any, ...]] = {}
    for comp, s, e in zip(uniq, starts_v, ends_v, strict=True):
        local = order_v[s:e]  # positions among unknowns
        cols = unknown[local]
        rows_e = order_e[np.searchsorted(sorted_e, comp) : np.searchsorted(sorted_e, comp, side="right")]
        rows_i = order_i[np.searchsorted(sorted_i, comp) : np.searchsorted(sorted_i, comp, side="right")]
        ae = a_eq_u[rows_e][:, local]
        be = b_eq_adj[rows_e]
        ai = a_ub_u[rows_i][:, local]
        bi = b_ub_adj[rows_i]
        lo_b, hi_b = lower[cols], upper[cols]
        stats["components"] += 1
        systems[int(comp)] = (cols, ae, be, ai, bi, lo_b, hi_b)
        if len(rows_e) == 0 and len(rows_i) == 0:
            out_lo[cols], out_hi[cols] = lo_b, hi_b
            method[cols] = "bounds"
            continue
        if not is_target[cols].any():
            continue
        ints = integral[cols]
        bounds = _lp_bounds(
            ae,
            be,
            ai,
            bi,
            lo_b,
            hi_b,
            is_target[cols],
            ints,
            truth[cols],
            req_up[cols],
            req_lo[cols],
            exact=exact_intervals,
            milp_width=milp_max_width,
        )
        stats["lp_solved"] += bounds.solved
        if not bounds.feasible:
            infeasible.append(len(cols))
            continue
        how = bounds.method
        lo_c = np.where(ints & np.isfinite(bounds.lower), np.ceil(bounds.lower - 1e-6), bounds.lower)
        hi_c = np.where(ints & np.isfinite(bounds.upper), np.floor(bounds.upper + 1e-6), bounds.upper)
        if ints.any() and len(cols) <= milp_max_vars:
            narrow = ints & is_target[cols] & (hi_c - lo_c <= milp_max_width) & (hi_c > lo_c)
            frac_lo, frac_hi = narrow & bounds.fractional_lower, narrow & bounds.fractional_upper
            if not exact_intervals:
                # Integral tables already witness a safe interval: the integer bounds hold at least
                # that, no MILP can make the cell unsafe; report the witnessed side (inner bound).
                safe = _witnessed_safe(bounds, truth[cols], req_up[cols], req_lo[cols])
                for frac, out, witnessed in (
                    (frac_lo, lo_c, bounds.integral_lower),
                    (frac_hi, hi_c, bounds.integral_upper),
                ):
                    done = frac & safe
                    out[done] = witnessed[done]
                    how[done] = np.where(how[done] == "lp", "lp+witness", how[done])
                    frac &= ~safe
            for j in np.flatnonzero(frac_lo | frac_hi):
                if milp_spent > milp_budget:  # report the LP bounds (rounded) for the rest
                    stats["milp_skipped"] = stats.get("milp_skipped", 0) + 1
                    continue
                tick = time.perf_counter()
                sides = tuple(sign for sign, frac in ((1.0, frac_lo), (-1.0, frac_hi)) if frac[j])
                res = _milp_bounds(ae, be, ai, bi, lo_b, hi_b, ints, int(j), milp_time_limit, sides)
                milp_spent += time.perf_counter() - tick
                stats["milp_solved"] += len(sides)
                if res is not None:
                    if res[0] is not None:
                        lo_c[j] = max(lo_c[j], res[0])
                    if res[1] is not None:
                        hi_c[j] = min(hi_c[j], res[1])
                    how[j] = "milp"
        method[cols] = how
        out_lo[cols], out_hi[cols] = lo_c, hi_c
    return _Solution(out_lo, out_hi, method, component, infeasible, stats, systems)


class _BoundSolver:
    """Min/max of one variable at a time over one component, on one HiGHS instance re-solved
    from the previous basis when only the objective changes (much faster than one program per
    bound)."""

    def __init__(
        self,
        ae: sparse.csr_matrix,
        be: np.ndarray,
        ai: sparse.csr_matrix,
        bi: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> None:
        self.n = len(lo)
        self.solver = Solver()
        self.solver.load(Program.from_equalities(np.zeros(self.n), ae, be, ai, bi, lo, hi))
        self.current = -1

    def solve(self, j: int, sign: float) -> Result:
        """Minimise ``sign · x[j]``."""
        if self.current == -2:
            self.solver.set_costs(np.zeros(self.n))
        elif self.current >= 0:
            self.solver.set_cost(self.current, 0.0)
        self.solver.set_cost(j, sign)
        self.current = j
        return self.solver.run()

    def solve_vector(self, c: np.ndarray) -> Result:
        """Minimise ``c · x``."""
        self.solver.set_costs(c)
        self.current = -2
        return self.solver.run()


@dataclass
class _ComponentBounds:
    """LP bounds of one component's variables.

    ``fractional_lower`` / ``fractional_upper``: the LP optimum on that side was fractional on
    the integer variables (or the solver gave up): only then can a MILP tighten that side.
    ``integral_lower`` / ``integral_upper``: the extreme values seen in integral feasible tables
    (the truth among them), an inner bound of the integer interval.
    """

    lower: np.ndarray
    upper: np.ndarray
    feasible: bool
    solved: int
    fractional_lower: np.ndarray
    fractional_upper: np.ndarray
    integral_lower: np.ndarray
    integral_upper: np.ndarray
    method: np.ndarray


def _witnessed_safe(bounds: _ComponentBounds, truth: np.ndarray, req_up: np.ndarray, req_lo: np.ndarray) -> np.ndarray:
    """Cells whose integral witnesses alone already give a non-degenerate interval meeting the
    required protection on both sides: the exact integer interval contains it, so it is safe."""
    a, b = bounds.integral_lower, bounds.integral_upper
    tol = 1e-6 * (1.0 + np.abs(np.nan_to_num(truth)))
    with np.errstate(invalid="ignore"):
        safe: np.ndarray = (
            np.isfinite(truth)
            & (b - a >= 1.0 - 1e-6)
            & (b - truth >= req_up - tol)
            & (truth - a >= req_lo - tol)
        )
    return safe


def _lp_bounds(
    ae: sparse.csr_matrix,
    be: np.ndarray,
    ai: sparse.csr_matrix,
    bi: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    targets: np.ndarray,
    ints: np.ndarray,
    truth: np.ndarray,
    req_up: np.ndarray,
    req_lo: np.ndarray,
    *,
    exact: bool,
    milp_width: float = 3.0,
    witness_rounds: int = 32,
    witness_patience: int = 3,
) -> _ComponentBounds:
    """Bounds of the target variables of one component (see :class:`_ComponentBounds`).

    A bound is not solved for when a feasible table already puts the variable on its own bound
    (a count at 0): that is the bound. Without ``exact``, witnesses first (see :func:`audit`).
    """
    n = len(lo)
    solver = _BoundSolver(ae, be, ai, bi, lo, hi)
    out_lo = np.full(n, np.nan)
    out_hi = np.full(n, np.nan)
    how = np.full(n, "lp", dtype=object)
    frac_lo = np.zeros(n, dtype=bool)
    frac_hi = np.zeros(n, dtype=bool)
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
    # a feasible table put the variable on its own lower (upper) bound: that is its LP bound;
    # for an integer variable its integer bound only when the table was integral
    seen_lo = np.zeros(n, dtype=bool)
    seen_hi = np.zeros(n, dtype=bool)
    seen_int_lo = np.zeros(n, dtype=bool)
    seen_int_hi = np.zeros(n, dtype=bool)
    known = np.isfinite(truth)
    w_lo = np.where(known, truth, np.inf)  # witnessed values (LP-feasible tables; the truth)
    w_hi = np.where(known, truth, -np.inf)
    wi_lo, wi_hi = w_lo.copy(), w_hi.copy()  # from integral tables only
    solved = 0
    tol = 1e-6 * (1.0 + np.abs(np.nan_to_num(truth)))

    def record(x: np.ndarray) -> bool:
        nonlocal w_lo, w_hi, wi_lo, wi_hi
        w_lo, w_hi = np.minimum(w_lo, x), np.maximum(w_hi, x)
        integral_x = not ints.any() or bool((np.abs(x[ints] - np.round(x[ints])) <= 1e-6).all())
        if integral_x:
            wi_lo, wi_hi = np.minimum(wi_lo, x), np.maximum(wi_hi, x)
        t = 1e-7 * (1.0 + np.abs(x))
        seen_lo[:] |= has_lo & (x <= lo + t)
        seen_hi[:] |= has_hi & (x >= hi - t)
        exact_x = ~ints | integral_x
        seen_int_lo[:] |= has_lo & (x <= lo + t) & exact_x
        seen_int_hi[:] |= has_hi & (x >= hi - t) & exact_x
        return integral_x

    def unsafe() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.where(ints, wi_lo, w_lo)
        b = np.where(ints, wi_hi, w_hi)
        # integral targets: two integral tables, or LP tables wider than the MILP threshold
        # (the MILP is only ever run on narrower intervals)
        width_bad = np.where(ints, (b - a < 1.0 - 1e-6) & (w_hi - w_lo <= milp_width), b - a <= tol)
        up_bad = known & (b - truth < req_up - tol)
        lo_bad = known & (truth - a < req_lo - tol)
        return targets & width_bad, targets & up_bad, targets & lo_bad

    if not exact:
        scale = 1.0 / (1.0 + np.abs(np.nan_to_num(truth)))
        # Rounds of witness LPs, each pushing the cells not yet proven safe (down, then up): all
        # of them first, then a random half (seeded: the audit is deterministic); stop when all
        # are proven, or after ``witness_patience`` rounds without progress.
        rng = np.random.default_rng(0)
        best, idle = n + 1, 0
        for round_ in range(witness_rounds):
            width_bad, up_bad, lo_bad = unsafe()
            left = int((width_bad | up_bad | lo_bad).sum())
            idle = idle + 1 if left >= best else 0
            best = min(best, left)
            if left == 0 or idle >= witness_patience:
                break
            # after the first round, a random half of the cells: pushing cells that pull each
            # other apart at once proves neither
            subset = np.ones(n, dtype=bool) if round_ == 0 else rng.random(n) < 0.5
            for direction in (-1.0, 1.0):
                push = subset & ((up_bad | width_bad) if direction < 0 else (lo_bad | width_bad))
                if not push.any():
                    continue
                c = np.where(push, direction * scale, 0.0)
                res = solver.solve_vector(c)
                solved += 1
                if res.outcome is Outcome.INFEASIBLE:
                    return _ComponentBounds(out_lo, out_hi, False, solved, frac_lo, frac_hi, wi_lo, wi_hi, how)
                if res.x is not None:
                    record(res.x)
        width_bad, up_bad, lo_bad = unsafe()
        todo_lo = lo_bad | width_bad
        todo_hi = up_bad | width_bad
    else:
        todo_lo = todo_hi = targets.copy()

    for j in np.flatnonzero(todo_lo | todo_hi):
        for sign, out, seen, own, todo, frac in (
            (1.0, out_lo, seen_lo, lo, todo_lo, frac_lo),
            (-1.0, out_hi, seen_hi, hi, todo_hi, frac_hi),
        ):
            if not todo[j]:
                continue
            if seen[j]:  # the LP bound, reached by a table (fractional: a MILP may tighten it)
                out[j] = own[j]
                frac[j] = not (seen_int_lo if sign > 0 else seen_int_hi)[j]
                continue
            res = solver.solve(int(j), sign)
            solved += 1
            if res.outcome is Outcome.INFEASIBLE:
                return _ComponentBounds(out_lo, out_hi, False, solved, frac_lo, frac_hi, wi_lo, wi_hi, how)
            if res.x is not None:
                out[j] = res.x[j]
                if not record(res.x):
                    frac[j] = True
            elif res.outcome in (Outcome.UNBOUNDED, Outcome.UNBOUNDED_OR_INFEASIBLE):
                out[j] = -np.inf if sign > 0 else np.inf
            else:  # iteration limit or numerical trouble: keep the trivial bound
                out[j] = own[j]
                frac[j] = True
    # Sides not solved for: the witnessed values (the variable's own bound when reached). A
    # count whose integral witnesses are one value but whose LP witnesses are wider than the
    # MILP threshold was accepted on the LP span: report that span, not a false "exact".
    narrow_int = ints & (wi_hi - wi_lo < 1.0 - 1e-6)
    a = np.where(ints & ~narrow_int, wi_lo, w_lo)
    b = np.where(ints & ~narrow_int, wi_hi, w_hi)
    a = np.where(seen_int_lo, lo, a)
    b = np.where(seen_int_hi, hi, b)
    partial = targets & (np.isnan(out_lo) | np.isnan(out_hi))
    how[partial & ~(todo_lo | todo_hi)] = "witness"
    how[partial & (todo_lo | todo_hi)] = "lp+witness"
    out_lo = np.where(np.isnan(out_lo), a, out_lo)
    out_hi = np.where(np.isnan(out_hi), b, out_hi)
    return _ComponentBounds(out_lo, out_hi, True, solved, frac_lo, frac_hi, wi_lo, wi_hi, how)


def _milp_bounds(
    ae: sparse.csr_matrix,
    be: np.ndarray,
    ai: sparse.csr_matrix,
    bi: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    ints: np.ndarray,
    j: int,
    time_limit: float,
    sides: tuple[float, ...] = (1.0, -1.0),
) -> tuple[float | None, float | None] | None:
    """Integer minimum (side 1.0) and maximum (side −1.0) of variable ``j``; None for a side not
    asked; None altogether when a MILP does not finish."""
    program = Program.from_equalities(np.zeros(len(lo)), ae, be, ai, bi, lo, hi, ints)
    solver = Solver(time_limit=time_limit)
    solver.load(program)
    out: dict[float, float] = {}
    for sign in sides:
        c = np.zeros(len(lo))
        c[j] = sign
        solver.set_costs(c)
        res = solver.run()
        if res.x is None:
            return None
        out[sign] = float(round(res.x[j]))
    return out.get(1.0), out.get(-1.0)


def _ratio_bounds(sol: _Solution, num: int, den: int) -> tuple[float, float, str]:
    """Bounds of x[num] / x[den] (x[den] ≥ 0) given everything published."""
    lo_n, hi_n, lo_d, hi_d = sol.lower[num], sol.upper[num], sol.lower[den], sol.upper[den]
    if any(np.isnan(v) for v in (lo_n, hi_n, lo_d, hi_d)):
        return -np.inf, np.inf, "none"
    comp_n, comp_d = sol.component[num], sol.component[den]
    if comp_n >= 0 and comp_n == comp_d and int(comp_n) in sol.systems:
        res = _charnes_cooper(sol.systems[int(comp_n)], num, den)
        if res is not None:
            return res[0], res[1], "lp_ratio"
    # Independent (or one of them published): the extreme ratios are attained at the corners.
    with np.errstate(divide="ignore", invalid="ignore"):
        corners = [
            a / b if b > 0 else (np.inf if a > 0 else (0.0 if a == 0 else -np.inf))
            for a in (lo_n, hi_n)
            for b in (lo_d, hi_d)
        ]
    corners = [c for c in corners if not np.isnan(c)]
    if lo_d <= 0 <= hi_d and hi_n > 0:
        corners.append(np.inf)
    return min(corners), max(corners), "ratio"


def _charnes_cooper(system: tuple[Any, ...], num: int, den: int) -> tuple[float, float] | None:
    """Exact min and max of x[num] / x[den] over the component (linear-fractional programme).

    With y = t·x and t = 1 / x[den]: optimise y[num] subject to A_eq y − b_eq t = 0,
    A_ub y − b_ub t ≤ 0, lo·t ≤ y ≤ hi·t, y[den] = 1, t ≥ 0.
    """
    cols, ae, be, ai, bi, lo, hi = system
    pos = {int(c): i for i, c in enumerate(cols)}
    if num not in pos or den not in pos:
        return None
    n = len(cols)
    i_num, i_den = pos[num], pos[den]
    eq_blocks = [sparse.hstack([ae, sparse.csr_matrix(-be.reshape(-1, 1))])] if ae.shape[0] else []
    den_row = sparse.csr_matrix(([1.0], ([0], [i_den])), shape=(1, n + 1))
    eq_blocks.append(den_row)
    a_eq = sparse.vstack(eq_blocks).tocsr()
    b_eq = np.zeros(a_eq.shape[0])
    b_eq[-1] = 1.0
    ub_blocks = [sparse.hstack([ai, sparse.csr_matrix(-bi.reshape(-1, 1))])] if ai.shape[0] else []
    eye = sparse.identity(n, format="csr")
    fin_lo = np.isfinite(lo)
    fin_hi = np.isfinite(hi)
    if fin_lo.any():
        ub_blocks.append(sparse.hstack([-eye[fin_lo], sparse.csr_matrix(lo[fin_lo].reshape(-1, 1))]))
    if fin_hi.any():
        ub_blocks.append(sparse.hstack([eye[fin_hi], sparse.csr_matrix(-hi[fin_hi].reshape(-1, 1))]))
    a_ub = sparse.vstack(ub_blocks).tocsr() if ub_blocks else sparse.csr_matrix((0, n + 1))
    lower = np.concatenate([np.full(n, -np.inf), [0.0]])
    upper = np.full(n + 1, np.inf)
    solver = Solver()
    solver.load(Program.from_equalities(np.zeros(n + 1), a_eq, b_eq, a_ub, np.zeros(a_ub.shape[0]), lower, upper))
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n + 1)
        c[i_num] = sign
        solver.set_costs(c)
        res = solver.run()
        if res.x is not None:
            out.append(float(res.x[i_num]))
        elif res.outcome is Outcome.UNBOUNDED:
            out.append(-np.inf if sign > 0 else np.inf)
        else:
            return None
    return out[0], out[1]


# --------------------------------------------------------------------------- intervals and findings


def _intervals(
    frame: pd.DataFrame,
    add: pd.DataFrame,
    key_index: pd.Series,
    var_of_row: np.ndarray,
    lo_add: np.ndarray,
    hi_add: np.ndarray,
    method_add: np.ndarray,
    sol: _Solution,
    info: dict[str, dict[str, Any]],
) -> pd.DataFrame:
    sup = frame[~frame["status"].isin((PUBLISHABLE, IMPLICIT))].copy()
    lower = np.full(len(sup), -np.inf)
    upper = np.full(len(sup), np.inf)
    method = np.full(len(sup), "none", dtype=object)
    pos = var_of_row[sup.index.to_numpy()]
    is_add = pos >= 0
    lower[is_add] = lo_add[pos[is_add]]
    upper[is_add] = hi_add[pos[is_add]]
    method[is_add] = method_add[pos[is_add]]
    # Ratios and quantiles, from their additive companions.
    stats = sup["statistic"].to_numpy()
    companions = {
        SHARE: (COUNT, RESPONDENTS, True),
        MEAN: (SUM, RESPONDENTS, False),
        RESPONSE_RATE: (RESPONDENTS, STRUCTURES, False),
    }
    for stat, (num_stat, den_stat, keep_answer) in companions.items():
        where = np.flatnonzero(stats == stat)
        if len(where) == 0:
            continue
        rows = sup.iloc[where]
        nums = _companion(rows, key_index, num_stat, keep_answer)
        dens = _companion(rows, key_index, den_stat, False)
        # Denominator known exactly (respondents are public through n): num bounds / den.
        ok = (nums >= 0) & (dens >= 0)
        d_lo = np.where(ok, sol.lower[np.maximum(dens, 0)], np.nan)
        d_hi = np.where(ok, sol.upper[np.maximum(dens, 0)], np.nan)
        simple = ok & (d_lo == d_hi) & (d_lo > 0) & ~np.isnan(sol.lower[np.maximum(nums, 0)])
        n_lo, n_hi = sol.lower[np.maximum(nums, 0)], sol.upper[np.maximum(nums, 0)]
        lower[where[simple]] = n_lo[simple] / d_lo[simple]
        upper[where[simple]] = n_hi[simple] / d_lo[simple]
        method[where[simple]] = "ratio"
        if stat in (SHARE, RESPONSE_RATE):
            lower[where[simple]] = np.maximum(lower[where[simple]], 0.0)
            upper[where[simple]] = np.minimum(upper[where[simple]], 1.0)
        for i, num, den, easy in zip(where, nums, dens, simple, strict=True):
            if easy:
                continue
            lo, hi, how = -np.inf, np.inf, "none"
            if num >= 0 and den >= 0:
                lo, hi, how = _ratio_bounds(sol, int(num), int(den))
            if stat in (SHARE, RESPONSE_RATE):
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            lower[i], upper[i], method[i] = lo, hi, how
    where = np.flatnonzero(stats == MEDIAN)
    if len(where):
        rows = sup.iloc[where]
        sums = _companion(rows, key_index, SUM, False)
        resp = _companion(rows, key_index, RESPONDENTS, False)
        for i, s, r in zip(where, sums, resp, strict=True):
            if s >= 0 and r >= 0 and sol.lower[r] == sol.upper[r] and sol.lower[r] in (1.0, 2.0):
                lower[i], upper[i], method[i] = sol.lower[s] / sol.lower[r], sol.upper[s] / sol.lower[r], "ratio"
    level_stats = np.isin(stats, (MEAN, MEDIAN, Q1, Q3))
    if level_stats.any():
        variables = sup["variable"].to_numpy(dtype=object)
        mins = np.array([info.get(v, {}).get("min") for v in variables], dtype=float)
        maxs = np.array([info.get(v, {}).get("max") for v in variables], dtype=float)
        lower = np.where(level_stats & np.isfinite(mins), np.fmax(lower, mins), lower)
        upper = np.where(level_stats & np.isfinite(maxs), np.fmin(upper, maxs), upper)
    out = sup[[*list(KEY_COLUMNS), "status", "value", "n"]].copy()
    out["lower"] = lower
    out["upper"] = upper
    out["method"] = method
    value = out["value"].to_numpy(dtype=float)
    scale = np.where(np.isfinite(value), np.abs(value), 0.0)
    width = upper - lower
    out["exact"] = np.isfinite(width) & (width <= 1e-6 * (1.0 + scale))
    return out.reset_index(drop=True)[list(INTERVAL_COLUMNS)]


def _interval_problems(
    intervals: pd.DataFrame,
    protection: pd.DataFrame | None,
    problems: list[dict[str, Any]],
    integral_counts: bool,
) -> None:
    exact = intervals[intervals["exact"]]
    for _, row in exact.iterrows():
        # a secondary cell recomputable exactly protects nothing: the engine's model of what a
        # reader knows missed a relation, so the cells it meant to protect are not proven safe
        severity = _ERROR
        problems.append(
            _problem("exact_disclosure", severity, row, detail=f"valeur retrouvée exactement ({row['method']})")
        )
    if protection is None or protection.empty:
        return
    prot = protection.copy()
    for col in KEY_COLUMNS:
        prot[col] = prot[col].astype("object").where(prot[col].notna(), "").astype(str)
    merged = intervals.merge(
        prot[[*KEY_COLUMNS, "upper", "lower"]].rename(columns={"upper": "req_up", "lower": "req_lo"}),
        on=list(KEY_COLUMNS),
        how="inner",
    )
    merged = merged[merged["value"].notna() & ~merged["exact"]]
    value = merged["value"].to_numpy(dtype=float)
    up = merged["req_up"].fillna(0).to_numpy(dtype=float)
    lo = merged["req_lo"].fillna(0).to_numpy(dtype=float)
    tol = 1e-6 * (1.0 + np.abs(value))
    short_up = merged["upper"].to_numpy(dtype=float) - value < up - tol
    short_lo = value - merged["lower"].to_numpy(dtype=float) < lo - tol
    bad = short_up | short_lo
    for (_, row), su, sl in zip(merged[bad].iterrows(), short_up[bad], short_lo[bad], strict=True):
        side = " et ".join(s for s, flag in (("au-dessus", su), ("en dessous", sl)) if flag)
        problems.append(
            _problem(
                "insufficient_protection",
                _ERROR,
                row,
                required_upper=float(row["req_up"]) if pd.notna(row["req_up"]) else None,
                required_lower=float(row["req_lo"]) if pd.notna(row["req_lo"]) else None,
                detail=f"intervalle trop étroit {side} de la vraie valeur",
            )
        )
