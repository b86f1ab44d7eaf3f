"""The synthetic universe: départements, structures, their identity and their latent traits.

A :class:`Structures` table holds every structure ever created (entrants are appended), one
numpy array per column. Identity columns never change; latent columns drive the yearly answers
(``answers.py``) and carry the state of the year-over-year processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from senacs_workbench.core import territories
from senacs_workbench.demo.synthetic import calibration as cal
from senacs_workbench.demo.synthetic.names import make_names

MODES = ("associatif", "collectivite", "caf", "autre")
QPV_CODES = ("qpv", "proximite", "non_concerne")
TAILLE_CODES = ("quartier", "quartiers", "commune", "communes")


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def allocate(total: int, weights: np.ndarray, minimum: np.ndarray | int = 0) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder), each at least
    ``minimum`` (the minimum is dropped if it cannot be met)."""
    weights = np.asarray(weights, dtype=float)
    base = np.broadcast_to(np.asarray(minimum, dtype=np.int64), weights.shape).copy()
    if base.sum() > total:
        base[:] = 0
    rest = total - int(base.sum())
    if rest <= 0 or weights.sum() <= 0:
        return base
    quota = rest * weights / weights.sum()
    whole = np.floor(quota).astype(np.int64)
    left = rest - int(whole.sum())
    order = np.argsort(-(quota - whole), kind="stable")
    whole[order[:left]] += 1
    return base + whole


# ---------------------------------------------------------------------------------- départements
@dataclass(frozen=True)
class Departements:
    """One row per département, with the département-level parameters drawn from the seed."""

    codes: np.ndarray  # str
    population: np.ndarray
    urbanity: np.ndarray  # share of inhabitants in communes of >= 10 000 inhabitants
    weight: dict[str, np.ndarray]  # by type of structure
    mode_probs: dict[str, np.ndarray]  # (n_dep, 4) by type
    urban_prob: dict[str, np.ndarray]  # by type
    response_rate: np.ndarray
    provenance_probs: np.ndarray  # (n_dep, 3): centre, caf, federation
    communes: dict[str, pd.DataFrame]  # by département: code, nom, population

    def index(self, codes: np.ndarray) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.codes)}
        return np.fromiter((lookup[c] for c in codes), dtype=np.int64, count=len(codes))


def build_departements(rng: np.random.Generator) -> Departements:
    deps = territories.departements().sort_values("code", kind="stable").reset_index(drop=True)
    communes = territories.communes()
    pop = communes.groupby("departement")["population"].sum()
    big = communes[communes.population >= 10_000].groupby("departement")["population"].sum()
    codes = deps["code"].to_numpy(dtype=object)
    population = pop.reindex(codes).fillna(0).to_numpy(dtype=float)
    urbanity = (big.reindex(codes).fillna(0).to_numpy(dtype=float) / np.maximum(population, 1.0)).clip(
        0.02, 0.98
    )
    n = len(codes)
    override = np.array([cal.DEPARTEMENT_WEIGHT_OVERRIDES.get(c, 1.0) for c in codes])
    effect_cs = np.exp(rng.normal(0.0, cal.DEPARTEMENT_EFFECT_SIGMA, n))
    effect_evs = np.exp(rng.normal(0.0, cal.DEPARTEMENT_EFFECT_SIGMA * 1.3, n))
    base = population**cal.DEPARTEMENT_EXPONENT * override
    weight = {
        "CS": base * (0.6 + urbanity) * effect_cs,
        "EVS": base * (1.6 - urbanity) * effect_evs,
    }
    mode_probs = {}
    for kind in ("CS", "EVS"):
        alpha = np.array([cal.MODE_SHARES[kind][m] for m in MODES]) * cal.MODE_CONCENTRATION[kind]
        mode_probs[kind] = rng.dirichlet(alpha, size=n)
    urban_prob = {}
    for kind in ("CS", "EVS"):
        slope = cal.URBAN_SLOPE * (urbanity - urbanity.mean())
        w = weight[kind] / weight[kind].sum()
        lo, hi = -10.0, 10.0
        for _ in range(60):  # bisection on the intercept: weighted mean = national target
            mid = (lo + hi) / 2
            if float((w * logistic(mid + slope)).sum()) < cal.URBAN_SHARE[kind]:
                lo = mid
            else:
                hi = mid
        urban_prob[kind] = logistic((lo + hi) / 2 + slope)
    response_rate = rng.uniform(*cal.RESPONSE_RATE_RANGE, n)
    prov_alpha = np.array(list(cal.PROVENANCE_ROW.values())) * 20.0
    provenance_probs = rng.dirichlet(prov_alpha, size=n)
    by_dep = {
        code: frame[["code", "nom", "population"]].reset_index(drop=True)
        for code, frame in communes.groupby("departement", sort=True)
    }
    return Departements(
        codes=codes,
        population=population,
        urbanity=urbanity,
        weight=weight,
        mode_probs=mode_probs,
        urban_prob=urban_prob,
        response_rate=response_rate,
        provenance_probs=provenance_probs,
        communes=by_dep,
    )


# ---------------------------------------------------------------------------------- structures
@dataclass
class Structures:
    """Column store of every structure ever created; row i has id ``S{i+1:06d}``."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.cols["id"]) if self.cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self.cols[name] = value

    def append(self, new: dict[str, np.ndarray]) -> None:
        if not self.cols:
            self.cols = new
            return
        for key, value in new.items():
            self.cols[key] = np.concatenate([self.cols[key], value])


def _choose_communes(
    rng: np.random.Generator, deps: Departements, dep_codes: np.ndarray, urban: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(dep_codes)
    code = np.empty(n, dtype=object)
    name = np.empty(n, dtype=object)
    pop = np.zeros(n)
    for dep in sorted(set(dep_codes)):
        table = deps.communes[dep]
        cpop = table["population"].to_numpy(dtype=float)
        for is_urban in (True, False):
            rows = np.flatnonzero((dep_codes == dep) & (urban == is_urban))
            if rows.size == 0:
                continue
            if is_urban:
                cand = np.flatnonzero(cpop >= 10_000)
                if cand.size == 0:
                    cand = np.argsort(-cpop, kind="stable")[:3]
                w = cpop[cand]
            else:
                cand = np.flatnonzero(cpop < 5_000)
                if cand.size == 0:
                    cand = np.arange(len(cpop))
                w = np.sqrt(cpop[cand]) + 1.0
            chosen = cand[rng.choice(cand.size, size=rows.size, p=w / w.sum())]
            code[rows] = table["code"].to_numpy(dtype=object)[chosen]
            name[rows] = table["nom"].to_numpy(dtype=object)[chosen]
            pop[rows] = cpop[chosen]
    return code, name, pop


def _categorical(rng: np.random.Generator, probs: np.ndarray, codes: tuple[str, ...]) -> np.ndarray:
    """One draw per row of ``probs`` (n, k)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(probs))[:, None]
    return np.asarray(codes, dtype=object)[(u > cum).sum(axis=1)]


def new_structures(
    rng: np.random.Generator,
    deps: Departements,
    universe: Structures,
    dep_codes: np.ndarray,
    kinds: np.ndarray,
    year: int,
    initial: bool,
) -> dict[str, np.ndarray]:
    """Identity and latent traits of ``len(dep_codes)`` new structures (invited from ``year``)."""
    n = len(dep_codes)
    start = len(universe)
    di = deps.index(dep_codes)
    is_cs = kinds == "CS"
    new: dict[str, np.ndarray] = {
        "id": np.array([f"S{start + i + 1:06d}" for i in range(n)], dtype=object),
        "departement": dep_codes.astype(object),
        "type": kinds.astype(object),
        "first_year": np.full(n, year),
    }
    # management mode, territory, QPV, size of territory
    mode_p = np.where(is_cs[:, None], deps.mode_probs["CS"][di], deps.mode_probs["EVS"][di])
    new["mode"] = _categorical(rng, mode_p, MODES)
    p_urban = np.where(is_cs, deps.urban_prob["CS"][di], deps.urban_prob["EVS"][di])
    urban = rng.random(n) < p_urban
    new["territoire"] = np.where(urban, "urbain", "rural").astype(object)
    qpv_p = np.array([cal.QPV_PROBS[(k, t)] for k, t in zip(kinds, new["territoire"], strict=True)])
    qpv_p = qpv_p.reshape(n, 3)
    new["qpv"] = _categorical(rng, qpv_p, QPV_CODES)
    taille_p = np.array([cal.TAILLE_PROBS[t] for t in new["territoire"]]).reshape(n, 4)
    new["taille"] = _categorical(rng, taille_p, TAILLE_CODES)
    for question, probs in cal.IDENTITY_YES.items():
        p = np.where(is_cs, probs["CS"], probs["EVS"])
        if question == "adherent_federation":
            p = np.where(new["mode"] == "associatif", p, p * 0.45)
        new[question] = rng.random(n) < p
    # first agrément: spread over the past for the initial stock, two years ago for entrants
    if initial:
        lo = np.where(is_cs, cal.AGREMENT_YEARS["CS"][0], cal.AGREMENT_YEARS["EVS"][0])
        hi = np.where(is_cs, cal.AGREMENT_YEARS["CS"][1], cal.AGREMENT_YEARS["EVS"][1])
        hi = np.minimum(hi, year - 2)
        agr_year = np.floor(lo + (hi - lo + 1) * rng.beta(1.3, 1.0, n)).astype(int).clip(lo, hi)
    else:
        agr_year = np.full(n, year - 2)
    jan1 = (agr_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    length = ((agr_year - 1969).astype("datetime64[Y]").astype("datetime64[D]") - jan1).astype(np.int64)
    new["agrement"] = jan1 + np.floor(rng.random(n) * length).astype(np.int64).astype("timedelta64[D]")
    # commune and name
    code, cname, _ = _choose_communes(rng, deps, new["departement"], urban)
    new["commune"] = code
    new["nom"] = np.array(make_names(rng, kinds, cname, universe.used_names), dtype=object)
    median_zone = np.where(urban, 12_000.0, 9_000.0) * np.where(is_cs, 1.0, 0.6)
    zone = median_zone * np.exp(rng.normal(0.0, 0.6, n))
    new["population_zone"] = (np.round(zone.clip(800, 80_000) / 10) * 10).astype(float)
    # latent traits
    mult = np.ones(n)
    mult[~urban] *= cal.BUDGET_MULTIPLIERS["rural"]
    mult[new["qpv"] == "qpv"] *= cal.BUDGET_MULTIPLIERS["qpv"]
    mult[new["mode"] == "collectivite"] *= cal.BUDGET_MULTIPLIERS["collectivite"]
    mult[new["mode"] == "caf"] *= cal.BUDGET_MULTIPLIERS["caf"]
    sigma = np.where(is_cs, cal.BUDGET_CS_SIGMA, cal.BUDGET_EVS_SIGMA)
    median = np.where(
        is_cs, cal.BUDGET_CS_MEAN * np.exp(-(cal.BUDGET_CS_SIGMA**2) / 2) / CS_MULTIPLIER_MEAN, cal.BUDGET_EVS_MEDIAN
    )
    b0 = median * mult * np.exp(rng.normal(0.0, 1.0, n) * sigma)
    b0 = np.where(is_cs, b0.clip(*cal.BUDGET_CS_CLIP), b0.clip(cal.BUDGET_EVS_CLIP[0], cal.BUDGET_EVS_CLIP[1] * 0.92))
    # b0 is the budget of the base year's level; growth is applied from BASE_YEAR
    new["b0"] = b0
    spread = cal.BUDGET_PER_FTE_SPREAD
    new["bpf0"] = (cal.BUDGET_PER_FTE_MEDIAN * np.exp(rng.uniform(-spread, spread, n))).clip(
        *cal.BUDGET_PER_FTE_CLIP
    )
    lo_r, hi_r = cal.ETP_RATIO_RANGE
    new["r0"] = lo_r + (hi_r - lo_r) * rng.beta(*cal.ETP_RATIO_BETA, n)
    new["propensity"] = rng.normal(0.0, cal.RESPONSE_PROPENSITY_SIGMA, n)
    new["dominant"] = np.zeros(n, dtype=bool)
    new["age_base"] = rng.dirichlet(np.array(cal.AGE_SHARES) / 100 * cal.AGE_CONCENTRATION, size=n)
    shares = np.empty((n, len(cal.FUNDING_SOURCES)))
    for kind in ("CS", "EVS"):
        rows = kinds == kind
        shares[rows] = rng.dirichlet(np.array(cal.FUNDING_SHARES[kind]) * cal.FUNDING_CONCENTRATION, rows.sum())
    src = {s: i for i, s in enumerate(cal.FUNDING_SOURCES)}
    shares[new["mode"] == "collectivite", src["financement_communes"]] *= 1.6
    shares[new["mode"] == "caf", src["financement_caf"]] *= 1.6
    for source, prob in cal.FUNDING_ZERO_PROB.items():
        shares[rng.random(n) < prob, src[source]] = 0.0
    new["funding_base"] = shares / shares.sum(axis=1, keepdims=True)
    new["action_u"] = rng.random((n, len(cal.ACTION_YES)))
    # persistent structure effects, log-normal with mean 1
    new["people_eff"] = np.exp(rng.normal(-(0.25**2) / 2, 0.25, n))
    new["volunteer_eff"] = np.exp(rng.normal(-(0.5**2) / 2, 0.5, n))
    new["governance_eff"] = np.exp(rng.normal(-(0.4**2) / 2, 0.4, n))
    # year-over-year state (NaN / False = no previous value)
    new["x"] = rng.normal(0.0, cal.BUDGET_SHOCK_SIGMA / np.sqrt(1 - cal.BUDGET_AR**2), n)
    new["budget_prev"] = np.full(n, np.nan)
    new["salaries_prev"] = np.full(n, np.nan)
    new["responded_prev"] = np.zeros(n, dtype=bool)
    new["planted_prev"] = np.zeros(n, dtype=bool)
    new["blocked_next"] = np.zeros(n, dtype=bool)
    new["alive"] = np.ones(n, dtype=bool)
    return new


def _cs_multiplier_mean() -> float:
    """Mean of the CS budget multipliers under the calibrated shares (so the CS mean stays on target)."""
    p_rural = 1 - cal.URBAN_SHARE["CS"]
    p_qpv = cal.URBAN_SHARE["CS"] * cal.QPV_PROBS[("CS", "urbain")][0] + p_rural * cal.QPV_PROBS[("CS", "rural")][0]
    m = cal.MODE_SHARES["CS"]
    territory = (1 - p_rural) + p_rural * cal.BUDGET_MULTIPLIERS["rural"]
    qpv = (1 - p_qpv) + p_qpv * cal.BUDGET_MULTIPLIERS["qpv"]
    mode = (
        m["associatif"]
        + m["autre"]
        + m["collectivite"] * cal.BUDGET_MULTIPLIERS["collectivite"]
        + m["caf"] * cal.BUDGET_MULTIPLIERS["caf"]
    )
    return territory * qpv * mode


CS_MULTIPLIER_MEAN = _cs_multiplier_mean()


def initial_population(
    rng: np.random.Generator, deps: Departements, year: int, scale: float
) -> tuple[Structures, np.ndarray]:
    """The structures invited in the first simulated year, with the dominant CS marked."""
    counts = target_counts(deps, year, scale)
    dep_codes = np.concatenate([np.repeat(deps.codes, counts["CS"]), np.repeat(deps.codes, counts["EVS"])])
    kinds = np.concatenate(
        [np.full(int(counts["CS"].sum()), "CS", dtype=object), np.full(int(counts["EVS"].sum()), "EVS", dtype=object)]
    )
    order = rng.permutation(len(dep_codes))  # ids do not encode the département
    universe = Structures()
    universe.append(new_structures(rng, deps, universe, dep_codes[order], kinds[order], year, initial=True))
    _mark_dominant(rng, universe, scale)
    return universe, counts["CS"] + counts["EVS"]


def target_counts(deps: Departements, year: int, scale: float) -> dict[str, np.ndarray]:
    """Structures per département and type for ``year`` (exact national totals)."""
    out = {}
    for kind, table in (("CS", cal.CS_COUNTS), ("EVS", cal.EVS_COUNTS)):
        years = sorted(table)
        total = float(np.interp(year, years, [table[y] for y in years]))
        n = max(1, round(total * scale))
        minimum = cal.MIN_CS_PER_DEPARTEMENT if kind == "CS" and n >= 3 * len(deps.codes) else 0
        out[kind] = allocate(n, deps.weight[kind], minimum)
    empty = (out["CS"] + out["EVS"]) == 0
    if empty.any():  # small scales: every département keeps at least one structure
        out["CS"] = out["CS"] + empty
    return out


def _mark_dominant(rng: np.random.Generator, universe: Structures, scale: float) -> None:
    n_dom = max(1, round(cal.DOMINANT_COUNT * scale))
    is_cs = universe["type"] == "CS"
    deps, counts = np.unique(universe["departement"][is_cs], return_counts=True)
    eligible = deps[(counts >= 3) & (counts <= 12)]
    if eligible.size < n_dom:
        eligible = deps[counts >= min(2, counts.max())]
    chosen_deps = rng.choice(eligible, size=min(n_dom, eligible.size), replace=False)
    for dep in sorted(chosen_deps):
        rows = np.flatnonzero(is_cs & (universe["departement"] == dep))
        star = rows[rng.integers(0, rows.size)]
        others = rows[rows != star]
        ref = float(np.median(universe["b0"][others])) if others.size else float(universe["b0"][star])
        factor = rng.uniform(*cal.DOMINANT_FACTOR)
        universe["b0"][star] = min(ref * factor, cal.DOMINANT_BUDGET_CAP)
        universe["r0"][star] = max(universe["r0"][star], 0.55)
        universe["dominant"][star] = True
        universe["propensity"][star] = 10.0  # always answers, so that its weight shows


def advance(rng: np.random.Generator, deps: Departements, universe: Structures, year: int, scale: float) -> None:
    """Move the universe to ``year``: some structures leave, entrants fill the national targets."""
    target = target_counts(deps, year, scale)
    alive = universe["alive"]
    di_all = deps.index(universe["departement"])
    dep_alive = np.bincount(di_all[alive], minlength=len(deps.codes))
    entrants_dep: list[np.ndarray] = []
    entrants_kind: list[np.ndarray] = []
    for kind in ("CS", "EVS"):
        rows = np.flatnonzero(alive & (universe["type"] == kind))
        protected = universe["dominant"][rows] | (dep_alive[di_all[rows]] <= 2)
        leave = (rng.random(rows.size) < cal.LEAVE_RATE[kind]) & ~protected
        universe["alive"][rows[leave]] = False
        survivors = rows[~leave]
        have = np.bincount(di_all[survivors], minlength=len(deps.codes))
        n_new = int(target[kind].sum()) - survivors.size
        if n_new < 0:  # shrinking target: a few more unprotected structures leave
            candidates = survivors[~(universe["dominant"][survivors] | (dep_alive[di_all[survivors]] <= 2))]
            gone = rng.choice(candidates, size=min(-n_new, candidates.size), replace=False)
            universe["alive"][gone] = False
            continue
        deficit = np.maximum(target[kind] - have, 0).astype(float)
        per_dep = allocate(n_new, deficit if deficit.sum() > 0 else deps.weight[kind])
        entrants_dep.append(np.repeat(deps.codes, per_dep))
        entrants_kind.append(np.full(int(per_dep.sum()), kind, dtype=object))
    dep_codes = np.concatenate(entrants_dep) if entrants_dep else np.array([], dtype=object)
    kinds = np.concatenate(entrants_kind) if entrants_kind else np.array([], dtype=object)
    if dep_codes.size:
        order = rng.permutation(dep_codes.size)
        universe.append(new_structures(rng, deps, universe, dep_codes[order], kinds[order], year, initial=False))
