"""Public entry point of disclosure control: :func:`protect`.

``protect(microdata, question, year, spec, rules, ledger)`` tabulates every cell of every
view released together, applies the primary rules, runs the global secondary suppression and
returns a :class:`ProtectionResult` whose ``cells`` hold the TRUE value of every cell with its
status (restricted zone: the publication step blanks non-``V`` values).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import Question, QuestionType
from senacs_workbench.core.territories import LEVEL_LABELS
from senacs_workbench.disclosure.cells import (
    CELL_COLUMNS,
    COMMITTEE_LEVELS,
    COUNT,
    FREQUENCY,
    INFRA_LEVELS,
    MEAN,
    PUBLISHABLE,
    RESPONDENTS,
    RESPONSE_RATE,
    SECONDARY,
    SHARE,
    STRUCTURES,
    SUM,
    ReleaseSpec,
)
from senacs_workbench.disclosure.ledger import KEY_COLUMNS, Ledger, LedgerConflict, answer_digests
from senacs_workbench.disclosure.primary import (
    NEED_BOTH,
    NEED_DOWN,
    NEED_EITHER,
    NEED_NONE,
    NEED_UP,
    PrimaryResult,
    ReviewDecisions,
    apply_primary_rules,
)
from senacs_workbench.disclosure.relations import SecretSystem, build_system
from senacs_workbench.disclosure.rules import RuleSet, load_rules
from senacs_workbench.disclosure.secondary import SecondaryResult, secondary_suppression
from senacs_workbench.disclosure.tabulate import (
    LEVEL_ORDER,
    Tabulation,
    TabulationError,
    block_values,
    contributors_frame,
    tabulable,
    tabulate,
)
from senacs_workbench.disclosure.temporal import TemporalConstraints, temporal_constraints

__all__ = ["ProtectionResult", "protect"]

PROTECTION_COLUMNS = (*KEY_COLUMNS, "upper", "lower")

_REASONS = {
    "deja_publiee": "case déjà publiée (registre des diffusions) alors qu'elle serait sensible aujourd'hui",
    "non_protegeable": "case sensible impossible à protéger (bornes publiques ou cases déjà publiées)",
    "initie": "une structure seule dans une case pourrait retrouver cette case",
    "union_dominee": "une union de cases masquées reste dominée par une structure",
    "recalculable": "case maintenue masquée (diffusion précédente) mais recalculable exactement",
}


KNOWN_CELL_COST_FACTOR = 1000.0
"""Cost multiplier of a cell whose value last year's release already gives (see :mod:`.temporal`)."""


def _stronger(old: int, new: int) -> int:
    """The need meeting both ``old`` and ``new`` (``NEED_*`` codes)."""
    if old in (NEED_NONE, NEED_EITHER):
        return new if new != NEED_NONE else old
    if new in (NEED_NONE, NEED_EITHER, old):
        return old
    return NEED_BOTH  # UP with DOWN, or anything with BOTH


def _add_temporal_primaries(tab: Tabulation, prim: PrimaryResult, rules: RuleSet, tc: TemporalConstraints) -> int:
    """Cells published last year whose change this year comes from too few structures become
    primary cells (status ``A``, reason ``temporal``): see :mod:`.temporal`."""
    status, need = prim.status.reshape(-1), prim.need.reshape(-1)
    upper, lower = prim.upper.reshape(-1), prim.lower.reshape(-1)
    req_up, req_down = prim.req_up.reshape(-1), prim.req_down.reshape(-1)
    reason = prim.reason.reshape(-1)
    values = tab.secret.reshape(-1)
    added = 0
    for r in np.flatnonzero(tc.sensitive).tolist():
        d = float(tc.change[r])
        if tab.is_numeric:
            wanted = NEED_EITHER
            up = down = rules.frequency_protection_ratio * abs(d)
            margin = max(rules.margin_sum_min, rules.margin_sum_ratio * abs(float(values[r])))
        else:
            # a count: "no change" must stay possible (a +1 from an entrant must not be pinned),
            # within what the published respondents allow (0 ≤ count ≤ n): where "no change"
            # is impossible anyway, last year's release and n already say it, nothing to hide
            n = float(tab.respondents[r % tab.layout.n_groups])
            x = float(values[r])
            if (d < 0 and x - d > n) or (d > 0 and x - d < 0) or (d == 0 and n == 0):
                continue
            wanted = NEED_DOWN if d > 0 else NEED_UP if d < 0 else NEED_EITHER
            up, down = (abs(d), 0.0) if d < 0 else (0.0, abs(d)) if d > 0 else (0.0, 0.0)
            margin = rules.margin_count
        if need[r] == NEED_NONE:
            status[r] = FREQUENCY
            reason[r] = "temporal"
        need[r] = _stronger(int(need[r]), wanted)
        upper[r] = max(upper[r], up)
        lower[r] = max(lower[r], down)
        req_up[r] = max(req_up[r], upper[r], margin)
        req_down[r] = max(req_down[r], lower[r], margin)
        added += 1
    return added


@dataclass
class ProtectionResult:
    """Cells (true values, statuses), protection levels and diagnostics of one variable."""

    question: Question
    year: int
    cells: pd.DataFrame
    rules_hash: str
    protection: pd.DataFrame
    digests: pd.DataFrame
    diagnostics: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    _tab: Tabulation | None = field(default=None, repr=False)

    @cached_property
    def contributors(self) -> pd.DataFrame:
        """Per additive cell (count per answer, sum — internal for percent questions), one row
        per contributing structure: key columns + ``structure_id``."""
        if self._tab is None:
            return pd.DataFrame(columns=[*KEY_COLUMNS, "structure_id"])
        return contributors_frame(self._tab)

    @property
    def published(self) -> pd.DataFrame:
        """The cells as they may leave the restricted zone (values blanked unless ``V``)."""
        out = self.cells.copy()
        out.loc[out["status"] != PUBLISHABLE, "value"] = np.nan
        return out


def _empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CELL_COLUMNS})


def suppression_cost(tab: Tabulation, rules: RuleSet, values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Per secret row, the cost of hiding it: the rule set's factor of its level and kind,
    times 1 + |value| / ``scale`` (default: the mean of the non-zero |values|)."""
    layout = tab.layout
    G = layout.n_groups
    A = len(tab.answers)
    factor = np.array(
        [rules.cost[lv]["total" if tot else "category"] for lv, tot in zip(layout.level, layout.is_total, strict=True)]
    )
    mag = np.abs(values)
    if scale is None:
        scale = float(mag[mag > 0].mean()) if (mag > 0).any() else 1.0
    cost: np.ndarray = np.tile(factor, A) * (1.0 + mag / scale) + 1e-6 * np.arange(A * G) / (A * G)
    return cost


def _secret_keys(tab: Tabulation) -> pd.DataFrame:
    keys = tab.layout.keys
    frames = []
    pct = tab.question.type is QuestionType.PERCENT
    stat = (MEAN if pct else SUM) if tab.is_numeric else COUNT
    for answer in tab.answers:
        f = keys.copy()
        f.insert(0, "answer", answer)
        f.insert(0, "statistic", stat)
        f.insert(0, "variable", tab.question.id)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)[list(KEY_COLUMNS)]


def _ledger_constraints(
    tab: Tabulation,
    system: SecretSystem,
    rules: RuleSet,
    ledger: Ledger,
    digests: pd.DataFrame,
    cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    n_rows = system.X.shape[0]
    forced_pub = np.zeros(n_rows, dtype=bool)
    forced_sup = np.zeros(n_rows, dtype=bool)
    notes: list[str] = []
    qid, year = tab.question.id, tab.year
    keys = _secret_keys(tab)
    idx = pd.MultiIndex.from_frame(keys.astype(str))
    values = system.X @ system.y
    if tab.question.type is QuestionType.PERCENT:
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(np.tile(tab.respondents, 1) > 0, values / tab.respondents, np.nan)

    prev_year = ledger.released(year - 1, qid)
    if len(prev_year):
        p = prev_year.set_index(pd.MultiIndex.from_frame(prev_year[list(KEY_COLUMNS)].astype(str)))
        supp = p.index[p["status"].astype(str) != PUBLISHABLE]
        hit = idx.isin(supp)
        cost[hit] *= rules.previous_year_factor

    released = ledger.released(year, qid)
    if not len(released):
        return forced_pub, forced_sup, notes
    rel = released.set_index(pd.MultiIndex.from_frame(released[list(KEY_COLUMNS)].astype(str)))
    rel = rel[~rel.index.duplicated(keep="last")]
    pos = rel.index.get_indexer(idx)
    found = pos >= 0
    old_status = np.full(n_rows, "", dtype=object)
    old_value = np.full(n_rows, np.nan)
    old_status[found] = rel["status"].astype(str).to_numpy()[pos[found]]
    old_value[found] = pd.to_numeric(rel["value"], errors="coerce").to_numpy(dtype=float)[pos[found]]
    was_pub = found & (old_status == PUBLISHABLE)
    forced_sup[found & (old_status != PUBLISHABLE)] = True

    G = tab.layout.n_groups
    old_dig = ledger.released_digests(year, qid)
    if len(old_dig):
        old_map = dict(zip(old_dig["structure_id"].astype(str), old_dig["digest"].astype(str), strict=True))
        # digests are in structure-id order; the layout follows the microdata's row order
        by_id = dict(zip(digests["structure_id"].astype(str), digests["digest"], strict=True))
        changed = np.array([old_map.get(s) != by_id[s] for s in tab.layout.structure_ids.astype(str)])
        changed_in_group = tab.layout.membership @ changed.astype(float)
    else:
        # released tables without digests: the change in respondents tells how many late
        # questionnaires a cell received; a change without new respondents (a correction)
        # is unexplained (0 changed structures counted: conservative)
        resp = released[released["statistic"] == "respondents"]
        rk = pd.MultiIndex.from_frame(resp[["level", "territory", "breakdown", "category"]].astype(str))
        gk = pd.MultiIndex.from_frame(tab.layout.keys.astype(str))
        at = rk.get_indexer(gk)
        old_resp = np.where(at >= 0, pd.to_numeric(resp["value"], errors="coerce").to_numpy()[at], np.nan)
        changed_in_group = np.nan_to_num(np.abs(tab.respondents - old_resp), nan=0.0)
    tol = 1e-9 * max(1.0, float(np.nanmax(np.abs(values), initial=0.0)))
    both = np.isfinite(values) & np.isfinite(old_value)
    differs = was_pub & ((np.abs(values - old_value) > tol) & both | (np.isfinite(values) != np.isfinite(old_value)))
    conflicts = []
    for r in np.flatnonzero(differs).tolist():
        k = changed_in_group[r % G]
        # an unexplained change (removed structures) or too few changed structures
        if k < rules.min_contributors:
            conflicts.append(r)
    if conflicts:
        sample = keys.iloc[conflicts[:5]]
        where = "; ".join(
            f"{LEVEL_LABELS.get(row.level, row.level)} {row.territory}"
            + (f" × {row.breakdown}={row.category}" if row.breakdown else "")
            for row in sample.itertuples()
        )
        raise LedgerConflict(
            f"Question « {qid} », campagne {year} : la nouvelle version des données modifie "
            f"{len(conflicts)} case(s) déjà publiée(s) ({where}…) et l'écart avec la version publiée "
            f"révélerait les réponses de moins de {rules.min_contributors} structures. "
            "Publication refusée : conservez la version déjà diffusée, ou regroupez les "
            "corrections tardives avec la campagne suivante.",
            cells=sample,
        )
    forced_pub[was_pub] = True
    if differs.any():
        notes.append(
            f"{int(differs.sum())} case(s) déjà publiée(s) changent de valeur dans la nouvelle version "
            "(écarts non identifiants) : elles restent publiées."
        )
    return forced_pub, forced_sup, notes


def joint_spec(
    spec: ReleaseSpec, microdata: pd.DataFrame, ledger: Ledger | None, year: int, variable: str
) -> ReleaseSpec:
    """``spec`` extended with the levels and breakdowns already released for this year.

    Views released earlier (the committee bundle, an authorised infra-départemental bundle)
    join the linear system with their released statuses, so that a new release combined with
    them reveals nothing. Infra levels join only when the microdata carries their columns.
    """
    if ledger is None:
        return spec
    released = ledger.released(year, variable)
    if not len(released):
        return spec
    levels = set(spec.levels) | {str(x) for x in released["level"].unique()}
    levels = {lv for lv in levels if lv in COMMITTEE_LEVELS or lv in microdata.columns}
    is_infra = released["level"].isin(INFRA_LEVELS)

    def extra(rows: pd.DataFrame, current: tuple[str, ...]) -> tuple[str, ...]:
        more = sorted({str(b) for b in rows["breakdown"].unique()} - {""} - set(current))
        return (*current, *(b for b in more if b in microdata.columns))

    return ReleaseSpec(
        levels=tuple(lv for lv in LEVEL_ORDER if lv in levels),
        breakdowns=extra(released[~is_infra], spec.breakdowns),
        infra_breakdowns=extra(released[is_infra], spec.infra_breakdowns),
    )


def union_spec(*specs: ReleaseSpec) -> ReleaseSpec:
    """The views of every spec (levels in release order, breakdowns in first-seen order)."""
    levels = {lv for spec in specs for lv in spec.levels}

    def merged(attribute: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b for spec in specs for b in getattr(spec, attribute)))

    return ReleaseSpec(levels=tuple(lv for lv in LEVEL_ORDER if lv in levels), breakdowns=merged("breakdowns"),
                       infra_breakdowns=merged("infra_breakdowns"))


def _describe(tab: Tabulation, row: int) -> str:
    G = tab.layout.n_groups
    g, a = row % G, row // G
    k = tab.layout.keys.iloc[g]
    where = f"{LEVEL_LABELS.get(k.level, k.level)} {k.territory}"
    if k.breakdown:
        where += f" × {k.breakdown}={k.category}"
    ans = tab.answers[a]
    return where + (f", réponse « {ans} »" if ans else "")


@dataclass
class PreparedQuestion:
    """One question ready for secondary suppression: its cells, primary rules applied, the
    linear system of its views and the constraints of the ledger (see :func:`protect`)."""

    question: Question
    year: int
    spec: ReleaseSpec
    rules: RuleSet
    tab: Tabulation
    prim: PrimaryResult
    system: SecretSystem
    cost: np.ndarray
    forced_pub: np.ndarray | None
    forced_sup: np.ndarray | None
    movable: np.ndarray | None
    """Cells kept hidden that a reader sees hidden (from last year, or an earlier release): each
    needs a witness of its own, or it could be recomputed exactly (attack A17)."""
    in_spec: np.ndarray
    digests: pd.DataFrame
    notes: list[str]
    started: float


def prepare(
    microdata: pd.DataFrame,
    question: Question,
    year: int,
    spec: ReleaseSpec | None = None,
    rules: RuleSet | None = None,
    ledger: Ledger | None = None,
    *,
    previous: pd.DataFrame | None = None,
    view_spec: ReleaseSpec | None = None,
    reviewed: ReviewDecisions | None = None,
) -> PreparedQuestion:
    """Everything :func:`protect` does before the secondary suppression (arguments as there).

    ``view_spec``: more views to tabulate (not released for this question): questions linked
    by a relation share one layout, the union of their releases (:mod:`.linked`)."""
    started = time.perf_counter()
    spec = spec or ReleaseSpec()
    rules = rules or load_rules()
    if not tabulable(question):
        raise TabulationError(
            f"La question « {question.id} » ({question.type.value}) n'est pas tabulée : "
            "seules les questions numériques et à modalités le sont."
        )
    ids = microdata["structure_id"].astype("string").fillna("").to_numpy(dtype=object)
    digests = pd.DataFrame({"structure_id": ids, "digest": answer_digests(ids, microdata["value"])})
    digests = digests.sort_values("structure_id", kind="mergesort").reset_index(drop=True)

    # views of the same year already released (another level or breakdown) are protected
    # jointly with this release: they join the system with their released statuses
    joint = joint_spec(spec, microdata, ledger, year, question.id)
    if view_spec is not None:
        joint = union_spec(joint, view_spec)
    tab = tabulate(microdata, question, year, joint, rules.quantile_min_each_side)
    prim: PrimaryResult = apply_primary_rules(tab, rules, reviewed)
    system = build_system(tab)
    values = tab.secret.reshape(-1)
    cost = suppression_cost(tab, rules, values)
    notes: list[str] = []
    forced_pub = forced_sup = None
    keys = tab.layout.keys
    in_spec = spec.contains(keys["level"].tolist(), keys["breakdown"].tolist())
    if ledger is not None:
        forced_pub, forced_sup, notes = _ledger_constraints(tab, system, rules, ledger, digests, cost)
    never_published = np.zeros(system.X.shape[0], dtype=bool)
    if not in_spec.all():
        # cells of the joint views that are neither in this release nor released: hidden
        n_rows = system.X.shape[0]
        forced_pub = np.zeros(n_rows, dtype=bool) if forced_pub is None else forced_pub
        forced_sup = np.zeros(n_rows, dtype=bool) if forced_sup is None else forced_sup
        outside = np.tile(~in_spec, len(tab.answers))
        released = forced_pub | forced_sup
        forced_sup = forced_sup | (outside & ~released)
        never_published = outside & ~released
        prim.need[never_published.reshape(prim.need.shape)] = 0  # never published: nothing to protect
    if ledger is not None:
        assert forced_pub is not None and forced_sup is not None
        exempt = question.public and rules.public_exempt  # public identity: never suppressed
        if previous is not None and not exempt and len(last_release := ledger.released(year - 1, question.id)):
            tc = temporal_constraints(tab, _secret_keys(tab), previous, last_release, rules.min_contributors)
            tc = replace(tc, sensitive=tc.sensitive & np.tile(in_spec, len(tab.answers)))
            # An unchanged cell published last year: hiding it hides nothing from an attacker who
            # assumes stable answers, so it is the last resort of the secondary suppression (not
            # forbidden: a sensitive cell may need it, e.g. beside a zero total published last year)
            cost[tc.known & ~forced_sup] *= KNOWN_CELL_COST_FACTOR
            forced_sup = forced_sup | (tc.hidden & ~forced_pub)
            sensitive = _add_temporal_primaries(tab, prim, rules, tc)
            if sensitive:
                notes.append(
                    f"{sensitive} case(s) publiée(s) l'an dernier ne changent que par une ou deux structures : "
                    "masquées (l'écart d'une année à l'autre les révélerait)."
                )
    # a cell kept hidden (from last year, or as released) is hidden for a reader: it must not be
    # recomputable exactly from what is published (a hidden cell that can be recomputed protects
    # nothing, attack A17); cells of joint views that are never published are not seen at all
    movable = None if forced_sup is None else forced_sup & ~never_published
    return PreparedQuestion(question, year, spec, rules, tab, prim, system, cost, forced_pub, forced_sup, movable,
                            in_spec, digests, notes, started)


def protect(
    microdata: pd.DataFrame,
    question: Question,
    year: int,
    spec: ReleaseSpec | None = None,
    rules: RuleSet | None = None,
    ledger: Ledger | None = None,
    *,
    previous: pd.DataFrame | None = None,
    joint_output: bool = False,
    reviewed: ReviewDecisions | None = None,
) -> ProtectionResult:
    """Protect every cell of ``question`` for campaign ``year`` (see the module docs).

    ``reviewed``: a person's decisions on this question's cells of status R
    (:func:`~senacs_workbench.disclosure.primary.apply_primary_rules`).

    With ``previous`` (last year's microdata of this question, as released) and a ledger
    holding last year's release, the year-over-year rules of :mod:`.temporal` apply: a cell
    published last year and changed by one or two structures becomes primary, an unchanged
    cell keeps last year's status.

    With ``joint_output``, the result also holds the cells of the views released earlier that
    joined the system (true values, their statuses) and their protection levels: the
    independent audit of a release made jointly with an earlier one must see both.

    Questions linked by a relation of the codebook are protected together by
    :func:`senacs_workbench.disclosure.linked.protect_linked`, which shares these stages.
    """
    prep = prepare(microdata, question, year, spec, rules, ledger, previous=previous, reviewed=reviewed)
    sec = secondary_suppression(prep.tab, prep.system, prep.prim, prep.rules, prep.cost, prep.forced_pub,
                                prep.forced_sup, prep.movable)
    return finish(prep, sec, joint_output=joint_output)


def finish(prep: PreparedQuestion, sec: SecondaryResult, *, joint_output: bool = False) -> ProtectionResult:
    """The cells of every statistic, the protection levels and the diagnostics, from the
    statuses of the secondary suppression (rows ``a * G + g`` of ``prep``'s system)."""
    tab, prim, question, year = prep.tab, prep.prim, prep.question, prep.year
    G = tab.layout.n_groups
    keys = tab.layout.keys
    in_spec = prep.in_spec
    status = sec.status.reshape(tab.secret.shape)
    blocks = []
    for statistic, answer in tab.blocks:
        value, n = block_values(tab, statistic, answer)
        if statistic in (STRUCTURES, RESPONDENTS, RESPONSE_RATE):
            st = np.full(G, PUBLISHABLE, dtype=object)
        elif statistic in (SUM, MEAN):
            st = status[0]
        elif statistic in (COUNT, SHARE):
            st = status[tab.answers.index(answer)]
        else:
            # A published median or quartile bounds its cell's sum from below (at least half of
            # the units are at or above the median): it follows a suppressed sum.
            st = prim.quantile_status[statistic].copy()
            st[(st == PUBLISHABLE) & (status[0] != PUBLISHABLE)] = SECONDARY
        block = pd.DataFrame(
            {
                "year": np.full(G, year, dtype=np.int64),
                "variable": question.id,
                "statistic": statistic,
                "answer": answer,
                "level": keys["level"].to_numpy(),
                "territory": keys["territory"].to_numpy(),
                "breakdown": keys["breakdown"].to_numpy(),
                "category": keys["category"].to_numpy(),
                "value": np.asarray(value, dtype=float),
                "n": np.asarray(n, dtype=np.int64),
                "status": st.astype(str),
            }
        )
        blocks.append(block)
    cells = pd.concat(blocks, ignore_index=True)[list(CELL_COLUMNS)] if blocks else _empty_cells()
    keep = np.ones_like(in_spec) if joint_output else in_spec
    if not keep.all():
        cells = cells[np.tile(keep, len(tab.blocks))].reset_index(drop=True)

    # protection levels of the primary cells (as the audit must check them)
    need = prim.need.reshape(-1).copy()
    if prep.forced_pub is not None:
        need[prep.forced_pub] = 0
    need[~np.tile(keep, len(tab.answers))] = 0
    rows = np.flatnonzero(need > 0)
    skeys = _secret_keys(tab)
    protection = skeys.iloc[rows].reset_index(drop=True)
    up = prim.upper.reshape(-1)[rows]
    lo = prim.lower.reshape(-1)[rows]
    if question.type is QuestionType.PERCENT:
        n_resp = np.tile(tab.respondents, len(tab.answers))[rows]
        up = up / np.maximum(n_resp, 1)
        lo = lo / np.maximum(n_resp, 1)
    protection["upper"] = up
    protection["lower"] = lo
    protection = protection[list(PROTECTION_COLUMNS)]

    diagnostics = list(prep.notes)
    for item in sec.unprotected:
        row = int(item["row"])  # type: ignore[call-overload]
        diagnostics.append(f"{_describe(tab, row)} : {_REASONS.get(str(item['reason']), item['reason'])}.")
    stats = {
        "seconds": time.perf_counter() - prep.started,
        "lp_solves": sec.lp_solves,
        "witnesses": sec.witnesses,
        "primary": int((prim.need > 0).sum()),
        "secondary": int((status == "D").sum()),
    }
    return ProtectionResult(
        question=question,
        year=year,
        cells=cells,
        rules_hash=prep.rules.hash,
        protection=protection,
        digests=prep.digests,
        diagnostics=diagnostics,
        stats=stats,
        _tab=tab,
    )
