"""Planted incoherences and their ground truth.

About ``calibration.PLANT_RATE`` of the respondents of a year get exactly one incoherence of one
of the families below; each is recorded with the variables it involves. A planted value always
stays inside the codebook's valid range, so that the file imports cleanly, and is built so that
it triggers its own family only (see ``docs/synthetic-data.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from senacs_workbench.core.codebook import YES, Codebook
from senacs_workbench.demo.synthetic import calibration as cal
from senacs_workbench.demo.synthetic.answers import AGE_COLUMNS, Values, split_amount
from senacs_workbench.demo.synthetic.universe import allocate

BLOCKING_FAMILIES = frozenset({"etp_superieur_salaries", "evolution_annuelle", "valeur_aberrante"})
"""Families that distort the budget or the headcount: the structure skips the next campaign, so
that next year's comparison with the distorted value does not show a second, unplanted change."""

MIN_PEERS = 6
"""valeur_aberrante is planted only where the département × type has at least this many
respondents with a budget and an FTE (so a robust score among peers is meaningful)."""


@dataclass(frozen=True)
class Plant:
    row: int
    family: str
    variables: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Context:
    """What the planting needs to know about the rows of the year (aligned arrays)."""

    respondent: np.ndarray
    dominant: np.ndarray
    prev_visible: np.ndarray  # answered the previous campaign, and that year is in the output
    planted_prev: np.ndarray
    budget_prev: np.ndarray
    salaries_prev: np.ndarray
    departement: np.ndarray
    type: np.ndarray
    evolution_allowed: bool


def _answered(values: Values, name: str) -> np.ndarray:
    column = values[name]
    if column.dtype.kind == "f":
        return ~np.isnan(column)
    return np.array([v is not None for v in column], dtype=bool)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


class Planter:
    def __init__(self, values: Values, ctx: Context, codebook: Codebook, rng: np.random.Generator) -> None:
        self.v = values
        self.ctx = ctx
        self.cb = codebook
        self.rng = rng
        self.n = len(ctx.respondent)
        self.triple_factor = rng.uniform(3.1, 3.8, self.n)

    def maximum(self, question: str) -> float:
        value = self.cb.question(question).maximum
        return float(value) if isinstance(value, int | float) else np.inf

    # ---------------------------------------------------------------- etp > salaries
    def etp_candidates(self) -> np.ndarray:
        s, e = self.v["salaries"], self.v["etp"]
        ref = np.fmax(s, self.ctx.salaries_prev)
        new = np.maximum(1, np.ceil(0.6 * ref))
        return _answered(self.v, "etp") & (e >= new + 0.5) & (new < s)

    def etp_apply(self, rows: np.ndarray) -> list[Plant]:
        s, e = self.v["salaries"], self.v["etp"]
        ref = np.fmax(s, self.ctx.salaries_prev)
        out = []
        for i in rows:
            new = max(1.0, np.ceil(0.6 * ref[i]))
            desc = f"etp {_fmt(e[i])} > salaries {int(new)} (headcount entered as {int(new)} instead of {int(s[i])})"
            s[i] = new
            out.append(Plant(i, "etp_superieur_salaries", ("etp", "salaries"), desc))
        return out

    # ---------------------------------------------------------------- age bands
    def age_candidates(self) -> np.ndarray:
        return np.logical_and.reduce([_answered(self.v, c) for c in AGE_COLUMNS])

    def age_apply(self, rows: np.ndarray) -> list[Plant]:
        parts = np.column_stack([self.v[c] for c in AGE_COLUMNS])
        out = []
        for i in rows:
            if self.rng.random() < 0.5:
                j = int(np.argmax(parts[i]))
                how = f"{AGE_COLUMNS[j]} left at 0 instead of {_fmt(parts[i, j])}"
                self.v[AGE_COLUMNS[j]][i] = 0.0
            else:
                small = np.flatnonzero(parts[i] <= 60)  # never empty: the smallest share is <= 25
                j = int(small[self.rng.integers(0, small.size)])
                bump = float(np.round(self.rng.uniform(15, 40), 1))
                how = f"{AGE_COLUMNS[j]} entered as {_fmt(parts[i, j] + bump)} instead of {_fmt(parts[i, j])}"
                self.v[AGE_COLUMNS[j]][i] = np.round(parts[i, j] + bump, 1)
            total = sum(self.v[c][i] for c in AGE_COLUMNS)
            out.append(Plant(i, "tranches_age", AGE_COLUMNS, f"age shares sum to {_fmt(total)} %: {how}"))
        return out

    # ---------------------------------------------------------------- funding vs budget
    def funding_candidates(self) -> np.ndarray:
        ok = np.logical_and.reduce([_answered(self.v, c) for c in cal.FUNDING_SOURCES])
        largest = np.max(np.column_stack([np.nan_to_num(self.v[c]) for c in cal.FUNDING_SOURCES]), axis=1)
        return ok & (largest >= 0.2 * self.v["budget_total"]) & (self.v["budget_total"] > 0)

    def funding_apply(self, rows: np.ndarray) -> list[Plant]:
        amounts = np.column_stack([self.v[c] for c in cal.FUNDING_SOURCES])
        budget = self.v["budget_total"]
        variables = ("budget_total", *cal.FUNDING_SOURCES)
        out = []
        for i in rows:
            extra = float(np.round(budget[i] * self.rng.uniform(0.2, 0.5)))
            target = next(
                (
                    s
                    for s in ("financement_autres", "financement_communes", "financement_caf")
                    if self.v[s][i] + extra <= self.maximum(s)
                ),
                None,
            )
            if self.rng.random() < 0.5 or target is None:
                j = int(np.argmax(amounts[i]))
                how = f"{cal.FUNDING_SOURCES[j]} left at 0 instead of {int(amounts[i, j])}"
                self.v[cal.FUNDING_SOURCES[j]][i] = 0.0
            else:
                how = f"{target} overstated: {int(self.v[target][i] + extra)} instead of {int(self.v[target][i])}"
                self.v[target][i] += extra
            total = sum(self.v[c][i] for c in cal.FUNDING_SOURCES)
            gap = (total - budget[i]) / budget[i] * 100
            desc = f"funding sum {int(total)} vs budget_total {int(budget[i])} ({gap:+.0f} %): {how}"
            out.append(Plant(i, "financements_budget", variables, desc))
        return out

    # ---------------------------------------------------------------- volunteers
    def volunteer_candidates(self) -> np.ndarray:
        act = self.v["benevoles_activite"]
        cap = self.maximum("benevoles_instances")
        return _answered(self.v, "benevoles_activite") & _answered(self.v, "benevoles_instances") & (act <= cap - 3)

    def volunteer_apply(self, rows: np.ndarray) -> list[Plant]:
        act, inst = self.v["benevoles_activite"], self.v["benevoles_instances"]
        cap = self.maximum("benevoles_instances")
        out = []
        for i in rows:
            new = min(cap, act[i] + int(self.rng.integers(2, max(3, int(act[i] // 2) + 3))))
            desc = f"benevoles_instances {int(new)} > benevoles_activite {int(act[i])} (was {int(inst[i])})"
            inst[i] = new
            out.append(Plant(i, "benevoles_instances", ("benevoles_instances", "benevoles_activite"), desc))
        return out

    # ---------------------------------------------------------------- action without participants
    def _action_pairs(self) -> np.ndarray:
        return np.column_stack(
            [
                _answered(self.v, f"actions_{x}") & _answered(self.v, f"participants_{x}")
                for x in cal.PARTICIPANT_ACTIONS
            ]
        )

    def action_candidates(self) -> np.ndarray:
        return np.asarray(self._action_pairs().any(axis=1))

    def action_apply(self, rows: np.ndarray) -> list[Plant]:
        pairs = self._action_pairs()
        out = []
        for i in rows:
            options = np.flatnonzero(pairs[i])
            x = cal.PARTICIPANT_ACTIONS[int(options[self.rng.integers(0, options.size)])]
            action, part = f"actions_{x}", f"participants_{x}"
            if self.v[action][i] == YES:
                desc = f"{action} = Oui but {part} = 0 (was {int(self.v[part][i])})"
                self.v[part][i] = 0.0
            else:
                count = float(self.rng.integers(5, 61))
                desc = f"{action} = Non but {part} = {int(count)}"
                self.v[part][i] = count
            out.append(Plant(i, "action_sans_participants", (action, part), desc))
        return out

    # ---------------------------------------------------------------- year-over-year jump
    def _evolution_base(self) -> np.ndarray:
        ctx = self.ctx
        return ctx.prev_visible & ~ctx.planted_prev & ~np.isnan(ctx.budget_prev) & ctx.evolution_allowed

    def _halving(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        prev = self.ctx.salaries_prev
        hi = np.floor(0.5 * np.nan_to_num(prev))
        lo = np.maximum(1.0, np.ceil(np.nan_to_num(self.v["etp"], nan=0.0)))
        return (np.nan_to_num(prev) >= 4) & (lo <= hi), lo, hi

    def _tripling(self) -> tuple[np.ndarray, np.ndarray]:
        new_budget = np.round(np.nan_to_num(self.ctx.budget_prev) * self.triple_factor)
        ok = new_budget <= self.maximum("budget_total")
        shares = np.column_stack([np.nan_to_num(self.v[c]) for c in cal.FUNDING_SOURCES])
        scaled = split_amount(new_budget, shares / np.maximum(shares.sum(axis=1, keepdims=True), 1))
        for j, source in enumerate(cal.FUNDING_SOURCES):
            ok &= scaled[:, j] <= self.maximum(source)
        return ok, new_budget

    def halving_candidates(self) -> np.ndarray:
        return self._evolution_base() & self._halving()[0]

    def tripling_candidates(self) -> np.ndarray:
        return self._evolution_base() & self._tripling()[0]

    def halving_apply(self, rows: np.ndarray) -> list[Plant]:
        _, lo, hi = self._halving()
        prev_s = self.ctx.salaries_prev
        out = []
        for i in rows:
            new = float(self.rng.integers(int(lo[i]), int(hi[i]) + 1))
            desc = (
                f"salaries {int(new)} vs {int(prev_s[i])} the previous year "
                f"(÷{prev_s[i] / new:.1f}) while the budget and the FTE are stable"
            )
            self.v["salaries"][i] = new
            out.append(Plant(i, "evolution_annuelle", ("salaries",), desc))
        return out

    def tripling_apply(self, rows: np.ndarray) -> list[Plant]:
        _, new_budget = self._tripling()
        prev_b = self.ctx.budget_prev
        funded = _answered(self.v, "financement_caf")
        out = []
        for i in rows:
            budget = self.v["budget_total"][i]
            if funded[i]:
                amounts = np.array([self.v[c][i] for c in cal.FUNDING_SOURCES])
                scaled = split_amount(np.array([new_budget[i]]), (amounts / amounts.sum())[None, :])[0]
                for j, source in enumerate(cal.FUNDING_SOURCES):
                    self.v[source][i] = scaled[j]
            self.v["budget_total"][i] = new_budget[i]
            self.v["etp"][i] = np.nan
            desc = (
                f"budget_total {int(new_budget[i])} vs {int(prev_b[i])} the previous year "
                f"(×{new_budget[i] / prev_b[i]:.1f}, instead of {int(budget)}) while the headcount is stable"
            )
            out.append(Plant(i, "evolution_annuelle", ("budget_total",), desc))
        return out

    # ---------------------------------------------------------------- typing error (×10)
    def outlier_candidates(self) -> np.ndarray:
        ctx = self.ctx
        ok = ~ctx.prev_visible & _answered(self.v, "etp") & (self.v["etp"] > 0)
        ok &= np.logical_and.reduce([_answered(self.v, c) for c in cal.FUNDING_SOURCES])
        ok &= self.v["budget_total"] * 10 <= self.maximum("budget_total")
        for source in cal.FUNDING_SOURCES:
            ok &= np.nan_to_num(self.v[source]) * 10 <= self.maximum(source)
        group = np.char.add(ctx.departement.astype(str), ctx.type.astype(str))
        measurable = ctx.respondent & _answered(self.v, "etp")
        keys, inverse = np.unique(group, return_inverse=True)
        peers = np.bincount(inverse[measurable], minlength=len(keys))[inverse]
        return ok & (peers >= MIN_PEERS)

    def outlier_apply(self, rows: np.ndarray) -> list[Plant]:
        out = []
        for i in rows:
            budget = self.v["budget_total"][i]
            self.v["budget_total"][i] = budget * 10
            for source in cal.FUNDING_SOURCES:
                self.v[source][i] *= 10
            per_fte = budget * 10 / self.v["etp"][i]
            per_fte_text = f"{per_fte:,.0f}".replace(",", " ")
            desc = (
                f"budget_total entered as {int(budget * 10)} instead of {int(budget)} (extra zero, funding "
                f"sources too): {per_fte_text} € per FTE"
            )
            out.append(Plant(i, "valeur_aberrante", ("budget_total", "etp"), desc))
        return out

    # ---------------------------------------------------------------- driver
    def run(self) -> list[Plant]:
        Variant = tuple[Callable[[], np.ndarray], Callable[[np.ndarray], list[Plant]]]
        families: dict[str, tuple[Variant, ...]] = {
            "etp_superieur_salaries": ((self.etp_candidates, self.etp_apply),),
            "tranches_age": ((self.age_candidates, self.age_apply),),
            "financements_budget": ((self.funding_candidates, self.funding_apply),),
            "benevoles_instances": ((self.volunteer_candidates, self.volunteer_apply),),
            "action_sans_participants": ((self.action_candidates, self.action_apply),),
            # half headcount halvings, half budget jumps (the second variant fills any shortfall)
            "evolution_annuelle": (
                (self.halving_candidates, self.halving_apply),
                (self.tripling_candidates, self.tripling_apply),
            ),
            "valeur_aberrante": ((self.outlier_candidates, self.outlier_apply),),
        }
        applicable = [f for f in cal.FAMILIES if f != "evolution_annuelle" or self.ctx.evolution_allowed]
        eligible = self.ctx.respondent & ~self.ctx.dominant
        total = round(cal.PLANT_RATE * int(self.ctx.respondent.sum()))
        order = self.rng.permutation(len(applicable))  # which families get the remainder
        quota = dict(
            zip([applicable[k] for k in order], allocate(total, np.ones(len(applicable))), strict=True)
        )
        taken = np.zeros(self.n, dtype=bool)
        plants: list[Plant] = []
        for family in applicable:
            variants = families[family]
            left = int(quota[family])
            for v, (candidates_of, apply) in enumerate(variants):
                share = left if v == len(variants) - 1 else (left + int(self.rng.integers(0, 2))) // 2
                pool = np.flatnonzero(candidates_of() & eligible & ~taken)
                k = min(share, pool.size)
                if k == 0:
                    continue
                rows = np.sort(self.rng.choice(pool, size=k, replace=False))
                taken[rows] = True
                plants.extend(apply(rows))
                left -= k
        # a family short of candidates (small scales): the other families make up the rate
        shortfall = total - len(plants)
        while shortfall > 0:
            progress = False
            for k in order:
                for candidates_of, apply in families[applicable[k]]:
                    pool = np.flatnonzero(candidates_of() & eligible & ~taken)
                    if shortfall > 0 and pool.size:
                        row = np.array([self.rng.choice(pool)])
                        taken[row] = True
                        plants.extend(apply(row))
                        shortfall -= 1
                        progress = True
                        break
            if not progress:
                break
        return sorted(plants, key=lambda p: p.row)


def plant(values: Values, ctx: Context, codebook: Codebook, rng: np.random.Generator) -> list[Plant]:
    """Plant the year's incoherences in ``values`` (modified in place); return the ground truth."""
    return Planter(values, ctx, codebook, rng).run()
