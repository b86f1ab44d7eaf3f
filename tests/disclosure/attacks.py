"""An attacker's toolkit, for the disclosure-control tests (attacks A1–A15 of the reference note).

Written apart from the engine and from the audit: it sees only what leaves the restricted zone
(the cells with status ``V``, the keys, statuses and ``n`` of every cell) plus public knowledge
(the territories, the codebook, the public identity of every structure on senacs.fr), and tries
to get suppressed values back.

Two attackers:

* :class:`TableAttacker` works on the tables themselves: margins, hierarchy, linked views,
  EPCI parts, derived statistics, several releases linked by the attacker's assumptions
  (sub-populations, revisions, stable values across years). ``peel`` is the differencing
  attacker (an equation with one unknown left gives it); ``interval`` is the LP / MILP
  attacker (A8, A9).
* :class:`StructureAttacker` works one level down: one unknown per structure (its value, or
  its answer), each published cell being the sum over the structures that the public
  directory puts in it. It can add an insider's own answers (A10, A11), the rule parameters
  (A15) and solve every released table jointly (A14).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from senacs_workbench.core import territories
from senacs_workbench.core.codebook import QuestionType, load_codebook

KEY = ("variable", "statistic", "answer", "level", "territory", "breakdown", "category")
ADDITIVE = ("structures", "respondents", "count", "sum")
COUNT_LIKE = ("structures", "respondents", "count")


def clean(cells: pd.DataFrame) -> pd.DataFrame:
    frame = cells.copy()
    for col in (*KEY, "status"):
        frame[col] = frame[col].astype("object").where(frame[col].notna(), "").astype(str)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce")
    return frame


def publish(cells: pd.DataFrame) -> pd.DataFrame:
    """What leaves the restricted zone: ``value`` blanked where the status is not ``V``."""
    frame = clean(cells)
    frame.loc[frame["status"] != "V", "value"] = np.nan
    return frame


def key_of(row: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(str(row[c]) for c in KEY)


def cell_key(
    variable: str,
    statistic: str,
    level: str,
    territory: str,
    breakdown: str = "",
    category: str = "",
    answer: str = "",
) -> tuple[str, ...]:
    return (variable, statistic, answer, level, territory, breakdown, category)


def true_value(cells: pd.DataFrame, key: tuple[str, ...]) -> float:
    frame = clean(cells)
    sel = np.ones(len(frame), dtype=bool)
    for col, val in zip(KEY, key, strict=True):
        sel &= (frame[col] == val).to_numpy()
    if sel.sum() != 1:
        raise KeyError(key)
    return float(frame.loc[sel, "value"].iloc[0])


def status_of(cells: pd.DataFrame, key: tuple[str, ...]) -> str:
    frame = clean(cells)
    sel = np.ones(len(frame), dtype=bool)
    for col, val in zip(KEY, key, strict=True):
        sel &= (frame[col] == val).to_numpy()
    if sel.sum() != 1:
        raise KeyError(key)
    return str(frame.loc[sel, "status"].iloc[0])


def with_implicit_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Where only means are released (percent questions), the sums behind them are unknowns
    that add up like any sum."""
    means = frame[frame["statistic"] == "mean"]
    sums = frame[frame["statistic"] == "sum"]
    cols = [c for c in KEY if c != "statistic"]
    missing = means[~pd.MultiIndex.from_frame(means[cols]).isin(pd.MultiIndex.from_frame(sums[cols]))]
    if missing.empty:
        return frame
    extra = missing.assign(statistic="sum", value=np.nan, status="~")
    return pd.concat([frame, extra], ignore_index=True)


def question_type(variable: str, year: int) -> QuestionType | None:
    try:
        codebook = load_codebook(year)
    except ValueError:
        return None
    return codebook.question(variable).type if variable in codebook else None


# --------------------------------------------------------------------------- a small LP toolkit


@dataclass
class LinearKnowledge:
    """Unknowns by name, linear equalities and inequalities, bounds, integrality."""

    index: dict[Hashable, int] = field(default_factory=dict)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    eqs: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ubs: list[tuple[dict[int, float], float]] = field(default_factory=list)

    def var(self, name: Hashable, lo: float = 0.0, hi: float = np.inf, integer: bool = False) -> int:
        if name not in self.index:
            self.index[name] = len(self.lo)
            self.lo.append(lo)
            self.hi.append(hi)
            self.integer.append(integer)
        return self.index[name]

    def bound(self, name: Hashable, lo: float | None = None, hi: float | None = None) -> None:
        j = self.index[name]
        if lo is not None:
            self.lo[j] = max(self.lo[j], lo)
        if hi is not None:
            self.hi[j] = min(self.hi[j], hi)

    def know(self, name: Hashable, value: float) -> None:
        self.bound(name, value, value)

    def equal(self, terms: Mapping[Hashable, float], rhs: float = 0.0) -> None:
        row: dict[int, float] = defaultdict(float)
        for name, coef in terms.items():
            row[self.index[name]] += coef
        self.eqs.append((dict(row), rhs))

    def at_most(self, terms: Mapping[Hashable, float], rhs: float = 0.0) -> None:
        row: dict[int, float] = defaultdict(float)
        for name, coef in terms.items():
            row[self.index[name]] += coef
        self.ubs.append((dict(row), rhs))

    def frequency_or_group(
        self, expr: Mapping[Hashable, float], respondents: float, threshold: int, tag: Hashable
    ) -> None:
        """A15: a status ``A`` count is 1 … threshold − 1 (frequency rule) or, with the same
        status, 0 or all the ``respondents`` (group rule): a disjunction with two binaries."""
        k, r = float(threshold) - 1.0, float(respondents)
        every, none = ("group_all", tag), ("group_none", tag)
        self.var(every, 0.0, 1.0, integer=True)
        self.var(none, 0.0, 1.0, integer=True)
        self.at_most({every: 1.0, none: 1.0}, 1.0)
        self.at_most({**expr, every: k - r, none: k}, k)  # frequency ≤ k − 1, all ≤ r, none ≤ 0
        self.at_most({**{n: -c for n, c in expr.items()}, every: r}, 0.0)  # all: ≥ r
        self.at_most({**{n: -c for n, c in expr.items()}, every: -1.0, none: -1.0}, -1.0)  # frequency: ≥ 1

    def _matrix(self, rows: list[tuple[dict[int, float], float]]) -> tuple[sparse.csr_matrix, np.ndarray]:
        r, c, v = [], [], []
        for i, (terms, _) in enumerate(rows):
            for j, coef in terms.items():
                r.append(i)
                c.append(j)
                v.append(coef)
        mat = sparse.csr_matrix((v, (r, c)), shape=(len(rows), len(self.lo)))
        return mat, np.array([rhs for _, rhs in rows], dtype=float)

    def peel(self) -> dict[Hashable, float]:
        """The differencing attacker: solve every equation left with a single unknown, repeat."""
        names = {j: n for n, j in self.index.items()}
        value: dict[int, float] = {j: lo for j, (lo, hi) in enumerate(zip(self.lo, self.hi, strict=True)) if lo == hi}
        changed = True
        while changed:
            changed = False
            for terms, rhs in self.eqs:
                unknown = [j for j in terms if j not in value]
                if len(unknown) != 1:
                    continue
                j = unknown[0]
                rest = sum(coef * value[k] for k, coef in terms.items() if k != j)
                value[j] = (rhs - rest) / terms[j]
                changed = True
        return {names[j]: v for j, v in value.items()}

    def interval(self, target: Mapping[Hashable, float] | Hashable, integral: bool = True) -> tuple[float, float]:
        """Min and max of a linear expression (a name, or {name: coef}) over what is known."""
        terms = target if isinstance(target, Mapping) else {target: 1.0}
        n = len(self.lo)
        c = np.zeros(n)
        for name, coef in terms.items():
            c[self.index[name]] += coef
        a_eq, b_eq = self._matrix(self.eqs)
        a_ub, b_ub = self._matrix(self.ubs)
        lo, hi = np.array(self.lo), np.array(self.hi)
        ints = np.array(self.integer, dtype=bool) if integral else np.zeros(n, dtype=bool)
        out = []
        for sign in (1.0, -1.0):
            if ints.any():
                constraints = []
                if len(b_eq):
                    constraints.append(LinearConstraint(a_eq, b_eq, b_eq))
                if len(b_ub):
                    constraints.append(LinearConstraint(a_ub, -np.inf, b_ub))
                res = milp(sign * c, constraints=constraints, integrality=ints.astype(int), bounds=Bounds(lo, hi))
                status = res.status
            else:
                kwargs: dict[str, object] = {"bounds": np.column_stack([lo, hi]), "method": "highs"}
                if len(b_eq):
                    kwargs["A_eq"], kwargs["b_eq"] = a_eq, b_eq
                if len(b_ub):
                    kwargs["A_ub"], kwargs["b_ub"] = a_ub, b_ub
                res = linprog(sign * c, **kwargs)
                status = res.status
            if status == 3 or (ints.any() and status == 4 and res.x is None):
                out.append(-np.inf if sign > 0 else np.inf)
                continue
            if res.x is None:
                raise RuntimeError(f"attacker's system is infeasible (status {status}): {res.message}")
            out.append(float(c @ res.x))
        return out[0], out[1]


# --------------------------------------------------------------------------- the table attacker


class TableAttacker:
    """Differencing and LP attacks on released cell tables (published values only)."""

    def __init__(
        self, *, thresholds: int | None = None, group_as_frequency: bool = True, n_public: bool = True
    ) -> None:
        self.k = LinearKnowledge()
        self.thresholds = thresholds
        self.group_as_frequency = group_as_frequency
        self.n_public = n_public
        self.releases: dict[str, pd.DataFrame] = {}

    def name(self, release: str, key: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        return (release, key)

    def add_release(
        self,
        release: str,
        cells: pd.DataFrame,
        *,
        margins: bool = True,
        hierarchy: bool = True,
        answers: bool = True,
        derived: bool = True,
        epci: bool = True,
    ) -> TableAttacker:
        """Read a release as published (values of non-``V`` cells are never looked at)."""
        frame = with_implicit_sums(publish(cells))
        self.releases[release] = frame
        year = int(pd.to_numeric(frame["year"]).iloc[0])
        add = frame[frame["statistic"].isin(ADDITIVE)]
        keys: dict[tuple[str, ...], pd.Series] = {}
        for _, row in add.iterrows():
            key = key_of(row)
            keys[key] = row
            integer = row["statistic"] in COUNT_LIKE
            self.k.var(self.name(release, key), 0.0, np.inf, integer)
            if row["status"] == "V":
                self.k.know(self.name(release, key), float(row["value"]))
            elif self.thresholds is not None and integer and row["status"] == "A":
                self._threshold_knowledge(self.name(release, key), row)
        if margins:
            self._margins(release, add)
        if hierarchy:
            self._hierarchy(release, add, keys)
        if answers:
            self._answers(release, add, keys, year)
        if derived:
            self._derived(release, frame, keys)
        if epci:
            self._epci(release, add, keys)
        return self

    def _threshold_knowledge(self, name: Hashable, row: pd.Series) -> None:
        """A15: status A is the frequency rule (1 … k − 1) or, with the same status, the group
        rule (0 or all the respondents ``n``): a disjunction, one binary per cell."""
        k = float(self.thresholds or 0) - 1.0
        if not self.group_as_frequency or row["statistic"] != "count" or pd.isna(row["n"]):
            self.k.bound(name, 1.0, k)
            return
        self.k.frequency_or_group({name: 1.0}, float(row["n"]), int(self.thresholds or 0), name)

    def _sum(self, parent: tuple, children: Iterable[tuple]) -> None:
        terms: dict[Hashable, float] = {parent: 1.0}
        for child in children:
            terms[child] = terms.get(child, 0.0) - 1.0
        self.k.equal(terms, 0.0)

    def _margins(self, release: str, add: pd.DataFrame) -> None:
        inner = add[add["breakdown"] != ""]
        for (var, stat, ans, level, terr, _bd), grp in inner.groupby(
            ["variable", "statistic", "answer", "level", "territory", "breakdown"]
        ):
            parent = (var, stat, ans, level, terr, "", "")
            if self.name(release, parent) in self.k.index:
                self._sum(self.name(release, parent), [self.name(release, key_of(r)) for _, r in grp.iterrows()])

    def _hierarchy(self, release: str, add: pd.DataFrame, keys: dict) -> None:
        deps = territories.departements()
        region_of = dict(zip(deps["code"], deps["region"], strict=True))
        children: dict[tuple, list[tuple]] = defaultdict(list)
        for key in keys:
            var, stat, ans, level, terr, bd, cat = key
            if level == "region":
                parent = (var, stat, ans, "national", "FR", bd, cat)
            elif level == "departement":
                parent = (var, stat, ans, "region", region_of.get(terr, "?"), bd, cat)
            else:
                continue
            if parent in keys:
                children[parent].append(key)
        for parent, kids in children.items():
            self._sum(self.name(release, parent), [self.name(release, k) for k in kids])

    def _answers(self, release: str, add: pd.DataFrame, keys: dict, year: int) -> None:
        counts = add[add["statistic"] == "count"]
        for (var, level, terr, bd, cat), grp in counts.groupby(
            ["variable", "level", "territory", "breakdown", "category"]
        ):
            resp = (var, "respondents", "", level, terr, bd, cat)
            if resp not in keys:
                continue
            for _, r in grp.iterrows():
                self.k.at_most({self.name(release, key_of(r)): 1.0, self.name(release, resp): -1.0})
            if question_type(var, year) in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
                self._sum(self.name(release, resp), [self.name(release, key_of(r)) for _, r in grp.iterrows()])

    def _derived(self, release: str, frame: pd.DataFrame, keys: dict) -> None:
        for _, row in frame.iterrows():
            var, stat, ans, level, terr, bd, cat = key_of(row)
            resp = (var, "respondents", "", level, terr, bd, cat)
            if self.n_public and pd.notna(row["n"]) and stat not in ("structures", "response_rate") and resp in keys:
                self.k.know(self.name(release, resp), float(row["n"]))
            if row["status"] != "V" or pd.isna(row["value"]):
                continue
            num = {
                "share": (var, "count", ans, level, terr, bd, cat),
                "mean": (var, "sum", "", level, terr, bd, cat),
            }.get(stat)
            if num is not None and num in keys and resp in keys:
                self.k.equal({self.name(release, num): 1.0, self.name(release, resp): -float(row["value"])})
            if stat == "median" and pd.notna(row["n"]) and 0 < row["n"] <= 2:
                s = (var, "sum", "", level, terr, bd, cat)
                if s in keys:
                    self.k.know(self.name(release, s), float(row["value"]) * float(row["n"]))

    def _epci(self, release: str, add: pd.DataFrame, keys: dict) -> None:
        epci_rows = add[add["level"] == "epci"]
        if epci_rows.empty:
            return
        links = territories.epci_departements()
        for (var, stat, ans, bd, cat), grp in epci_rows.groupby(
            ["variable", "statistic", "answer", "breakdown", "category"]
        ):
            present = set(grp["territory"])
            deps = set(links.loc[links["epci"].isin(present), "departement"])
            pairs = links[links["epci"].isin(present) | links["departement"].isin(deps)]
            part = {}
            for e, d in zip(pairs["epci"], pairs["departement"], strict=True):
                part[(e, d)] = self.k.var((release, "part", var, stat, ans, bd, cat, e, d))
                if e not in present:
                    self.k.know((release, "part", var, stat, ans, bd, cat, e, d), 0.0)
            for e in present:
                self._sum(
                    self.name(release, (var, stat, ans, "epci", e, bd, cat)),
                    [(release, "part", var, stat, ans, bd, cat, e2, d) for (e2, d) in part if e2 == e],
                )
            for d in deps:
                dk = (var, stat, ans, "departement", d, bd, cat)
                if dk in keys:
                    self._sum(
                        self.name(release, dk),
                        [(release, "part", var, stat, ans, bd, cat, e, d2) for (e, d2) in part if d2 == d],
                    )

    # -- links between releases (A5, A6, A7)
    def link_equal(self, release_a: str, release_b: str, keys: Iterable[tuple[str, ...]]) -> None:
        """The attacker assumes these cells have the same value in both releases."""
        for key in keys:
            a, b = self.name(release_a, key), self.name(release_b, key)
            if a in self.k.index and b in self.k.index:
                self.k.equal({a: 1.0, b: -1.0})

    def link_difference(
        self, release_a: str, release_b: str, keys: Iterable[tuple[str, ...]], unknown: Hashable
    ) -> None:
        """value_b − value_a = ``unknown`` (≥ 0) for these cells: one structure's contribution."""
        self.k.var(unknown)
        for key in keys:
            a, b = self.name(release_a, key), self.name(release_b, key)
            if a in self.k.index and b in self.k.index:
                self.k.equal({b: 1.0, a: -1.0, unknown: -1.0})

    def peel(self) -> dict[Hashable, float]:
        return self.k.peel()

    def recovered(self, release: str, key: tuple[str, ...]) -> float | None:
        return self.peel().get(self.name(release, key))

    def interval(self, release: str, key: tuple[str, ...], integral: bool = True) -> tuple[float, float]:
        return self.k.interval(self.name(release, key), integral=integral)


# --------------------------------------------------------------------------- the structure attacker


class StructureAttacker:
    """One unknown per structure (value, or 0/1 answer), each published cell a sum over the
    structures that the public directory puts in it (A8, A10, A11, A14, A15)."""

    def __init__(
        self,
        directory: pd.DataFrame,
        cells: pd.DataFrame,
        *,
        variable: str,
        year: int,
        breakdowns: Iterable[str],
        thresholds: int | None = None,
        n_public: bool = True,
    ) -> None:
        self.directory = directory.reset_index(drop=True)
        self.cells = publish(cells)
        self.variable = variable
        self.breakdowns = tuple(breakdowns)
        self.k = LinearKnowledge()
        codebook = load_codebook(year)
        q = codebook.question(variable)
        self.numeric = q.type.is_numeric
        self.answers = tuple(q.answer_codes) if not self.numeric else ("",)
        hi = float(q.maximum) if self.numeric and isinstance(q.maximum, int | float) else np.inf
        ids = self.directory["structure_id"].astype(str).tolist()
        for sid in ids:
            if self.numeric:
                self.k.var(("x", sid), 0.0, hi)
            else:
                for a in self.answers:
                    self.k.var(("y", sid, a), 0.0, 1.0, integer=True)
                if q.type is not QuestionType.MULTIPLE_CHOICE:
                    self.k.at_most({("y", sid, a): 1.0 for a in self.answers}, 1.0)
        self.thresholds = thresholds
        self._read(n_public)

    def members(self, level: str, territory: str, breakdown: str, category: str) -> list[str]:
        d = self.directory
        sel = np.ones(len(d), dtype=bool)
        if level != "national":
            sel &= (d[level].astype(str) == territory).to_numpy()
        if breakdown:
            sel &= (d[breakdown].astype(str) == category).to_numpy()
        return d.loc[sel, "structure_id"].astype(str).tolist()

    def expr(self, statistic: str, answer: str, members: list[str]) -> dict[Hashable, float]:
        if statistic == "sum":
            return {("x", s): 1.0 for s in members}
        if statistic == "count":
            return {("y", s, answer): 1.0 for s in members}
        if statistic == "respondents" and not self.numeric:
            return {("y", s, a): 1.0 for s in members for a in self.answers}
        return {}

    def _read(self, n_public: bool) -> None:
        cells = self.cells[self.cells["variable"] == self.variable]
        for _, row in cells.iterrows():
            stat = row["statistic"]
            members = self.members(row["level"], row["territory"], row["breakdown"], row["category"])
            if n_public and pd.notna(row["n"]) and not self.numeric and stat not in ("structures", "response_rate"):
                resp = self.expr("respondents", "", members)
                if resp:
                    self.k.equal(resp, float(row["n"]))
            published = row["status"] == "V" and pd.notna(row["value"])
            value = float(row["value"]) if published else None
            if stat in ("sum", "count"):
                e = self.expr(stat, row["answer"], members)
                if published:
                    self.k.equal(e, value)
                elif self.thresholds is not None and row["status"] == "A" and stat == "count" and e:
                    self.k.frequency_or_group(e, float(row["n"]), self.thresholds, key_of(row))
            elif published and stat == "share" and pd.notna(row["n"]):
                self.k.equal(self.expr("count", row["answer"], members), value * float(row["n"]))
            elif published and stat == "mean" and pd.notna(row["n"]):
                self.k.equal(self.expr("sum", "", members), value * float(row["n"]))

    def insider(self, structure_id: str, value: float | str) -> None:
        """A structure knows its own answer."""
        if self.numeric:
            self.k.know(("x", structure_id), float(value))
        else:
            for a in self.answers:
                self.k.know(("y", structure_id, a), 1.0 if a == value else 0.0)

    def cell_interval(
        self, statistic: str, level: str, territory: str, breakdown: str = "", category: str = "", answer: str = ""
    ) -> tuple[float, float]:
        members = self.members(level, territory, breakdown, category)
        return self.k.interval(self.expr(statistic, answer, members))

    def structure_interval(self, structure_id: str, answer: str = "") -> tuple[float, float]:
        name = ("x", structure_id) if self.numeric else ("y", structure_id, answer)
        return self.k.interval(name)


# --------------------------------------------------------------------------- specific attacks


def dominated_unions(
    cells: pd.DataFrame, microdata: pd.DataFrame, variable: str, *, k: float = 85.0, p: float = 10.0
) -> list[dict[str, object]]:
    """A11: unions of suppressed cells whose total the published margins give exactly (a total
    minus its published categories), and that are dominated by one structure ((1,k) or p %)."""
    frame = publish(cells)
    frame = frame[(frame["variable"] == variable) & (frame["statistic"] == "sum")]
    values = pd.to_numeric(microdata["value"], errors="coerce").fillna(0.0)
    found = []
    for (level, terr, bd), grp in frame[frame["breakdown"] != ""].groupby(["level", "territory", "breakdown"]):
        total = frame[(frame["level"] == level) & (frame["territory"] == terr) & (frame["breakdown"] == "")]
        if total.empty or total["status"].iloc[0] != "V":
            continue
        hidden = grp[grp["status"] != "V"]
        if len(hidden) < 2:
            continue
        cats = set(hidden["category"])
        sel = np.array(microdata[bd].astype(str).isin(cats), dtype=bool)
        if level != "national":
            sel = sel & np.array(microdata[level].astype(str) == terr, dtype=bool)
        contrib = np.sort(values[sel].to_numpy())[::-1]
        union = float(contrib.sum())
        if union <= 0 or len(contrib) == 0:
            continue
        x1 = contrib[0]
        x2 = contrib[1] if len(contrib) > 1 else 0.0
        if x1 > k / 100 * union or union - x1 - x2 < p / 100 * x1:
            found.append(
                {
                    "level": level,
                    "territory": terr,
                    "breakdown": bd,
                    "categories": sorted(cats),
                    "union": union,
                    "x1": float(x1),
                }
            )
    return found
