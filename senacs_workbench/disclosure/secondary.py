"""Secondary suppression over the global linear system of one variable and year.

The method is the attacker-LP loop of sdcTable's SIMPLEHEURISTIC and of Fischetti & Salazar,
run on the whole model matrix (every level, breakdown and margin at once):

for each primary cell p (national first, then régions, then départements, their totals
before their categories: see :meth:`_Engine.order`), unless an earlier *witness* already
protects it, solve a small LP in the unknowns' space: find a perturbation
``d`` of the inner-cell values, within the attacker's bounds, such that ``y + d`` moves p by
at least its protection level, keeping every published cell fixed where possible and
otherwise minimising the weighted change of published cells (the weights are the suppression
costs: national and régional totals are expensive, small inner cells cheap). Every cell that
``d`` moves is then suppressed. ``y + d`` is then a data set consistent with everything that
is published and with the attacker's bounds, so the attacker's interval for p reaches at
least ``p ± protection``: the witness *proves* the protection (LP relaxation; count witnesses
are made integral; a witness that split its move between sibling categories is re-solved to
hide fewer cells, see :meth:`_Engine._sparser`). Witnesses are kept: a new suppression never
invalidates them, and one witness usually protects several primary cells.

Insiders: a structure that is the sole respondent of some group knows its inner cell. A
witness for p must not move the inner cell of such a structure unless the structure
contributes to p; if no witness avoids every such insider at once, or if the one that does
hides a cell of a higher level than p (a régional cell for a département's), one witness per
insider is sought (protection against each single insider, the rule set's requirement), and
kept when it hides cheaper cells.

Dominated unions: in every published relation (parent = Σ children), the suppressed children
sum to a known value; for sums, that union must itself pass the primary rules, otherwise one
more child is suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from senacs_workbench.disclosure.cells import PUBLISHABLE, SECONDARY
from senacs_workbench.disclosure.lp import Program, Solver
from senacs_workbench.disclosure.primary import NEED_BOTH, NEED_DOWN, NEED_EITHER, NEED_UP, PrimaryResult
from senacs_workbench.disclosure.relations import SecretSystem
from senacs_workbench.disclosure.rules import RuleSet
from senacs_workbench.disclosure.tabulate import LEVEL_ORDER, Tabulation

_UP = 0
_DOWN = 1
_MILP_MAX_VARS = 1500  # integral witnesses for counts on regional scopes; LP relaxation beyond
_MILP_TIME_LIMIT = 2.0  # any integral witness will do (no optimality needed)
_MILP_REL_GAP = 1e-4  # the integral witness on the LP witness's support: near the cheapest
PARTNER_DEPARTEMENTS = 16  # départements with hidden cells added to a cell's narrowest scope
SAME_CELL_PARTNERS = 2  # and, beyond them, départements whose cell of the same category is hidden
PER_INSIDER_WHEN_CHEAPER = True  # see _Engine._insiders_cost_more
REGION_WITNESS_COUNTRYWIDE = True
"""A régional sum cell's witness is sought over the whole country at once, not first in its
région and the two largest ones: the national margin makes it move another région's cell of
the same category, and the largest régions' cells are the costliest to hide (on the national
2025 synthetic year, budget_total × management mode, région × mode cells hidden: 22 → 20
of 57, hidden value of the whole release of the question 9.7 % → 6.8 %). Count tables keep the
narrow scope: their country-wide programs, with every answer and integral witnesses, doubled
the protection time of the categorical questions. So do linked questions (:mod:`.linked`):
country-wide, their witnesses made the budget group's protection 5.7 times slower (79 s →
450 s of processor time on the national 2025 year; the pair witnesses alone country-wide,
more than 3 times)."""
REGION_HINT_PARTNERS = 6
"""Linked questions protected with hints (:mod:`.linked`): a régional cell's first scope is its
région and up to this many régions whose cell of its category is hidden in some question (the
régions the questions' own country-wide witnesses chose; those where most questions hide it
first), before the two largest. Measured on the budget group (national 2025): 4 régions hid
8.06 % of the value, 6 régions 7.95 %, 9 régions 7.96 % (and 20 % more time)."""
PRESOLVE_FROM_VARS = 2000
"""With hints (linked groups protected apart first), witness programs with more unknowns than
this (régional and country-wide scopes) are solved with HiGHS's presolve, which costs more than
it saves on the small département programs but divided the time of these by three on the budget
group (same witnesses' cost). Not used without hints: with it, the test suite took 17:46 instead
of 13:56 (one clean run each, same day), not yet explained."""
LINKED_PARTNERS = 2  # linked questions: parts a witness may move with, besides the total (_linked_pairs)
MOVE_TOLERANCE_CAP = 1e-3  # a cell moved by more than this (in its unit) is moved: hidden, or credited


@dataclass
class SecondaryResult:
    status: np.ndarray  # flattened secret rows (a * G + g)
    unprotected: list[dict[str, object]] = field(default_factory=list)
    lp_solves: int = 0
    witnesses: int = 0


@dataclass(frozen=True)
class _Target:
    """A sum of secret rows that a witness must move by at least ``req`` (a dominated union)."""

    rows: np.ndarray  # sorted secret rows
    req: float


@dataclass
class _Scope:
    vars: np.ndarray
    rows: np.ndarray
    sub: sp.csr_matrix  # rows × vars (restricted)
    linking: sp.csr_matrix | None
    linking_bounds: tuple[np.ndarray, np.ndarray] | None = None  # of the rows kept, when not all 0


class _Engine:
    def __init__(
        self,
        tab: Tabulation,
        system: SecretSystem,
        prim: PrimaryResult,
        rules: RuleSet,
        cost: np.ndarray,
        forced_published: np.ndarray,
        forced_suppressed: np.ndarray,
        movable: np.ndarray | None = None,
        hints: np.ndarray | None = None,
    ) -> None:
        self.tab = tab
        self.sys = system
        self.rules = rules
        self.layout = tab.layout
        self.G = self.layout.n_groups
        self.cost = cost
        self.status = prim.status.reshape(-1).copy()
        self.need = prim.need.reshape(-1).copy()
        self.req = np.stack([prim.req_up.reshape(-1), prim.req_down.reshape(-1)])
        self.values = system.X @ system.y
        # hidden cells that nothing sensitive requires this year (hidden last year, or in an
        # earlier release): they must not be recomputable exactly either (see
        # :func:`secondary_suppression`), so each needs a witness that moves it by a margin
        self.movable_only = np.zeros(len(self.need), dtype=bool)
        if movable is not None:
            self.movable_only = movable & (self.need == 0) & ~forced_published
            margin = (np.maximum(rules.margin_sum_min, rules.margin_sum_ratio * np.abs(self.values))
                      if tab.is_numeric else np.full(len(self.values), rules.margin_count))
            self.need[self.movable_only] = NEED_EITHER
            self.req[:, self.movable_only] = margin[self.movable_only]
        self.cmax = system.X @ system.hi
        self.cmin = system.X @ system.lo
        self.forced = forced_published.copy()
        self.diag: list[dict[str, object]] = []
        # a released cell stays published: it needs no (possible) protection
        clash = self.forced & (self.need > 0)
        for r in np.flatnonzero(clash):
            self.diag.append({"row": int(r), "reason": "deja_publiee"})
        self.need[clash] = 0
        self.status[clash] = PUBLISHABLE
        self.suppressed = (self.status != PUBLISHABLE) | forced_suppressed
        self.status[forced_suppressed & (self.status == PUBLISHABLE)] = SECONDARY
        # hinted cells (see secondary_suppression): hidden, free to move, published again at
        # the end unless a witness kept moves them
        self.hinted = np.zeros(len(self.status), dtype=bool)
        if hints is not None:
            self.hinted = hints & ~self.suppressed & ~self.forced
            self.suppressed |= self.hinted
            self.status[self.hinted] = SECONDARY
        self.has_hints = bool(self.hinted.any())  # read on every witness program: computed once
        # cells that some witness kept moves
        self.moved = np.zeros(len(self.status), dtype=bool)
        # numerical tolerances, per row and per unknown: one scale for one question's system,
        # one per question for linked questions (a budget's euros must not blur a source's)
        block_scale = np.maximum(1.0, np.abs(system.y).reshape(system.n_answers, -1).max(axis=1, initial=0.0))
        if system.linked_total is None:
            block_scale[:] = block_scale.max()
        # ... capped, so that a move of one unit (a witness for a cell worth 1 €, moving the
        # budget by 1 € with it) is never taken for noise and left published
        self.tol = np.repeat(np.minimum(1e-7 * block_scale, MOVE_TOLERANCE_CAP), self.G)
        self.var_eps = np.repeat(np.minimum(1e-9 * block_scale, MOVE_TOLERANCE_CAP / 100), system.n_inner)
        self.lp_solves = 0
        self.n_witnesses = 0
        self._scopes: dict[tuple[str, ...], _Scope] = {}
        self._counterpart: np.ndarray | None = None
        self._dep_index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._key_id_cache: dict[tuple[str, ...], np.ndarray] = {}
        self._region_level = bool((self.layout.level == "region").any())
        # one HiGHS instance each, its program replaced for every witness: the per-call overhead
        # of scipy's linprog/milp would dominate these small programs. LPs without presolve (it
        # costs more than it saves on these already reduced programs); MIPs with a time limit
        # (any integral witness will do)
        self._lp = Solver(presolve=False)
        self._lp_wide = Solver(presolve=True)  # see PRESOLVE_FROM_VARS
        self._mip = Solver(time_limit=_MILP_TIME_LIMIT)
        self._inner_sets: dict[int, frozenset[int]] = {}
        self._unions_done: set[tuple[int, ...]] = set()
        self._deps_cache: dict[str, list[str]] = {}
        self._reduced_cache: dict[tuple[tuple[str, ...], int], tuple[str, np.ndarray, np.ndarray, sp.csr_matrix]] = {}
        self.high = np.isin(self.layout.level, ("national", "region"))
        self.high_total = self.high & self.layout.is_total
        self.region_guard = (self.layout.level == "national") | self.high_total
        # multiple choice: the secret rows of the cells whose counts sum to their respondents
        # (the audit holds those answer margins as known, see relations)
        self.margin_rows = np.zeros(len(self.status), dtype=bool)
        if system.margin_groups is not None:
            self.margin_rows[:] = np.tile(system.margin_groups, system.n_answers)
        # per primary and direction: None (no witness yet) or the set of foreign insiders
        # (inner cells) that every witness found so far moves
        self.state: dict[tuple[int, int], frozenset[int] | None] = {}
        # per direction and secret row: whether ``state`` is the empty set (protected against
        # every insider in that direction), kept in step with it
        self._done = np.zeros((2, len(self.status)), dtype=bool)
        self._cap_requirements()

    # ------------------------------------------------------------------ requirements
    def _cap_requirements(self) -> None:
        """Protection cannot exceed what the public bounds allow; 'either' picks a feasible side."""
        v = self.values
        room_up = self.cmax - v
        room_down = v - self.cmin
        need = self.need
        for r in np.flatnonzero(need > 0):
            up_ok = room_up[r] >= self.req[_UP, r] - self.tol[r]
            down_ok = room_down[r] >= self.req[_DOWN, r] - self.tol[r]
            n = need[r]
            if n == NEED_EITHER:
                continue
            if n in (NEED_UP, NEED_BOTH) and not up_ok:
                self.req[_UP, r] = max(0.0, room_up[r])
            if n in (NEED_DOWN, NEED_BOTH) and not down_ok:
                self.req[_DOWN, r] = max(0.0, room_down[r])

    def directions(self, r: int) -> list[int]:
        n = self.need[r]
        if n == NEED_UP:
            return [_UP]
        if n == NEED_DOWN:
            return [_DOWN]
        if n == NEED_BOTH:
            return [_UP, _DOWN]
        return [_UP, _DOWN]

    def satisfied(self, r: int) -> bool:
        n = self.need[r]
        up = self.state.get((r, _UP)) == frozenset() or self.req[_UP, r] <= self.tol[r]
        down = self.state.get((r, _DOWN)) == frozenset() or self.req[_DOWN, r] <= self.tol[r]
        if n == NEED_EITHER:
            return (self.state.get((r, _UP)) == frozenset()) or (self.state.get((r, _DOWN)) == frozenset())
        if n == NEED_UP:
            return up
        if n == NEED_DOWN:
            return down
        if n == NEED_BOTH:
            return up and down
        return True

    # ------------------------------------------------------------------ helpers
    def group_of(self, r: int) -> int:
        return r % self.G

    def inner_set(self, r: int) -> frozenset[int]:
        g = self.group_of(r)
        s = self._inner_sets.get(g)
        if s is None:
            ig = self.layout.inner_groups
            s = frozenset(ig.indices[ig.indptr[g] : ig.indptr[g + 1]].tolist())
            self._inner_sets[g] = s
        return s

    def scope_keys(self, r: int) -> list[tuple[str, ...]]:
        """Scopes to try, narrowest first: the cell's département with its two largest
        neighbours of the same région, then its région(s), then everything; a régional sum
        cell, the whole country at once (:data:`REGION_WITNESS_COUNTRYWIDE`)."""
        g = self.group_of(r)
        inner = sorted(self.inner_set(r))
        if not inner:
            return [("*",)]
        if self.layout.level[g] == "national":
            # start from the département of one responding member of the group
            alive = [i for i in inner if self.sys.inner_respondents[i] > 0]
            if not alive:
                return [("*",)]
            deps_alive = sorted({str(x) for x in self.layout.inner_departement[alive].tolist()})
            first = deps_alive[0]
            region = str(self.layout.inner_region[alive][self.layout.inner_departement[alive].astype(str) == first][0])
            region_deps = self._region_departements(region)
            others = [d for d in region_deps if d != first][:2]
            return [tuple("D:" + d for d in sorted([first, *others])), ("R:" + region,), ("*",)]
        if self._countrywide(r) and self.sys.linked_total is None:
            # a régional sum cell: the witness balances it with the régions whose cells
            # cost least (the LP chooses among all of them); the two largest régions, the
            # narrow scope below, hold the costliest cells (see the constant's docs)
            return [("*",)]
        regions = sorted({str(x) for x in self.layout.inner_region[inner].tolist()})
        keys: list[tuple[str, ...]] = []
        if self.layout.level[g] == "region" and len(regions) == 1:
            # a régional cell moved inside its own région moves its national counterpart
            # (same breakdown category and answer): when that one is published, the région
            # alone cannot give an acceptable witness (its LP would be infeasible)
            ng = self._national_counterpart()[g]
            if ng >= 0 and not self.suppressed[(r // self.G) * self.G + ng]:
                others = [x for x in self._regions_by_size() if x not in regions][:2]
                hinted = self._hinted_regions(r, regions)
                if hinted:
                    keys = [tuple("R:" + x for x in sorted([*regions, *hinted]))]
                    if others:
                        keys.append(tuple("R:" + x for x in sorted({*regions, *hinted, *others})))
                    return [*keys, ("*",)]
                if others:
                    return [tuple("R:" + x for x in sorted([*regions, *others])), ("*",)]
        deps = sorted({str(x) for x in self.layout.inner_departement[inner].tolist()})
        if self.layout.level[g] not in ("region",) and len(regions) == 1:
            region_deps = self._region_departements(regions[0])
            others = [d for d in region_deps if d not in deps][:2]
            # départements whose cells are already hidden: moving them costs nothing, so a
            # witness through them hides fewer new cells than one through the neighbours only
            partners = self._partners({*deps, *others}, regions, r)
            narrow = {*deps, *others, *partners}
            if len(narrow) < len(region_deps) or (partners and not self._has_region_level()):
                keys.append(tuple("D:" + d for d in sorted(narrow)))
        keys.append(tuple("R:" + x for x in regions))
        others = [x for x in self._regions_by_size() if x not in regions][:2]
        if others:
            keys.append(tuple("R:" + x for x in sorted([*regions, *others])))
            keys.append(("*",))
        return keys

    def _countrywide(self, r: int) -> bool:
        """Whether ``r`` is a régional sum cell, whose witnesses are sought over the whole
        country (:data:`REGION_WITNESS_COUNTRYWIDE`; linked questions: the pair witnesses)."""
        return REGION_WITNESS_COUNTRYWIDE and self.tab.is_numeric and self.layout.level[self.group_of(r)] == "region"

    def _hinted_regions(self, r: int, exclude: list[str]) -> list[str]:
        """Linked questions protected with hints: the other régions whose cell of ``r``'s
        category is hidden in some question, those hiding it in most questions first
        (:data:`REGION_HINT_PARTNERS` at most)."""
        if self.sys.linked_total is None or not self.has_hints:
            return []
        lay = self.layout
        same = (self._category_of() == self._category_of()[r % self.G]) & (lay.level == "region")
        count = (self.suppressed.reshape(-1, self.G) & same).sum(axis=0)
        groups = np.flatnonzero(count > 0)
        codes = lay.keys["territory"].to_numpy().astype(str)
        ranked = sorted(groups.tolist(), key=lambda grp: (-int(count[grp]), codes[grp]))
        return [str(codes[grp]) for grp in ranked if codes[grp] not in exclude][:REGION_HINT_PARTNERS]

    def _national_counterpart(self) -> np.ndarray:
        """Per group, the national group of the same breakdown category (-1 if none)."""
        if self._counterpart is None:
            keys = self.layout.keys
            pairs = list(zip(keys["breakdown"].tolist(), keys["category"].tolist(), strict=True))
            levels = keys["level"].tolist()
            nat = {p: i for i, (lv, p) in enumerate(zip(levels, pairs, strict=True)) if lv == "national"}
            self._counterpart = np.array([nat.get(p, -1) for p in pairs], dtype=np.int64)
        return self._counterpart

    def _has_region_level(self) -> bool:
        return self._region_level

    def _partners(self, exclude: set[str], regions: list[str], r: int) -> list[str]:
        """Départements with hidden cells (most first), outside ``exclude``: of the same
        région(s) when régions are released (a witness through another région would move
        that région's cells), anywhere otherwise. Beyond the :data:`PARTNER_DEPARTEMENTS`
        with the most hidden cells, up to :data:`SAME_CELL_PARTNERS` more whose cell of
        ``r``'s own category and answer is hidden: the national margin of that category is
        the relation a witness for ``r`` must balance, and such a cell balances it for free
        (a département total finds another hidden total there, not a new one)."""
        if PARTNER_DEPARTEMENTS <= 0:
            return []
        codes, group_dep, dep_region = self._departement_index()
        hidden = self.suppressed.reshape(-1, self.G).any(axis=0) & (group_dep >= 0)
        if not hidden.any():
            return []
        counts = np.bincount(group_dep[hidden], minlength=len(codes))
        ok = counts > 0
        ok &= ~np.isin(codes, list(exclude))
        if self._has_region_level():
            ok &= np.isin(dep_region, regions)
        cand = np.flatnonzero(ok)
        order = cand[np.lexsort((cand, -counts[cand]))]  # most hidden cells first, then by code
        chosen, rest = order[:PARTNER_DEPARTEMENTS], order[PARTNER_DEPARTEMENTS:]
        if SAME_CELL_PARTNERS > 0 and len(rest):
            answer_rows = (r // self.G) * self.G + np.arange(self.G)
            same = (self._category_of() == self._category_of()[r % self.G]) & (group_dep >= 0)
            same &= self.suppressed[answer_rows]
            has_same = np.bincount(group_dep[same], minlength=len(codes)) > 0
            chosen = np.concatenate([chosen, rest[has_same[rest]][:SAME_CELL_PARTNERS]])
        return [str(code) for code in codes[chosen]]

    def _key_ids(self, columns: tuple[str, ...]) -> np.ndarray:
        """Per group, an id of its values in these columns of the layout's keys (equal ids,
        equal values); built once per set of columns."""
        ids = self._key_id_cache.get(columns)
        if ids is None:
            grouped = self.layout.keys[list(columns)].astype(str).groupby(list(columns), sort=False)
            ids = grouped.ngroup().to_numpy(dtype=np.int64)
            self._key_id_cache[columns] = ids
        return ids

    def _category_of(self) -> np.ndarray:
        """Per group, an id of its (breakdown, category): the same for every territory."""
        return self._key_ids(("breakdown", "category"))

    def _departement_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sorted département codes, per group its index in them or −1, per département its
        région) — built once."""
        if self._dep_index is None:
            lay = self.layout
            territory = lay.keys["territory"].to_numpy().astype(str)
            is_dep = lay.level == "departement"
            region_of = dict(
                zip(lay.inner_departement.astype(str).tolist(), lay.inner_region.astype(str).tolist(), strict=True)
            )
            codes = np.unique(territory[is_dep])
            group_dep = np.where(is_dep, np.searchsorted(codes, territory), -1)
            dep_region = np.array([region_of.get(c, "") for c in codes.tolist()], dtype=object)
            self._dep_index = (codes, group_dep, dep_region)
        return self._dep_index

    def _regions_by_size(self) -> list[str]:
        if "*" not in self._deps_cache:
            totals: dict[str, float] = {}
            regions = self.layout.inner_region.astype(str).tolist()
            for reg, n in zip(regions, self.sys.inner_respondents.tolist(), strict=True):
                totals[reg] = totals.get(reg, 0.0) + n
            self._deps_cache["*"] = sorted(totals, key=lambda x: (-totals[x], x))
        return self._deps_cache["*"]

    def _region_departements(self, region: str) -> list[str]:
        """Départements of a région, largest (most respondents) first."""
        cache = self._deps_cache
        if region not in cache:
            lay = self.layout
            mask = lay.inner_region.astype(str) == region
            deps = lay.inner_departement[mask].astype(str)
            resp = self.sys.inner_respondents[mask]
            totals: dict[str, float] = {}
            for dep, n in zip(deps.tolist(), resp.tolist(), strict=True):
                totals[dep] = totals.get(dep, 0.0) + n
            cache[region] = sorted(totals, key=lambda d: (-totals[d], d))
        return cache[region]

    def scope(self, key: tuple[str, ...]) -> _Scope:
        sc = self._scopes.get(key)
        if sc is not None:
            return sc
        sysm = self.sys
        if key == ("*",):
            vars_ = np.arange(sysm.n_vars)
        else:
            codes = np.array([k[2:] for k in key], dtype=str)
            column = self.layout.inner_region if key[0].startswith("R:") else self.layout.inner_departement
            inner_ok = np.isin(column.astype(str), codes)
            vars_ = np.flatnonzero(inner_ok[sysm.var_inner])
        cols = sysm.Xc[:, vars_].tocsr()
        rows = np.flatnonzero(np.diff(cols.indptr) > 0)
        sub = cols[rows]
        link = None
        links = sysm.linking if sysm.linking is not None else sysm.answer_margins
        if links is not None:
            lk = links[:, vars_].tocsr()
            keep = np.flatnonzero(np.diff(lk.indptr) > 0)
            link = lk[keep]
        bounds = None
        if sysm.linking is not None and sysm.linking_lo is not None and sysm.linking_hi is not None:
            bounds = (sysm.linking_lo[keep], sysm.linking_hi[keep])
        sc = _Scope(vars_, rows, sub, link, bounds)
        self._scopes[key] = sc
        return sc

    # ------------------------------------------------------------------ LP
    def witness(
        self, r: int, direction: int, fixed_inner: np.ndarray | None, target: _Target | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The cheapest witness over the scopes of ``r``, narrowest first: a narrow witness
        is kept unless it suppresses a new national or régional cell. In the narrow scopes
        those cells are held fixed in the LP itself (a witness that moved them would be
        rejected anyway), so one LP per scope settles it and the costly country-wide LP is
        only solved when no narrow scope can protect the cell."""
        keys = self.scope_keys(r)
        level = self.layout.level[self.group_of(r)]
        # a narrow witness must not hide new cells of a higher level than the cell's own
        # (national and régional cells may hide other categories, never new totals)
        high = {"national": self.high_total, "region": self.region_guard}.get(level, self.high)
        found = None
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            w = self._witness_in(r, direction, fixed_inner, key, None if last else high, target)
            if w is None:
                continue
            guard = None if last else high
            if target is None:
                w, new = self._sparser(r, direction, fixed_inner, key, guard, w)
            else:
                w, new = self._sparser(r, direction, fixed_inner, key, guard, w, target)
            found = w
            if last or not high[new % self.G].any():
                break
        return found

    def _new_cells(self, w: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(rows the witness would newly suppress, the move of every row)."""
        moved = _column_combination(self.sys.Xc, w[0], w[1])
        return np.flatnonzero((np.abs(moved) > self.tol) & ~self.suppressed), moved

    def _sibling_relation(self) -> np.ndarray:
        """Per group, an id shared by the categories of one breakdown of one territory
        (siblings under one total); −1 for totals."""
        return np.where(self.layout.is_total, -1, self._key_ids(("level", "territory", "breakdown")))

    def _sparser(
        self,
        r: int,
        direction: int,
        fixed_inner: np.ndarray | None,
        key: tuple[str, ...],
        guard: np.ndarray | None,
        w: tuple[np.ndarray, np.ndarray],
        target: _Target | None = None,
    ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """(witness, rows it newly suppresses): a witness hiding fewer new cells, when the LP
        split its move between sibling categories because one of them reached its bound.

        The LP minimises the weighted size of the move, not the number of cells it hides:
        it moves a small sibling as far as its bound allows (to 0, say) before moving a
        larger one, and both get hidden where the larger one alone would do. For each such
        sibling, one more LP with that cell held published; its witness is kept when it hides
        a strict subset of the new cells."""
        new, moved = self._new_cells(w)
        if len(new) < 2:
            return w, new
        relation = self._sibling_relation()[new % self.G]
        relation = np.where(relation >= 0, relation + (new // self.G) * self.G, -1)
        ids, counts = np.unique(relation[relation >= 0], return_counts=True)
        tries = new[np.isin(relation, ids[counts > 1])]
        after = self.values[tries] + moved[tries]
        tol = self.tol[tries]
        at_bound = (np.abs(after - self.cmin[tries]) <= tol) | (np.abs(after - self.cmax[tries]) <= tol)
        tries = tries[at_bound]
        for c in tries.tolist():
            if c not in new:
                continue
            self.forced[c] = True
            other = self._witness_in(r, direction, fixed_inner, key, guard, target)
            self.forced[c] = False
            if other is None:
                continue
            fewer = self._new_cells(other)[0]
            if set(fewer.tolist()) < set(new.tolist()):
                w, new = other, fewer
        return w, new

    def _reduced(self, key: tuple[str, ...], answer: int) -> tuple[str, np.ndarray, np.ndarray, sp.csr_matrix]:
        """(mode, vars, rows, sub) of a scope, reduced by the structure of the answers:
        independent answers (multiple choice) → the protected cell's answer block only;
        yes/no → the first answer only (the second is its mirror: d[non] = -d[oui])."""
        ck = (key, answer)
        cached = self._reduced_cache.get(ck)
        if cached is not None:
            return cached
        sysm = self.sys
        sc = self.scope(key)
        n_inner, G = sysm.n_inner, self.G
        if sysm.n_answers > 1 and sysm.linking is None:
            mode, block = "block", answer
        elif sysm.n_answers == 2 and sysm.linking is not None:
            mode, block = "mirror", 0
        else:
            out = ("full", sc.vars, sc.rows, sc.sub)
            self._reduced_cache[ck] = out
            return out
        vmask = (sc.vars // n_inner) == block
        rmask = (sc.rows // G) == block
        sub = sc.sub[np.flatnonzero(rmask)][:, np.flatnonzero(vmask)].tocsr()
        out = (mode, sc.vars[vmask], sc.rows[rmask], sub)
        self._reduced_cache[ck] = out
        return out

    def _witness_in(
        self,
        r: int,
        direction: int,
        fixed_inner: np.ndarray | None,
        key: tuple[str, ...],
        guard: np.ndarray | None = None,
        target: _Target | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """One witness LP in the scope ``key``; ``guard`` (per group): published cells that
        must not move (held fixed); ``target``: move this sum of cells instead of ``r`` (a
        dominated union, see :meth:`fix_unions`).

        Multiple choice: the answers are independent, so the witness is sought in the
        protected cell's answer only (block mode), except for the cells whose counts sum to
        their respondents (every respondent ticked one option): the independent audit holds
        that margin as known (see :mod:`.relations`), so a one-answer witness must leave
        those cells unchanged. When it cannot (the protected cell is one of them, or no such
        witness exists in the scope), the witness is sought over every answer of the scope
        with those margins held (Σ of the changes over the answers of such a cell = 0)."""
        if self.sys.linked_total is not None:
            return self._linked_witness(r, direction, fixed_inner, key, guard)
        mode, vars_, rows, sub = self._reduced(key, r // self.G)
        if mode != "block" or not self.margin_rows[rows].any():
            linking = self.scope(key).linking if mode == "full" else None
            return self._lp_witness(r, direction, fixed_inner, guard, mode, vars_, rows, sub, linking, None, target)
        if not self.margin_rows[r]:
            held = self.margin_rows[rows]
            w = self._lp_witness(r, direction, fixed_inner, guard, mode, vars_, rows, sub, None, held)
            if w is not None:
                return w
        sc = self.scope(key)
        return self._lp_witness(r, direction, fixed_inner, guard, "full", sc.vars, sc.rows, sc.sub, sc.linking)

    def _linked_pairs(self, answer: int) -> list[tuple[int, float]]:
        """Partners a witness for ``answer`` may move with it, in a system of linked questions
        (:mod:`.linked`), as (offset, sign): the relation's total moving with a part (+1),
        another part moving against it (−1, the total unchanged), or, for the total, a part
        moving with it (+1). Parts with the most hidden cells first (moving a hidden cell costs
        nothing), then the largest; at most :data:`LINKED_PARTNERS` besides the total."""
        if self.sys.linked_inequality:
            # a part ≤ its bound: a question may move alone within its slack, which only the
            # LP over every question sees
            return []
        total = self.sys.linked_total
        n = self.sys.n_answers
        hidden = self.suppressed.reshape(n, self.G).sum(axis=1)
        size = np.abs(self.values.reshape(n, self.G)).sum(axis=1)
        parts = [a for a in range(n) if a not in (answer, total)]
        parts.sort(key=lambda a: (-hidden[a], -size[a], a))
        if total is None or total < 0:  # parts summing to a constant: one moves against another
            return [(a - answer, -1.0) for a in parts[:LINKED_PARTNERS]]
        if answer == total:
            return [(a - answer, 1.0) for a in parts[:LINKED_PARTNERS + 1]]
        return [(total - answer, 1.0), *((a - answer, -1.0) for a in parts[:LINKED_PARTNERS])]

    def _linked_scope(
        self, key: tuple[str, ...], answer: int | None
    ) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix, sp.csr_matrix | None]:
        """(vars, rows, sub, linking) of a scope: one question's block (pair witnesses), or
        every question with ``None``."""
        sc = self.scope(key)
        if answer is None:
            return sc.vars, sc.rows, sc.sub, sc.linking
        ck = (key, answer)
        cached = self._reduced_cache.get(ck)
        if cached is None:
            vmask = (sc.vars // self.sys.n_inner) == answer
            rmask = (sc.rows // self.G) == answer
            sub = sc.sub[np.flatnonzero(rmask)][:, np.flatnonzero(vmask)].tocsr()
            cached = ("linked", sc.vars[vmask], sc.rows[rmask], sub)
            self._reduced_cache[ck] = cached
        return cached[1], cached[2], cached[3], None

    def _linked_witness(
        self,
        r: int,
        direction: int,
        fixed_inner: np.ndarray | None,
        key: tuple[str, ...],
        guard: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A witness in a system of linked questions: the cheapest of the pair witnesses
        (:meth:`_linked_pairs`: one question-sized LP each; the identity holds on every inner
        cell by construction), one hiding no new cell ending the search; when no pair can,
        one LP over every question with the identity's rows. With hints (the questions'
        own patterns), that LP is also solved when the best pair hides new cells, and the
        cheaper witness kept: it can balance the move through several questions' hidden
        cells where a pair needs both questions hidden at the same places (measured on the
        budget group, national 2025: 9.4 % → 8.1 % of the value hidden)."""
        answer = r // self.G
        vars_, rows, sub, _ = self._linked_scope(key, answer)
        best: tuple[float, tuple[np.ndarray, np.ndarray]] | None = None
        for pair in self._linked_pairs(answer):
            w = self._lp_witness(r, direction, fixed_inner, guard, "pair", vars_, rows, sub, None, pair=pair)
            if w is None:
                continue
            new = self._new_cells(w)[0]
            cost = float(self.cost[new].sum())
            if best is None or cost < best[0]:
                best = (cost, w)
            if cost == 0.0:
                break
        if best is not None and (best[0] == 0.0 or not self.has_hints):
            return best[1]
        vars_, rows, sub, linking = self._linked_scope(key, None)
        full = self._lp_witness(r, direction, fixed_inner, guard, "full", vars_, rows, sub, linking,
                                linking_bounds=self.scope(key).linking_bounds)
        if best is None or (full is not None and float(self.cost[self._new_cells(full)[0]].sum()) < best[0]):
            return full
        return best[1]

    def _lp_witness(
        self,
        r: int,
        direction: int,
        fixed_inner: np.ndarray | None,
        guard: np.ndarray | None,
        mode: str,
        vars_: np.ndarray,
        rows: np.ndarray,
        sub: sp.csr_matrix,
        linking: sp.csr_matrix | None,
        held: np.ndarray | None = None,
        target: _Target | None = None,
        pair: tuple[int, float] | None = None,
        linking_bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The witness LP (then MILP for counts) over ``vars_`` (one scope, reduced by
        ``mode``); ``linking``: rows held at 0 (answer margins, full mode); ``held`` (per row
        of ``rows``): cells that must not move even when suppressed; ``pair`` (linked
        questions, ``vars_`` and ``rows`` of the protected cell's question only): (offset of the
        partner question, sign) — the partner's inner cells move by sign × the question's."""
        sysm = self.sys
        G, n_inner = self.G, sysm.n_inner
        answer = r // G
        req = self.req[direction, r] if target is None else target.req
        ns = len(vars_)
        lo = sysm.lo[vars_] - sysm.y[vars_]
        hi = sysm.hi[vars_] - sysm.y[vars_]
        shift, sign = pair if pair is not None else (1, -1.0)
        if mode == "mirror" or pair is not None:
            # the twin moves by sign × d: yes/no (the "non" answer mirrors the "oui"), or a
            # linked question that absorbs the move (the relation's total, or another part)
            twin_rows = rows + shift * G
            free = self.suppressed[rows] & self.suppressed[twin_rows]
            forced = (self.forced[rows] | self.forced[twin_rows]) & ~free
            if guard is not None:
                forced |= guard[rows % G] & ~free
            w_all = self.cost[rows] * ~self.suppressed[rows] + self.cost[twin_rows] * ~self.suppressed[twin_rows]
            twin = vars_ + shift * n_inner
            twin_lo, twin_hi = sysm.lo[twin] - sysm.y[twin], sysm.hi[twin] - sysm.y[twin]
            lo = np.maximum(lo, -twin_hi if sign < 0 else twin_lo)
            hi = np.minimum(hi, -twin_lo if sign < 0 else twin_hi)
            target_row: int | np.ndarray = r
            if mode == "mirror":
                target_row = r - answer * G
                if answer == 1:
                    direction = _DOWN if direction == _UP else _UP
        else:
            free = self.suppressed[rows]
            if held is not None:
                free = free & ~held
            forced = self.forced[rows] & ~free
            if guard is not None:
                forced |= guard[rows % G] & ~free
            if held is not None:
                forced |= held
            w_all = self.cost[rows]
            target_row = r
        if target is not None:
            if mode != "full":
                return None
            target_row = target.rows
        pos = np.searchsorted(rows, target_row)
        if np.any(pos >= len(rows)) or np.any(rows[np.minimum(pos, len(rows) - 1)] != target_row):
            return None
        costly_idx = np.flatnonzero(~free & ~forced)
        forced_idx = np.flatnonzero(forced)
        mc = len(costly_idx)
        # |C d| is modelled as C d = t⁺ − t⁻ (t± ≥ 0, both weighted): the same optimum as
        # −t ≤ C d ≤ t with half the rows, which HiGHS solves several times faster. Rows:
        # costly cells (with their slacks), fixed cells, answer margins (all = 0), then the
        # target's move (≥ req in the requested direction); built at once in COO form.
        m_row, m_col, m_data = _rows_coo(sub, np.concatenate([costly_idx, forced_idx]))
        ar = np.arange(mc)
        r_parts = [m_row, ar, ar]
        c_parts = [m_col, ns + ar, ns + mc + ar]
        d_parts = [m_data, np.full(mc, -1.0), np.ones(mc)]
        n_rows = mc + len(forced_idx)
        link_start = n_rows
        if linking is not None and linking.shape[0]:
            L = linking.tocoo()
            r_parts.append(L.row + n_rows)
            c_parts.append(L.col)
            d_parts.append(L.data)
            n_rows += L.shape[0]
        _, t_col, t_data = _rows_coo(sub, np.atleast_1d(pos))
        toward = -1.0 if direction == _UP else 1.0  # the target's row: toward · move ≤ −req
        r_parts.append(np.full(len(t_col), n_rows))
        c_parts.append(t_col)
        d_parts.append(toward * t_data)
        n_rows += 1
        n_cols = ns + 2 * mc
        A = sp.csc_matrix(
            (np.concatenate(d_parts), (np.concatenate(r_parts), np.concatenate(c_parts))), shape=(n_rows, n_cols)
        )
        A.sort_indices()
        row_lo = np.zeros(n_rows)
        row_hi = np.zeros(n_rows)
        if linking_bounds is not None and linking is not None and linking.shape[0]:
            row_lo[link_start:link_start + linking.shape[0]] = linking_bounds[0]
            row_hi[link_start:link_start + linking.shape[0]] = linking_bounds[1]
        row_lo[-1] = -np.inf
        row_hi[-1] = -req
        if fixed_inner is not None:
            fix = fixed_inner[sysm.var_inner[vars_]]
            lo = np.where(fix, 0.0, lo)
            hi = np.where(fix, 0.0, hi)
        lo = np.minimum(lo, 0.0)
        hi = np.maximum(hi, 0.0)
        w = w_all[costly_idx]
        c = np.concatenate([np.zeros(ns), w, w])
        bounds_lo = np.concatenate([lo, np.zeros(2 * mc)])
        bounds_hi = np.concatenate([hi, np.full(2 * mc, np.inf)])
        self.lp_solves += 1
        solver = self._lp_wide if ns > PRESOLVE_FROM_VARS and self.has_hints else self._lp
        res = solver.solve(Program(c, A, row_lo, row_hi, bounds_lo, bounds_hi))
        if res.x is None:
            return None  # infeasible, or stopped (deterministic masks: no partial result)
        x = res.x
        d = x[:ns]
        if sysm.integral and ns <= _MILP_MAX_VARS and np.any(np.abs(d - np.round(d)) > 1e-6):
            self.lp_solves += 1
            d = _integral_on_support(self._mip, x, ns, c, A, row_lo, row_hi, bounds_lo, bounds_hi)
        if sysm.integral and ns <= _MILP_MAX_VARS and np.any(np.abs(d - np.round(d)) > 1e-6):
            self.lp_solves += 1
            integrality = np.concatenate([np.ones(ns), np.zeros(2 * mc)])
            lo_int, hi_int = np.ceil(bounds_lo - 1e-9), np.floor(bounds_hi + 1e-9)
            self._mip.set_mip_rel_gap(1.0)
            whole = self._mip.solve(Program(c, A, row_lo, row_hi, lo_int, hi_int, integrality)).x
            if whole is not None:
                d = np.round(whole[:ns])
        d = np.where(np.abs(d) > self.var_eps[vars_], d, 0.0)
        nz = np.flatnonzero(d)
        if mode == "mirror" or pair is not None:
            return np.concatenate([vars_[nz], vars_[nz] + shift * n_inner]), np.concatenate([d[nz], sign * d[nz]])
        return vars_[nz], d[nz]

    def apply_witness(self, idx: np.ndarray, vals: np.ndarray) -> None:
        """Suppress every cell the witness moves, then credit it to every primary it protects.

        Only the primary cells the move reaches in a direction not yet protected against
        every insider are visited (crediting a done direction changes nothing: its state is
        the empty set, and the empty set intersected stays empty)."""
        if len(idx) == 0:
            return
        self.n_witnesses += 1
        moved_rows = _column_combination(self.sys.Xc, idx, vals)
        tol = self.tol
        moved = np.flatnonzero(np.abs(moved_rows) > tol)
        self.moved[moved] = True
        new = moved[~self.suppressed[moved]]
        self.suppressed[new] = True
        self.status[new] = np.where(self.status[new] == PUBLISHABLE, SECONDARY, self.status[new])
        cand = moved[self.need[moved] > 0]
        if not len(cand):
            return
        delta = moved_rows[cand]
        reaches = np.stack([delta >= self.req[_UP, cand] - tol[cand], -delta >= self.req[_DOWN, cand] - tol[cand]])
        reaches &= ~self._done[:, cand]
        open_ = reaches.any(axis=0)
        if not open_.any():
            return
        cand, reaches = cand[open_], reaches[:, open_]
        moved_single: frozenset[int] = frozenset()
        if self.rules.insiders:
            inner = np.unique(self.sys.var_inner[idx])
            moved_single = frozenset(inner[self.sys.singleton_inner[inner]].tolist())
        for q, up, down in zip(cand.tolist(), reaches[_UP].tolist(), reaches[_DOWN].tolist(), strict=True):
            foreign = moved_single - self.inner_set(q) if moved_single else moved_single
            for direction, ok in ((_UP, up), (_DOWN, down)):
                if ok:
                    prev = self.state.get((q, direction))
                    state = foreign if prev is None else prev & foreign
                    self.state[(q, direction)] = state
                    if not state:
                        self._done[direction, q] = True

    def _per_insider(self, r: int, direction: int) -> bool:
        """Protect ``r`` in ``direction`` against each insider in turn: a witness free to move
        any structure, then one witness per insider it relied on, holding that insider's
        cell (the rule set's insider protection: against each of them). False when no
        witness exists (diagnostics name the insiders left unprotected)."""
        sysm = self.sys
        w = self.witness(r, direction, None)
        if w is None:
            return False
        self.apply_witness(*w)
        for _ in range(50):
            st = self.state.get((r, direction))
            if st is None or st == frozenset():
                break
            insider = min(st)
            only = np.zeros(sysm.n_inner, dtype=bool)
            only[insider] = True
            w2 = self.witness(r, direction, only)
            if w2 is None:
                self.diag.append({"row": int(r), "reason": "initie", "inner": int(insider)})
                break
            before = self.state.get((r, direction))
            self.apply_witness(*w2)
            if self.state.get((r, direction)) == before:
                self.diag.append({"row": int(r), "reason": "initie", "inner": int(insider)})
                break
        return True

    def _insiders_cost_more(self, r: int, w: tuple[np.ndarray, np.ndarray]) -> bool:
        """Whether the witness that avoids every insider at once hides a new cell of a higher
        level than ``r``'s own (a régional cell for a département's): then the witnesses
        against each insider in turn (:meth:`_per_insider`) are tried as well."""
        if not PER_INSIDER_WHEN_CHEAPER or self.sys.linked_total is not None:
            # linked questions: measured on the budget group (national 2025), 12.79 % → 12.77 %
            # of its value hidden for 63 % more processor time
            return False
        new = self._new_cells(w)[0]
        if not len(new):
            return False
        rank = LEVEL_ORDER.index(str(self.layout.level[r % self.G]))
        levels = self.layout.level[new % self.G]
        return any(LEVEL_ORDER.index(str(lv)) < rank for lv in set(levels.tolist()))

    def _cheaper_per_insider(self, r: int, direction: int, w: tuple[np.ndarray, np.ndarray]) -> bool:
        """Protect ``r`` against each insider in turn when that hides cheaper cells than
        ``w`` (the witness avoiding every insider at once) and protects ``r``; otherwise
        leave everything as it was and return False."""
        w_cost = float(self.cost[self._new_cells(w)[0]].sum())
        saved = (self.suppressed.copy(), self.status.copy(), dict(self.state), len(self.diag), self.n_witnesses,
                 self._done.copy(), self.moved.copy())
        done = self._per_insider(r, direction)
        st = self.state.get((r, direction))
        spent = float(self.cost[self.suppressed & ~saved[0]].sum())
        if done and st == frozenset() and len(self.diag) == saved[3] and spent < w_cost:
            return True
        self.suppressed, self.status, self.state, self._done, self.moved = (saved[0], saved[1], saved[2], saved[5],
                                                                            saved[6])
        del self.diag[saved[3]:]
        self.n_witnesses = saved[4]
        return False

    # ------------------------------------------------------------------ main loop
    def protect_primary(self, r: int) -> None:
        sysm = self.sys
        dirs = self.directions(r)
        if self.need[r] == NEED_EITHER:
            # try the side with room first (upwards when possible)
            room_up = self.cmax[r] - self.values[r] >= self.req[_UP, r] - self.tol[r]
            dirs = [_UP, _DOWN] if room_up else [_DOWN, _UP]
        for direction in dirs:
            if self.satisfied(r):
                return
            if self.req[direction, r] <= self.tol[r]:
                continue
            if self.state.get((r, direction)) == frozenset():
                continue
            fixed = None
            if self.rules.insiders and sysm.singleton_inner.any():
                fixed = sysm.singleton_inner.copy()
                fixed[list(self.inner_set(r))] = False
            w = self.witness(r, direction, fixed)
            if fixed is not None and (w is None or self._insiders_cost_more(r, w)):
                # protection against each insider in turn, when no witness avoids every
                # insider at once or when the one that does hides costlier cells
                if w is None:
                    if self._per_insider(r, direction):
                        continue
                elif self._cheaper_per_insider(r, direction, w):
                    continue
            if w is None:
                if self.need[r] != NEED_EITHER:
                    self.diag.append({"row": int(r), "reason": "non_protegeable", "direction": direction})
                continue
            self.apply_witness(*w)
        if not self.satisfied(r) and self.need[r] == NEED_EITHER:
            self.diag.append({"row": int(r), "reason": "recalculable" if self.movable_only[r] else "non_protegeable"})

    def order(self) -> np.ndarray:
        """Primary cells, national first, then régions, départements…; within the
        départements, totals before categories: a département total can only be balanced by
        other totals (costly cells), and the categories of a département whose total is
        already hidden are then protected through it for free, where the other order hides a
        category first and its total later, both for one cell. (Régional totals are guarded
        cells: putting them first was measured to hide more, so that level keeps group order.)"""
        prim = np.flatnonzero(self.need > 0)
        groups = prim % self.G
        answers = prim // self.G
        level_rank = np.array([LEVEL_ORDER.index(lv) for lv in self.layout.level[groups]])
        departement_category = ~self.layout.is_total[groups] & (self.layout.level[groups] == "departement")
        return prim[np.lexsort((answers, groups, departement_category, level_rank))]

    def run(self, witnesses: bool = True, unions: bool = True) -> None:
        if witnesses:
            for r in self.order().tolist():
                if not self.satisfied(r):
                    self.protect_primary(r)
            self._release_unused_hints()
        if unions and self.tab.is_numeric and self.rules.dominated_unions:
            for _ in range(self.rules.max_union_rounds):
                if not self.fix_unions():
                    break

    def _release_unused_hints(self) -> None:
        """Publish again the hinted cells that no witness kept moves: every witness holds
        them at their true value already, so it stays a witness with them published."""
        unused = self.hinted & ~self.moved & (self.status == SECONDARY)
        self.suppressed[unused] = False
        self.status[unused] = PUBLISHABLE

    # ------------------------------------------------------------------ unions
    def _union_requirement(self, groups: list[int]) -> float:
        """The protection a union of cells (sum of their groups' structures) needs from the
        attacker's interval, by the primary rules; 0 when it is not sensitive."""
        members = self.layout.membership[groups]
        structs = np.unique(members.indices)
        structs = structs[self.tab.answered[structs]]
        vals = self.tab.unit_values[structs, 0]
        n = len(vals)
        if n == 0:
            return 0.0
        total = float(vals.sum())
        margin = max(self.rules.margin_sum_min, self.rules.margin_sum_ratio * abs(total))
        if n < self.rules.min_contributors:
            return max(margin, self.rules.frequency_protection_ratio * abs(total))
        if not self.rules.dominance_applies(self.tab.question) or (vals < 0).any() or total <= 0:
            return 0.0
        top = np.sort(vals)[::-1]
        x1 = float(top[0])
        x2 = float(top[1]) if n > 1 else 0.0
        lead = x1 + (x2 if self.rules.dominance_n == 2 else 0.0)
        need = 0.0
        if lead > self.rules.dominance_k / 100.0 * total:
            need = 100.0 / self.rules.dominance_k * lead - total
        rest = total - x1 - x2
        if rest < self.rules.p_percent / 100.0 * x1:
            need = max(need, self.rules.p_percent / 100.0 * x1 - rest)
        return max(margin, need) if need > 0 else 0.0

    def _sensitive_union(self, groups: list[int]) -> bool:
        return self._union_requirement(groups) > 0

    def fix_unions(self) -> bool:
        """Protect the dominated unions: in a relation whose parent is published, the
        suppressed children sum to a known value; where that sum fails the primary rules, a
        witness moves it by its protection level (every cell it moves is suppressed).

        Hiding one more child "to dilute the union" is not enough: that child may be exactly
        recomputable through another relation (a département's category through its région
        and the other départements, or through its total and the other categories), and then
        it protects nothing — the union is still known, and the child is a secondary cell that
        can be recomputed. The witness proves that the union can move while everything
        published holds."""
        changed = False
        for rel in self.layout.relations:
            parent = rel.parent
            if self.suppressed[parent]:
                continue
            kids = np.array(rel.children)
            supp = kids[self.suppressed[kids]]
            if len(supp) < 2:
                continue
            key = tuple(sorted(supp.tolist()))
            if key in self._unions_done:
                continue
            req = self._union_requirement(supp.tolist())
            if req <= 0:
                continue
            self._unions_done.add(key)
            target = _Target(np.array(key, dtype=np.int64), req)
            w = None
            for direction in (_UP, _DOWN):
                w = self.witness(parent, direction, None, target)
                if w is not None:
                    break
            if w is None:
                self.diag.append({"row": int(parent), "reason": "union_dominee"})
                continue
            self.apply_witness(*w)
            changed = True
        return changed


def _entries(matrix: sp.csc_matrix | sp.csr_matrix, major: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``matrix.data`` of the entries of the ``major`` columns (CSC) or rows (CSR),
    in order, and how many each has."""
    starts, ends = matrix.indptr[major], matrix.indptr[major + 1]
    lengths = ends - starts
    return np.repeat(ends - lengths.cumsum(), lengths) + np.arange(int(lengths.sum())), lengths


def _column_combination(matrix: sp.csc_matrix, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``matrix[:, idx] @ vals`` as a dense vector, without building the column slice (the
    engine calls it for every witness; scipy's fancy indexing dominates at these sizes)."""
    take, lengths = _entries(matrix, idx)
    weights = matrix.data[take] * np.repeat(np.asarray(vals, dtype=float), lengths)
    return np.bincount(matrix.indices[take], weights=weights, minlength=matrix.shape[0])


def _rows_coo(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row position in ``rows``, column, value) of the entries of ``matrix[rows]``, without
    building the row slice."""
    take, lengths = _entries(matrix, rows)
    return np.repeat(np.arange(len(rows)), lengths), matrix.indices[take], matrix.data[take]


def _integral_on_support(
    solver: Solver,
    x: np.ndarray,
    ns: int,
    c: np.ndarray,
    A: sp.csc_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """An integral witness that moves only the inner cells the LP witness ``x`` moves (its
    support), or the fractional ``x[:ns]`` when there is none.

    The MILP keeps the support's columns, the rows they touch and those rows' slack columns:
    every other row holds with the other cells at 0. It is a few dozen variables where the
    whole witness MILP has thousands, and its witness hides a subset of the LP witness's cells.
    """
    d = x[:ns]
    support = np.flatnonzero(np.abs(d) > 1e-9)
    a_rows = A.tocsr()
    touched = np.flatnonzero(np.diff(A[:, support].tocsr().indptr) > 0)
    sub = a_rows[touched]
    slack = np.unique(sub.indices[sub.indices >= ns])
    cols = np.concatenate([support, slack])
    integrality = np.concatenate([np.ones(len(support)), np.zeros(len(slack))])
    solver.set_mip_rel_gap(_MILP_REL_GAP)
    res = solver.solve(
        Program(
            c[cols],
            sub[:, cols].tocsc(),
            row_lo[touched],
            row_hi[touched],
            np.concatenate([np.ceil(lo[support] - 1e-9), lo[slack]]),
            np.concatenate([np.floor(hi[support] + 1e-9), hi[slack]]),
            integrality,
        )
    )
    if res.x is None:
        return d
    out = np.zeros(ns)
    out[support] = np.round(res.x[: len(support)])
    return out


def secondary_suppression(
    tab: Tabulation,
    system: SecretSystem,
    prim: PrimaryResult,
    rules: RuleSet,
    cost: np.ndarray,
    forced_published: np.ndarray | None = None,
    forced_suppressed: np.ndarray | None = None,
    movable: np.ndarray | None = None,
    *,
    witnesses: bool = True,
    unions: bool = True,
    hints: np.ndarray | None = None,
) -> SecondaryResult:
    """Statuses of the secret cells after secondary suppression (rows ``a * G + g``).

    ``movable``: hidden cells (among ``forced_suppressed``) that no primary rule makes
    sensitive but that a reader sees hidden (kept hidden from last year, or from an earlier
    release): each gets a witness that moves it by at least the safety margin, so that no
    hidden cell is recomputable exactly from the published ones (attack A17).

    The two stages can run apart (questions linked by a relation, :mod:`.linked`): the
    witnesses on the joint system of the linked questions, then the dominated unions of each
    question on its own table, with the joint pattern as ``forced_suppressed``.

    ``hints``: cells hidden at the start that witnesses may move for free (the linked questions'
    own patterns, :mod:`.linked`); those that no witness kept moves are published again at the
    end of the witness stage."""
    n_rows = system.X.shape[0]
    fp = np.zeros(n_rows, dtype=bool) if forced_published is None else forced_published
    fs = np.zeros(n_rows, dtype=bool) if forced_suppressed is None else forced_suppressed
    engine = _Engine(tab, system, prim, rules, cost, fp, fs, movable, hints)
    engine.run(witnesses=witnesses, unions=unions)
    return SecondaryResult(
        status=engine.status,
        unprotected=engine.diag,
        lp_solves=engine.lp_solves,
        witnesses=engine.n_witnesses,
    )
