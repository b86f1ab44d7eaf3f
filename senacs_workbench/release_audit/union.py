"""``audit_union``: the independent audit of everything released together.

It takes only the released long tables (the bundle contract), the microdata of the year, the
codebook and the rule-set file. From the tables it keeps the additive cells (sums, internal
sums of percent questions, counts of answers) of one year, de-duplicated across tables: a key
published in any table is known. A published value that does not match the microdata (another
data version) or a key whose published respondents differ from the microdata's (another
scope) is left out of the system and counted (``stale_cells``, ``foreign_cells``).

A variable fails when one of its sensitive cells is published, or when the attacker's
interval of one of its hidden sensitive cells does not reach the cell's required protection.
Hidden cells recomputable exactly (sensitive or not) are reported too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import Codebook, QuestionType
from senacs_workbench.release_audit.attack import (
    Rows,
    answer_margins,
    attack,
    declared_relations,
    exact_tolerance,
    hierarchy_and_margins,
    reach_tolerance,
)
from senacs_workbench.release_audit.review import apply_reviews
from senacs_workbench.release_audit.rules import AuditRules, load_audit_rules
from senacs_workbench.release_audit.sensitivity import (
    KEY,
    LEVEL_COLUMNS,
    NEED_BOTH,
    NEED_DOWN,
    NEED_EITHER,
    NEED_UP,
    cell_sensitivity,
    partial_respondents,
)

QUANTILES = {"median": 0.5, "q1": 0.25, "q3": 0.75}
FINDING_COLUMNS = [*KEY, "kind", "reason", "true", "low", "high", "req_up", "req_down"]


@dataclass
class VariableAudit:
    """The verdict on one variable."""

    variable: str
    ok: bool
    failures: pd.DataFrame
    """Failing cells: key, kind (``published`` / ``under_protected``), reason, true value,
    attacker's interval, required protection."""
    exact: pd.DataFrame
    """Hidden cells recomputable exactly (sensitive or not)."""

    @property
    def summary_fr(self) -> str:
        if self.ok:
            extra = (f" ({len(self.exact)} cellule(s) masquée(s) recalculable(s), non sensibles)"
                     if len(self.exact) else "")
            return f"{self.variable} : protection vérifiée sur l'union des publications{extra}."
        published = int((self.failures["kind"] == "published").sum())
        under = len(self.failures) - published
        first = self.failures.iloc[0]
        where = f"{first['level']} {first['territory']}" + (
            f", {first['breakdown']} = {first['category']}" if first["breakdown"] else "")
        return (f"{self.variable} : {under} cellule(s) sensible(s) masquée(s) insuffisamment protégée(s) et "
                f"{published} publiée(s) sur l'union des publications (par exemple {where}).")


@dataclass
class UnionAuditResult:
    variables: dict[str, VariableAudit]
    components: list[dict[str, object]] = field(default_factory=list)
    relations: dict[str, tuple[int, int]] = field(default_factory=dict)
    stale_cells: int = 0
    foreign_cells: int = 0
    seconds: float = 0.0

    @property
    def rejected_variables(self) -> list[str]:
        return sorted(v for v, a in self.variables.items() if not a.ok)

    @property
    def ok(self) -> bool:
        return not self.rejected_variables

    @property
    def exact_cells(self) -> pd.DataFrame:
        frames = [a.exact for a in self.variables.values() if len(a.exact)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FINDING_COLUMNS)

    @property
    def failures(self) -> pd.DataFrame:
        frames = [a.failures for a in self.variables.values() if len(a.failures)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FINDING_COLUMNS)

    def summary(self) -> dict[str, object]:
        return {
            "union_ok": self.ok,
            "union_variables": len(self.variables),
            "union_rejected": self.rejected_variables,
            "union_failing_cells": len(self.failures),
            "union_exact_hidden": len(self.exact_cells),
            "union_stale_cells": self.stale_cells,
            "union_foreign_cells": self.foreign_cells,
            "union_seconds": round(self.seconds, 3),
        }


def _normalise(tables: Iterable[pd.DataFrame], year: int) -> pd.DataFrame:
    frames = [t for t in tables if t is not None and len(t)]
    if not frames:
        return pd.DataFrame(columns=["year", *KEY, "statistic", "value", "n", "status"])
    frame = pd.concat([f[["year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category",
                          "value", "n", "status"]] for f in frames], ignore_index=True)
    frame = frame[frame["year"].astype(int) == year]
    for column in ("answer", "breakdown", "category", "territory", "variable", "level", "statistic", "status"):
        frame[column] = frame[column].fillna("").astype(str)
    frame["n"] = pd.to_numeric(frame["n"], errors="coerce").fillna(0.0).astype(float)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame.loc[frame["status"] != "V", "value"] = np.nan
    return frame[frame["level"].isin(list(LEVEL_COLUMNS))].reset_index(drop=True)


def additive_cells(frame: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, candidates): one row per additive key with its n and published quantiles;
    and the published values of the additive cells, one row per table row that gives one."""
    numeric = {v for v in frame["variable"].unique() if v in codebook and codebook.question(v).type.is_numeric}
    categorical = {v for v in frame["variable"].unique()
                   if v in codebook and codebook.question(v).type.is_categorical}
    is_num = frame["variable"].isin(numeric)
    is_cat = frame["variable"].isin(categorical)
    rows = frame[(is_num & frame["statistic"].isin(["sum", "mean", *QUANTILES]))
                 | (is_cat & frame["statistic"].isin(["count", "share"]))]
    cells = rows.groupby(KEY, sort=False, as_index=False)["n"].max()
    quantiles = rows[rows["statistic"].isin(list(QUANTILES)) & rows["value"].notna()]
    if len(quantiles):
        q = quantiles.pivot_table(index=KEY, columns="statistic", values="value", aggfunc="first").reset_index()
        cells = cells.merge(q, on=KEY, how="left")
    for name in QUANTILES:
        if name not in cells:
            cells[name] = np.nan
    direct = rows[rows["statistic"].isin(["sum", "count"]) & rows["value"].notna()]
    derived = rows[rows["statistic"].isin(["mean", "share"]) & rows["value"].notna()]
    candidates = pd.concat([direct.assign(published=direct["value"]),
                            derived.assign(published=derived["value"] * derived["n"])], ignore_index=True)
    return cells, candidates[[*KEY, "published"]]


def _components(variables: Sequence[str], codebook: Codebook) -> tuple[list[list[str]], list]:
    parent = {v: v for v in variables}

    def find(v: str) -> str:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    relations = [r for r in codebook.relations if all(q in parent for q in r.questions)]
    for relation in relations:
        head = find(relation.questions[0])
        for q in relation.questions[1:]:
            parent[find(q)] = head
    groups: dict[str, list[str]] = {}
    for v in variables:
        groups.setdefault(find(v), []).append(v)
    return sorted(groups.values(), key=lambda g: (-len(g), g)), relations


def _bounds(cells: pd.DataFrame, codebook: Codebook) -> tuple[np.ndarray, np.ndarray]:
    n = cells["n"].to_numpy(dtype=float)
    lower = np.full(len(cells), -np.inf)
    upper = np.full(len(cells), np.inf)
    for variable, index in cells.groupby("variable", sort=False).indices.items():
        question = codebook.question(variable)
        if not question.type.is_numeric:
            lower[index], upper[index] = 0.0, n[index]
            continue
        low = float(question.minimum) if isinstance(question.minimum, int | float) else -np.inf
        high = float(question.maximum) if isinstance(question.maximum, int | float) else np.inf
        nn = n[index]
        with np.errstate(invalid="ignore"):
            lower[index] = np.where(np.isfinite(low), nn * low, -np.inf)
            upper[index] = np.where(np.isfinite(high), nn * high, np.inf)
            for name, share in QUANTILES.items():
                value = cells[name].to_numpy(dtype=float)[index]
                h = share * (nn - 1)
                above = nn - np.ceil(h)
                below = np.floor(h) + 1
                has = ~np.isnan(value) & (nn > 0)
                if np.isfinite(low):
                    lower[index] = np.where(has, np.maximum(lower[index], above * value + (nn - above) * low),
                                            lower[index])
                if np.isfinite(high):
                    upper[index] = np.where(has, np.minimum(upper[index], below * value + (nn - below) * high),
                                            upper[index])
    return lower, upper


def _protected(cells: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    true = cells["true"].to_numpy(dtype=float)
    need = cells["need"].to_numpy()
    up_req = cells["req_up"].to_numpy(dtype=float)
    down_req = cells["req_down"].to_numpy(dtype=float)
    up_ok = high >= true + up_req - reach_tolerance(true, up_req)
    down_ok = low <= true - down_req + reach_tolerance(true, down_req)
    wide = high - low > exact_tolerance(true)
    ok = np.select(
        [need == NEED_EITHER, need == NEED_BOTH, need == NEED_UP, need == NEED_DOWN],
        [((up_req > 0) & up_ok) | ((down_req > 0) & down_ok), ((up_req <= 0) | up_ok) & ((down_req <= 0) | down_ok),
         up_ok, down_ok], True)
    return ok & wide


def audit_union(tables: Sequence[pd.DataFrame] | pd.DataFrame, microdata: pd.DataFrame, codebook: Codebook,
                rules_path: str | Path | None = None, *, rules: AuditRules | None = None,
                variables: Iterable[str] | None = None, declared: bool = True,
                exact: bool = True, reviewed: pd.DataFrame | None = None) -> UnionAuditResult:
    """Audit the union of ``tables`` for ``codebook.year`` (see the module docs).

    ``reviewed``: the negative-sum cells a person decided to publish
    (:func:`~senacs_workbench.release_audit.review.read_review_publications`); without it, a
    published sum with a negative contribution fails its variable.

    ``variables`` restricts the audit to these questions (with every question they are linked
    to by a declared relation, since those share one linear system)."""
    started = time.perf_counter()
    rules = rules or load_audit_rules(rules_path)
    frame = _normalise([tables] if isinstance(tables, pd.DataFrame) else tables, codebook.year)
    if variables is not None:
        wanted = set(variables)
        for relation in codebook.relations:
            if wanted & set(relation.questions):
                wanted |= set(relation.questions)
        frame = frame[frame["variable"].isin(wanted)]
    cells, candidates = additive_cells(frame, codebook)
    # Cells the microdata cannot speak for (a breakdown or question it lacks) are another scope.
    outside = ~(cells["breakdown"].eq("") | cells["breakdown"].isin(microdata.columns)) \
        | ~cells["variable"].isin(microdata.columns)
    cells = cells[~outside].reset_index(drop=True)
    if cells.empty:
        return UnionAuditResult({}, seconds=time.perf_counter() - started)
    names = list(dict.fromkeys(cells["variable"]))
    levels = [lv for lv in LEVEL_COLUMNS if lv in set(cells["level"])]
    breakdowns = sorted(set(cells["breakdown"]) - {""})
    truth = apply_reviews(cell_sensitivity(microdata, codebook, rules, names, levels, breakdowns), reviewed,
                          rules.min_contributors)
    cells = cells.merge(truth.rename(columns={"n": "true_n"}), on=KEY, how="left")
    partial = partial_respondents(microdata, codebook.relations, levels, breakdowns)
    flags = [c for c in partial.columns if c not in KEY]
    cells = cells.merge(partial.rename(columns={c: f"partial:{c}" for c in flags}),
                        on=["level", "territory", "breakdown", "category"], how="left")
    empty = cells["true_n"].isna() & (cells["n"] == 0)
    cells.loc[empty, ["true_n", "true"]] = 0.0
    cells.loc[empty, "sensitive"] = False
    cells.loc[empty, ["need", "reason"]] = ""
    cells.loc[empty, ["req_up", "req_down"]] = 0.0
    foreign = cells["true_n"].isna() | ~np.isclose(cells["true_n"].fillna(-1), cells["n"])
    cells = cells[~foreign].reset_index(drop=True)
    cells["sensitive"] = cells["sensitive"].astype(bool)

    matched = candidates.merge(cells[[*KEY, "true"]], on=KEY, how="inner")
    good = np.abs(matched["published"] - matched["true"]) <= 1e-6 * np.maximum(1.0, np.abs(matched["true"]))
    known = matched[good].drop_duplicates(KEY)[[*KEY, "published"]]
    stale_keys = matched[~good][KEY].drop_duplicates()
    cells = cells.merge(known, on=KEY, how="left")
    cells["known"] = cells["published"].notna() | (cells["n"] == 0)
    cells["value"] = np.where(cells["n"] == 0, 0.0, cells["published"])

    components, relations = _components(names, codebook)
    if not declared:
        components, relations = [[v] for v in names], []
    result = UnionAuditResult({}, stale_cells=len(stale_keys), foreign_cells=int(foreign.sum() + outside.sum()))
    lower_all, upper_all = _bounds(cells, codebook)
    low_all = np.full(len(cells), np.nan)
    high_all = np.full(len(cells), np.nan)
    for group in components:
        tick = time.perf_counter()
        index = np.flatnonzero(cells["variable"].isin(group).to_numpy())
        part = cells.iloc[index].reset_index(drop=True)
        part["idx"] = np.arange(len(part))
        rows = Rows()
        nonneg = lower_all[index] >= 0
        hierarchy_and_margins(part, rows, nonneg)
        answer_margins(part, rows, codebook)
        result.relations.update(declared_relations(part, rows, [r for r in relations if r.questions[0] in group]))
        a, rhs, equal = rows.matrix(len(part))
        outcome = attack(part, a, rhs, equal, lower_all[index], upper_all[index], all_cells=exact)
        low_all[index], high_all[index] = outcome.low, outcome.high
        result.components.append({
            "variables": group, "cells": len(part), "hidden": int((~part["known"]).sum()),
            "rows": int(a.shape[0]), "lp": outcome.lp_count, "seconds": round(time.perf_counter() - tick, 3),
            "errors": outcome.errors[:3],
        })
    cells["low"], cells["high"] = low_all, high_all
    published_sensitive = cells["sensitive"] & cells["known"] & (cells["n"] > 0)
    hidden = ~cells["known"]
    protected = _protected(cells, low_all, high_all)
    under = cells["sensitive"] & hidden & ~protected
    recomputed = hidden & (high_all - low_all <= exact_tolerance(cells["true"].to_numpy(dtype=float)))
    if not exact:
        recomputed &= cells["sensitive"]
    kind = np.where(published_sensitive, "published", np.where(under, "under_protected", ""))
    cells["kind"] = kind
    failing = cells[kind != ""][FINDING_COLUMNS]
    exact_cells = cells[recomputed].assign(kind="exact")[FINDING_COLUMNS]
    errors = {v for c in result.components if c["errors"] for v in cast(list[str], c["variables"])}
    for variable in names:
        fails = failing[failing["variable"] == variable].reset_index(drop=True)
        result.variables[variable] = VariableAudit(
            variable, fails.empty and variable not in errors, fails,
            exact_cells[exact_cells["variable"] == variable].reset_index(drop=True))
    result.seconds = time.perf_counter() - started
    return result


def question_types_audited() -> tuple[QuestionType, ...]:
    """Question types whose additive cells the audit attacks."""
    return tuple(t for t in QuestionType if t.is_numeric or t.is_categorical)
