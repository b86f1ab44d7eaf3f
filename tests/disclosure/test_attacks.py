"""Attacks A1–A15 against the protection engine: each test asserts what an attacker gets back.

Small realistic régions: départements of 3–20 structures, singletons, a dominant structure, a
CAF-managed singleton. The attacker (``attacks.py``) sees published values only, the keys,
statuses and ``n`` of every cell, and public knowledge (territories, codebook, directory).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytauargus
import pytest
from acro import ACRO
from attacks import (
    StructureAttacker,
    TableAttacker,
    cell_key,
    clean,
    dominated_unions,
    key_of,
)
from pytauargus._tauargus import audit_jj

from senacs_workbench.core import territories
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure.audit import audit as independent_audit
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.ledger import Ledger, LedgerConflict
from senacs_workbench.disclosure.protect import protect
from senacs_workbench.disclosure.rules import load_rules
from senacs_workbench.restricted.publication.bundle_writer import public_table

YEAR = 2024
CODEBOOK = load_codebook(YEAR)
RULES = load_rules()
BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")
SPEC = ReleaseSpec(levels=("national", "region", "departement"), breakdowns=BREAKDOWNS)
SMALL_SPEC = ReleaseSpec(levels=("region", "departement"), breakdowns=("type_structure", "mode_gestion"))
EPS = 1e-6


def structure(sid: str, dep: str, **identity: str) -> dict[str, str]:
    row = {
        "structure_id": sid,
        "region": territories.region_of(dep),
        "departement": dep,
        "type_structure": "CS",
        "mode_gestion": "associatif",
        "type_territoire": "urbain",
        "qpv": "non_concerne",
    }
    row.update(identity)
    return row


def auvergne(seed: int = 7) -> pd.DataFrame:
    """Région 84: Cantal (15) 4 structures, Allier (03) 9, Puy-de-Dôme (63) 16.

    Cantal has a CAF-managed singleton and a single EVS; Allier a dominant structure.
    """
    rng = np.random.default_rng(seed)
    rows = [
        structure("C1", "15", mode_gestion="caf", type_territoire="rural"),
        structure("C2", "15", type_structure="EVS", type_territoire="rural"),
        structure("C3", "15", mode_gestion="collectivite"),
        structure("C4", "15", qpv="qpv"),
    ]
    for i in range(9):
        rows.append(
            structure(
                f"A{i}",
                "03",
                type_structure="EVS" if i in (1, 4, 7) else "CS",
                mode_gestion="collectivite" if i in (2, 5) else "associatif",
                type_territoire="rural" if i % 3 == 0 else "urbain",
                qpv=["qpv", "proximite", "non_concerne"][i % 3],
            )
        )
    for i in range(16):
        rows.append(
            structure(
                f"P{i:02d}",
                "63",
                type_structure=str(rng.choice(["CS", "EVS"], p=[0.65, 0.35])),
                mode_gestion=str(rng.choice(["associatif", "collectivite", "caf"], p=[0.7, 0.25, 0.05])),
                type_territoire=str(rng.choice(["urbain", "rural"])),
                qpv=str(rng.choice(["qpv", "proximite", "non_concerne"])),
            )
        )
    return pd.DataFrame(rows)


def with_amounts(micro: pd.DataFrame, seed: int = 1, dominant: str | None = "A3") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = micro.copy()
    out["value"] = np.round(rng.lognormal(12.0, 0.5, len(out)))
    if dominant is not None:
        out.loc[out["structure_id"] == dominant, "value"] = 4_000_000.0
    return out


def with_answers(micro: pd.DataFrame, seed: int = 2, p_yes: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = micro.copy()
    out["value"] = np.where(rng.random(len(out)) < p_yes, "oui", "non")
    return out


def run(micro: pd.DataFrame, variable: str, spec: ReleaseSpec = SPEC, **kwargs):
    return protect(micro, CODEBOOK.question(variable), YEAR, spec, RULES, **kwargs)


def audit(cells: pd.DataFrame, protection: pd.DataFrame | None = None, **kwargs):
    """The independent audit, with the thresholds of the rule set the engine applied."""
    return independent_audit(cells, protection, rules=RULES, **kwargs)


def primary_targets(result) -> pd.DataFrame:
    """Primary cells with their true value and required protection."""
    cells = clean(result.cells)
    prot = result.protection.copy()
    for col in ("variable", "statistic", "answer", "level", "territory", "breakdown", "category"):
        prot[col] = prot[col].astype("object").where(prot[col].notna(), "").astype(str)
    merged = cells.merge(prot, on=["variable", "statistic", "answer", "level", "territory", "breakdown", "category"])
    return merged[merged["status"] != "V"]


def assert_protected(
    interval: tuple[float, float], value: float, up: float = 0.0, down: float = 0.0, what: object = ""
) -> None:
    lo, hi = interval
    assert hi - lo > EPS, f"{what}: exact disclosure ({lo} = {hi} = {value})"
    tol = 1e-6 * (1 + abs(value))
    assert hi - value >= up - tol, f"{what}: upper {hi} − {value} < {up}"
    assert value - lo >= down - tol, f"{what}: lower {value} − {lo} < {down}"


def attack_all_primaries(result, attacker_cls=TableAttacker, limit: int | None = None, **add_kwargs) -> int:
    attacker = attacker_cls()
    attacker.add_release("r", result.cells, **add_kwargs)
    recovered = attacker.peel()
    targets = primary_targets(result)
    if limit is not None:
        targets = targets.head(limit)
    checked = 0
    for _, row in targets.iterrows():
        key = key_of(row)
        name = attacker.name("r", key)
        if name not in attacker.k.index:
            continue
        assert name not in recovered, f"{key}: recovered by differencing"
        assert_protected(
            attacker.interval("r", key), float(row["value"]), float(row["upper"]), float(row["lower"]), key
        )
        checked += 1
    return checked


# --------------------------------------------------------------------------- A1–A3: margins, hierarchy, linked views


def test_a1_margin_differencing_within_one_table():
    result = run(with_amounts(auvergne()), "budget_total")
    attacker = TableAttacker().add_release("r", result.cells, hierarchy=False, answers=False, derived=False)
    recovered = attacker.peel()
    targets = primary_targets(result)
    assert len(targets) > 0
    for _, row in targets.iterrows():
        name = attacker.name("r", key_of(row))
        assert name not in recovered, f"{key_of(row)} recovered from its margin"


def test_a2_hierarchy_differencing_region_minus_departements():
    result = run(with_amounts(auvergne()), "budget_total")
    attacker = TableAttacker().add_release("r", result.cells, margins=False, answers=False, derived=False)
    recovered = attacker.peel()
    for _, row in primary_targets(result).iterrows():
        assert attacker.name("r", key_of(row)) not in recovered


def test_a3_linked_views_all_relations_together():
    micro = with_answers(auvergne(), p_yes=0.3)
    result = run(micro, "actions_jeunesse")
    assert attack_all_primaries(result) > 0


def test_a3_linked_views_released_separately():
    """A "by département" table, then a "by région" table of the same year (ledger): the attacker
    links them (région = Σ its départements) and gets no primary cell back."""
    micro = with_amounts(auvergne(), dominant="A3")
    by_dep = run(micro, "budget_total", ReleaseSpec(levels=("departement",), breakdowns=BREAKDOWNS))
    ledger = Ledger.empty().record(by_dep, "v1")
    by_reg = run(micro, "budget_total", ReleaseSpec(levels=("region",), breakdowns=BREAKDOWNS), ledger=ledger)
    attacker = TableAttacker().add_release("dep", by_dep.cells).add_release("reg", by_reg.cells)
    deps, regs = clean(by_dep.cells), clean(by_reg.cells)
    for _, r in regs[regs["statistic"] == "sum"].iterrows():
        kids = deps[
            (deps["statistic"] == "sum") & (deps["breakdown"] == r["breakdown"]) & (deps["category"] == r["category"])
        ]
        attacker.k.equal({("reg", key_of(r)): 1.0, **{("dep", key_of(k)): -1.0 for _, k in kids.iterrows()}})
    recovered = attacker.peel()
    for release, result in (("dep", by_dep), ("reg", by_reg)):
        for _, row in primary_targets(result).iterrows():
            name = (release, key_of(row))
            assert name not in recovered, f"{name} recovered across the two releases"
            assert_protected(
                attacker.k.interval(name), float(row["value"]), float(row["upper"]), float(row["lower"]), name
            )


# --------------------------------------------------------------------------- A4: non-nested EPCI


def burgundy_with_epci() -> pd.DataFrame:
    """Côte-d'Or (21) and Saône-et-Loire (71), EPCI 200006682 straddling both."""
    links = territories.epci_departements()
    per = links.groupby("epci")["departement"].nunique()
    whole = links[links["epci"].isin(per[per == 1].index)]
    e21 = whole.loc[whole["departement"] == "21", "epci"].iloc[:2].tolist()
    e71 = whole.loc[whole["departement"] == "71", "epci"].iloc[:2].tolist()
    rows = []
    plan = [
        ("21", e21[0], 4),
        ("21", e21[1], 3),
        ("21", "200006682", 3),
        ("71", "200006682", 1),
        ("71", e71[0], 5),
        ("71", e71[1], 3),
    ]
    i = 0
    for dep, epci, count in plan:
        for j in range(count):
            i += 1
            row = structure(
                f"B{i:02d}",
                dep,
                type_structure="EVS" if j == 1 else "CS",
                mode_gestion="caf" if (i == 11) else "associatif",
            )
            row["epci"] = epci
            rows.append(row)
    return pd.DataFrame(rows)


def test_a4_non_nested_epci_straddling_two_departements():
    micro = with_amounts(burgundy_with_epci(), dominant=None)
    spec = ReleaseSpec(levels=("region", "departement", "epci"), breakdowns=("type_structure", "mode_gestion"))
    result = run(micro, "budget_total", spec)
    # The lone structure of the straddling EPCI in 71 is a secret the EPCI parts could give away.
    assert attack_all_primaries(result) > 0
    report = audit(result.cells, result.protection)
    assert report.ok, report.problems.head()


# --------------------------------------------------------------------------- A5–A7: several releases


def assert_refusal_names_revealing_cells(conflict: LedgerConflict, micro: pd.DataFrame, changed: set[str]) -> None:
    """A refused release is the attack's checked outcome, not a way out of it: the French message
    refuses the question and names released cells (the sample in ``conflict.cells``, each one in
    the text too), and every cell it names holds a changed structure — a released cell whose
    difference with the new version tells about the changed answers. (A structure that left is
    an unexplained change to the ledger: a cell it left counts no explained change at all, so
    the engine refuses even where three left.)"""
    message = str(conflict)
    assert "« budget_total »" in message and "Publication refusée" in message, message
    named = conflict.cells
    assert not named.empty, "the refusal names no cell"
    changed_rows = micro["structure_id"].isin(changed).to_numpy()
    for row in named.itertuples():
        inside = np.ones(len(micro), dtype=bool)
        if row.level != "national":
            inside &= (micro[row.level].astype(str) == row.territory).to_numpy()
        if row.breakdown:
            inside &= (micro[row.breakdown].astype(str) == row.category).to_numpy()
        where = f"{row.territory} × {row.breakdown}={row.category}" if row.breakdown else f"{row.territory}"
        assert where in message, f"{where} not named in: {message}"
        assert int((inside & changed_rows).sum()) >= 1, where


def test_a5_sub_population_all_centres_vs_all_but_caf_managed():
    micro = with_amounts(auvergne(), dominant=None)
    caf = micro["mode_gestion"] == "caf"
    full = run(micro, "budget_total")
    sub_micro = micro[~caf].reset_index(drop=True)
    # Control: protected on its own, the sub-population publishes cells that the first release
    # published too and whose difference is the budget of one or two CAF-managed structures.
    alone = run(sub_micro, "budget_total")
    keys = ["level", "territory", "breakdown", "category"]

    def published_sums(result) -> pd.DataFrame:
        cells = result.cells
        return cells[(cells["statistic"] == "sum") & (cells["status"] == "V")].set_index(keys)["value"]

    both = pd.concat([published_sums(full), published_sums(alone)], axis=1, join="inner", keys=["full", "sub"])
    leaks = 0
    for (level, territory, breakdown, category), row in both.iterrows():
        inside = caf.to_numpy().copy()
        if level != "national":
            inside &= (micro[level].astype(str) == territory).to_numpy()
        if breakdown:
            inside &= (micro[breakdown].astype(str) == category).to_numpy()
        assert row["full"] - row["sub"] == pytest.approx(float(micro.loc[inside, "value"].sum()))
        leaks += int(1 <= inside.sum() < RULES.min_contributors)
    assert leaks > 0, "no published pair isolates one or two CAF-managed structures"
    # Through the ledger: the release is refused, on cells that would give CAF structures away.
    with pytest.raises(LedgerConflict) as refused:
        run(sub_micro, "budget_total", ledger=Ledger.empty().record(full, "v1"))
    assert_refusal_names_revealing_cells(refused.value, micro, set(micro.loc[caf, "structure_id"]))


def revision_attack(v1, v2, micro: pd.DataFrame, late: str) -> tuple[float, float]:
    """Cells without the late structure are unchanged; the others grew by its value."""
    attacker = TableAttacker().add_release("v1", v1.cells).add_release("v2", v2.cells)
    row = micro[micro["structure_id"] == late].iloc[0]
    containing = []
    for key in {key_of(r) for _, r in clean(v2.cells).iterrows() if r["statistic"] == "sum"}:
        _, _, _, level, terr, bd, cat = key
        inside = (level == "national" or str(row[level]) == terr) and (bd == "" or str(row[bd]) == cat)
        if inside:
            containing.append(key)
        else:
            attacker.link_equal("v1", "v2", [key])
    attacker.link_difference("v1", "v2", containing, "late")
    return attacker.k.interval("late")


def test_a6_revision_with_one_late_questionnaire():
    micro = with_amounts(auvergne(), dominant=None)
    late = "A6"
    value = float(micro.loc[micro["structure_id"] == late, "value"].iloc[0])
    v1 = run(micro[micro["structure_id"] != late].reset_index(drop=True), "budget_total")
    # Control: the revised version protected on its own gives the late questionnaire back.
    assert revision_attack(v1, run(micro, "budget_total"), micro, late) == pytest.approx((value, value))
    # Through the ledger: the revision is refused, on cells that would give the late one away.
    with pytest.raises(LedgerConflict) as refused:
        run(micro, "budget_total", ledger=Ledger.empty().record(v1, "v1"))
    assert_refusal_names_revealing_cells(refused.value, micro, {late})


def year_over_year_attack(year_n, year_n1, mover: dict[str, str], statistic: str, answer: str = "",
                          leaver: bool = False) -> tuple[float, float]:
    """The attacker assumes every other structure kept its answer: a cell not containing
    ``mover`` is unchanged, a cell containing it changed by the mover's contribution (an
    entrant's value, or a leaver's 0/1 answer)."""
    cells_n1 = clean(year_n1.cells).assign(year=int(year_n.year))
    attacker = TableAttacker().add_release("n", year_n.cells).add_release("n1", cells_n1)
    attacker.k.var("mover", hi=np.inf if statistic == "sum" else 1.0, integer=statistic == "count")
    containing = []
    for key in {key_of(r) for _, r in cells_n1.iterrows() if r["statistic"] == statistic and r["answer"] == answer}:
        _, _, _, level, terr, bd, cat = key
        inside = (level == "national" or mover[level] == terr) and (bd == "" or mover[bd] == cat)
        (containing.append(key) if inside else attacker.link_equal("n", "n1", [key]))
    # an entrant: n1 − n = mover; a leaver: n − n1 = mover
    attacker.link_difference(*(("n1", "n") if leaver else ("n", "n1")), containing, "mover")
    return attacker.k.interval("mover")


def test_a7_year_over_year_with_stable_values_and_one_entrant():
    micro = with_amounts(auvergne(), dominant=None)
    entrant = structure("C5", "15", type_structure="EVS", mode_gestion="collectivite", type_territoire="rural")
    entrant["value"] = 250_000.0
    year_n = run(micro, "budget_total")
    ledger = Ledger.empty().record(year_n, "v1")
    micro_n1 = pd.concat([micro, pd.DataFrame([entrant])], ignore_index=True)
    question = CODEBOOK.question("budget_total")
    # Control: protected without last year's microdata, the Cantal total gives the entrant away.
    blind = protect(micro_n1, question, YEAR + 1, SPEC, ledger=ledger)
    assert year_over_year_attack(year_n, blind, entrant, "sum") == pytest.approx((250_000.0, 250_000.0))
    year_n1 = protect(micro_n1, question, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    assert_protected(year_over_year_attack(year_n, year_n1, entrant, "sum"), entrant["value"], what="entrant")
    assert audit(year_n1.cells, year_n1.protection).ok


def test_a7_year_over_year_with_stable_answers_and_one_leaver():
    micro = with_answers(auvergne(), seed=5, p_yes=0.5)
    leaver = micro[micro["structure_id"] == "A4"].iloc[0].to_dict()
    year_n = run(micro, "actions_jeunesse")
    ledger = Ledger.empty().record(year_n, "v1")
    micro_n1 = micro[micro["structure_id"] != "A4"].reset_index(drop=True)
    question = CODEBOOK.question("actions_jeunesse")
    said_yes = 1.0 if leaver["value"] == "oui" else 0.0
    blind = protect(micro_n1, question, YEAR + 1, SPEC, ledger=ledger)
    assert year_over_year_attack(year_n, blind, leaver, "count", "oui", leaver=True) == pytest.approx(
        (said_yes, said_yes)
    )
    year_n1 = protect(micro_n1, question, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    lo, hi = year_over_year_attack(year_n, year_n1, leaver, "count", "oui", leaver=True)
    assert hi - lo >= 1, "the leaver's answer is recovered"
    assert audit(year_n1.cells, year_n1.protection).ok


# --------------------------------------------------------------------------- A8, A9: LP intervals, integrality, zeros


def test_a8_lp_intervals_respect_the_protection_levels():
    result = run(with_amounts(auvergne()), "budget_total")
    assert attack_all_primaries(result) > 0
    report = audit(result.cells, result.protection)
    assert report.ok, report.problems.head()


def test_a9_integrality_and_zero_totals():
    micro = with_answers(auvergne(), p_yes=0.5)
    micro.loc[micro["departement"] == "15", "value"] = "non"  # nobody in Cantal: a zero count
    result = run(micro, "actions_jeunesse")
    cells = clean(result.cells)
    zero = cell_key("actions_jeunesse", "count", "departement", "15", answer="oui")
    attacker = TableAttacker().add_release("r", result.cells)
    _lo, hi = attacker.interval("r", zero, integral=True)
    assert hi >= 1, "the zero count of Cantal is revealed"
    assert attack_all_primaries(result) > 0
    assert (cells["statistic"] == "count").any()


# --------------------------------------------------------------------------- A10, A11: insiders, second largest, unions


def singletons_in_a_row(n_singletons: int) -> pd.DataFrame:
    """Allier row by management mode: ``n_singletons`` modes with a single structure each."""
    modes = ["caf", "collectivite", "autre"][:n_singletons]
    rows = [structure(f"S{i}", "03", mode_gestion=m) for i, m in enumerate(modes)]
    rows += [structure(f"T{i}", "03") for i in range(5)]
    rows += [structure(f"U{i}", "63", mode_gestion=m) for i, m in enumerate(["caf", "collectivite", "autre"])]
    rows += [structure(f"V{i}", "63") for i in range(6)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n_singletons", [2, 3])
def test_a10_insider_singleton_solves_its_row(n_singletons):
    micro = with_amounts(singletons_in_a_row(n_singletons), dominant=None)
    result = run(micro, "budget_total", SMALL_SPEC)
    singles = micro[micro["structure_id"].str.startswith("S")]
    for _, insider in singles.iterrows():
        attacker = StructureAttacker(micro, result.cells, variable="budget_total", year=YEAR, breakdowns=BREAKDOWNS)
        attacker.insider(insider["structure_id"], insider["value"])
        for _, other in singles.iterrows():
            if other["structure_id"] == insider["structure_id"]:
                continue
            interval = attacker.structure_interval(other["structure_id"])
            assert_protected(
                interval, float(other["value"]), what=f"{insider['structure_id']} → {other['structure_id']}"
            )


def test_a11_second_largest_contributor_and_dominated_unions():
    micro = with_amounts(auvergne(), dominant="A3")
    result = run(micro, "budget_total")
    targets = primary_targets(result)
    dominated = targets[(targets["status"] == "B")]
    assert len(dominated) > 0, "the dominant structure makes its cells sensitive"
    allier = micro[micro["departement"] == "03"].sort_values("value", ascending=False)
    second = allier.iloc[1]
    attacker = StructureAttacker(micro, result.cells, variable="budget_total", year=YEAR, breakdowns=BREAKDOWNS)
    attacker.insider(second["structure_id"], second["value"])
    for _, row in dominated.iterrows():
        if row["level"] != "departement" or row["territory"] != "03":
            continue
        interval = attacker.cell_interval("sum", row["level"], row["territory"], row["breakdown"], row["category"])
        assert_protected(interval, float(row["value"]), float(row["upper"]), float(row["lower"]), key_of(row))
    assert dominated_unions(result.cells, micro, "budget_total") == []


# ------------------------------------------------------------------ A12, A13: group attribute, derived statistics


def test_a12_group_attribute_all_six_answered_no():
    rows = [structure(f"G{i}", "15", type_structure="EVS" if i == 0 else "CS") for i in range(6)]
    rows += [structure(f"H{i}", "03", type_structure="EVS" if i < 3 else "CS") for i in range(12)]
    micro = pd.DataFrame(rows)
    micro["value"] = np.where(micro["departement"] == "15", "non", np.where(np.arange(len(micro)) % 2, "oui", "non"))
    result = run(micro, "actions_jeunesse", SMALL_SPEC)
    attacker = TableAttacker().add_release("r", result.cells)
    lo, hi = attacker.interval("r", cell_key("actions_jeunesse", "count", "departement", "15", answer="oui"))
    assert hi >= 1, "the attacker learns that no centre of Cantal has youth actions"
    lo, hi = attacker.interval("r", cell_key("actions_jeunesse", "count", "departement", "15", answer="non"))
    assert lo <= 5, "the attacker learns that all six centres of Cantal answered no"


def test_a13_derived_statistics_mean_times_n_and_median_of_three():
    micro = with_amounts(auvergne(), dominant=None)
    result = run(micro, "budget_total")
    cells = clean(result.cells)
    pub = cells[cells["status"] == "V"]
    # A published median or quartile never rests on fewer than 3 units on each side.
    for stat, p in (("median", 0.5), ("q1", 0.25), ("q3", 0.75)):
        for n in pub.loc[pub["statistic"] == stat, "n"]:
            if n > 0:
                h = (n - 1) * p
                assert np.floor(h) >= 3 and n - 1 - np.ceil(h) >= 3, f"{stat} of {n} units published"
    # A mean with its n gives the sum: the attacker uses it, and still gets no primary back.
    assert attack_all_primaries(result) > 0
    # Percent question: only means are released; means of sub-groups combine through their sums.
    pct = micro.copy()
    pct["value"] = np.random.default_rng(4).integers(0, 100, len(pct)).astype(float)
    result = run(pct, "part_0_10")
    assert audit(result.cells, result.protection).ok


# --------------------------------------------------------------------------- A14, A15: reconstruction, parameters


def test_a14_reconstruction_of_a_small_departement_yes_no_answers():
    micro = with_answers(auvergne(), seed=11, p_yes=0.5)
    result = run(micro, "actions_jeunesse")
    attacker = StructureAttacker(micro, result.cells, variable="actions_jeunesse", year=YEAR, breakdowns=BREAKDOWNS)
    pinned = []
    for _, row in micro[micro["departement"] == "15"].iterrows():
        lo, hi = attacker.structure_interval(row["structure_id"], "oui")
        if hi - lo < 0.5:
            pinned.append((row["structure_id"], lo))
    assert pinned == [], f"answers reconstructed: {pinned}"


def test_a15_known_thresholds_do_not_narrow_intervals_to_the_secret():
    """The rule set ships with the package: the attacker knows threshold 3 and the group rule.

    Control: the engine's own status codes (restricted zone) would give Cantal's lone EVS away:
    status A on a count means 1..2, or 0 or all in a small group, and one MILP disjunction per
    such cell pins it. What leaves the restricted zone (:func:`public_table`: one code, D, for
    every suppressed cell) leaves the same attacker nothing to narrow.
    """
    micro = with_answers(auvergne(), seed=3, p_yes=0.4)
    result = run(micro, "actions_jeunesse")
    restricted = StructureAttacker(
        micro, result.cells, variable="actions_jeunesse", year=YEAR, breakdowns=BREAKDOWNS, thresholds=3
    )
    lo, hi = restricted.structure_interval("C2", "oui")
    assert hi - lo < 1, "control: the restricted status codes no longer pin the lone EVS (update this test)"

    published = public_table(result.cells)
    assert set(published["status"]) == {"V", "D"}
    attacker = TableAttacker(thresholds=3).add_release("r", published)
    for _, row in primary_targets(result).iterrows():
        name = attacker.name("r", key_of(row))
        if name in attacker.k.index:
            assert_protected(attacker.k.interval(name), float(row["value"]), what=key_of(row))
    structures = StructureAttacker(
        micro, published, variable="actions_jeunesse", year=YEAR, breakdowns=BREAKDOWNS, thresholds=3
    )
    lo, hi = structures.structure_interval("C2", "oui")
    assert hi - lo >= 1, "the answer of the lone EVS of Cantal is recovered"


# --------------------------------------------------------------------------- baselines: ACRO, tau-Argus


def _acro_tables(micro: pd.DataFrame):
    """ACRO's per-table check on two outputs: budget by département × type, and by région × type.

    ACRO is a required test oracle (``scripts/test.sh`` installs it): no stand-in of its rules."""
    acro = ACRO(suppress=True)
    acro.sdc_checks.risk_appetite["safe_threshold"] = 3
    by_dep = acro.crosstab(micro["departement"], micro["type_structure"], values=micro["value"], aggfunc="sum")
    by_reg = acro.crosstab(micro["region"], micro["type_structure"], values=micro["value"], aggfunc="sum")
    return by_dep, by_reg


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_per_table_baseline_leaks_where_the_engine_does_not():
    rows = [structure("E1", "15", type_structure="EVS")] + [structure(f"K{i}", "15") for i in range(4)]
    rows += [structure(f"L{i}", "03", type_structure="EVS" if i < 3 else "CS") for i in range(8)]
    rows += [structure(f"M{i}", "63", type_structure="EVS" if i < 4 else "CS") for i in range(10)]
    micro = pd.DataFrame(rows)
    micro["value"] = np.round(np.random.default_rng(5).uniform(50_000, 150_000, len(micro)))
    secret = float(micro.loc[micro["structure_id"] == "E1", "value"].iloc[0])
    by_dep, by_reg = _acro_tables(micro)
    assert np.isnan(by_dep.loc["15", "EVS"]), "acro suppresses the lone EVS of Cantal"
    # Hierarchy differencing across the two outputs gives it back.
    recovered = by_reg.loc["84", "EVS"] - by_dep.loc[["03", "63"], "EVS"].sum()
    assert recovered == pytest.approx(secret)
    # The engine, with the same views released together, does not give it back.
    spec = ReleaseSpec(levels=("region", "departement"), breakdowns=("type_structure",))
    result = run(micro, "budget_total", spec)
    attacker = TableAttacker().add_release("r", result.cells)
    key = cell_key("budget_total", "sum", "departement", "15", "type_structure", "EVS")
    assert attacker.recovered("r", key) is None
    assert_protected(attacker.interval("r", key), secret, what="lone EVS")


def test_tau_argus_and_engine_patterns_on_one_table(tmp_path):
    """The same département × type table protected by tau-Argus (OPT) and by the engine: both
    patterns recorded; tau-Argus's audit of the engine's pattern equals ours."""
    micro = with_amounts(auvergne(), dominant="A3")
    spec = ReleaseSpec(levels=("region", "departement"), breakdowns=("type_structure",))
    result = run(micro, "budget_total", spec)
    cells = clean(result.cells)
    table = cells[cells["statistic"] == "sum"].reset_index(drop=True)
    # JJ file of the engine's pattern (one table: région/départements × total/types).
    index = {(r["level"], r["territory"], r["category"]): i for i, r in table.iterrows()}
    top = float(table["value"].max())
    lines = ["0", str(len(table))]
    for i, r in table.iterrows():
        status = "s" if r["status"] == "V" else "u" if r["status"] in ("A", "B") else "m"
        lines.append(f"{i} {r['value']:.6f} 1 {status} 0 {top:.6f} 0.000 0.000 0")
    eqs = []
    for (level, terr, cat), i in index.items():
        if cat == "":
            kids = [index[(level, terr, c)] for c in ("CS", "EVS") if (level, terr, c) in index]
            eqs.append((i, kids))
        if level == "departement":
            eqs.append(
                (index[("region", "84", cat)], [index[k] for k in index if k[0] == "departement" and k[2] == cat])
            )
    lines.append(str(len(eqs)))
    for parent, kids in eqs:
        lines.append(f"0 {len(kids) + 1} : {parent} (-1) " + " ".join(f"{k} (1)" for k in kids))
    jj = tmp_path / "engine.jj"
    jj.write_text("\n".join(lines) + "\n")
    tau = {row["cell"]: (row["min"], row["max"]) for row in audit_jj(str(jj))}
    ours = audit(table.assign(statistic="sum"), exact_intervals=True)
    suppressed = table.index[table["status"] != "V"].tolist()
    assert sorted(tau) == suppressed
    for i in suppressed:
        r = table.iloc[i]
        mine = ours.intervals[
            (ours.intervals["level"] == r["level"])
            & (ours.intervals["territory"] == r["territory"])
            & (ours.intervals["category"] == r["category"])
        ].iloc[0]
        assert mine["lower"] == pytest.approx(tau[i][0], abs=1e-6)
        assert mine["upper"] == pytest.approx(tau[i][1], abs=1e-6)
    # tau-Argus's own pattern on the same table (p % and dominance, optimal), recorded.
    tau_micro = micro.rename(columns={"departement": "dep", "type_structure": "typ", "value": "val"})
    tau_result = pytauargus.protect(
        tau_micro[["dep", "typ", "val"]],
        tables=[["dep", "typ"]],
        response="val",
        safety_rules="NK(1,85)|P(10,1)|FREQ(3,10)",
        workdir=str(tmp_path / "tau"),
    )
    tau_table = tau_result.tables[0].dataframe()
    patterns = {
        "engine": int((table["status"] != "V").sum()),
        "tau_argus_opt": int(tau_table["status"].isin(["U", "M"]).sum()),
    }
    (tmp_path / "patterns.json").write_text(pd.Series(patterns).to_json())
    assert patterns["engine"] > 0 and patterns["tau_argus_opt"] > 0
    # A10 on both patterns: Cantal's lone EVS knows its own budget and solves the EVS column.
    lone = float(micro.loc[micro["structure_id"] == "C2", "value"].iloc[0])
    target = cell_key("budget_total", "sum", "departement", "63", "type_structure", "EVS")
    tau_cells = table.copy()
    tau_status = {
        (str(r["dep"]).strip(), str(r["typ"]).strip()): {"U": "A", "M": "D"}.get(str(r["status"]), "V")
        for _, r in tau_table.iterrows()
    }
    tau_cells["status"] = [
        tau_status[("Total" if r["level"] == "region" else r["territory"], r["category"] or "Total")]
        for _, r in tau_cells.iterrows()
    ]
    recovered = {}
    for name, pattern in (("engine", table), ("tau_argus_opt", tau_cells)):
        attacker = TableAttacker().add_release("r", pattern)
        attacker.k.know(("r", cell_key("budget_total", "sum", "departement", "15", "type_structure", "EVS")), lone)
        recovered[name] = attacker.recovered("r", target)
    assert recovered["engine"] is None
    assert patterns["tau_argus_opt"] > patterns["engine"] or recovered["tau_argus_opt"] is not None


def test_the_attackers_break_a_mask_without_secondary_suppression():
    """Control: the same attacks do recover secrets when the secondary suppressions are
    published (a per-table, primary-only mask), so the tests above are not vacuous."""
    micro = with_amounts(auvergne(), dominant="A3")
    result = run(micro, "budget_total")
    naive = clean(result.cells)
    naive.loc[naive["status"] == "D", "status"] = "V"
    primaries = naive[naive["status"].isin(["A", "B"]) & (naive["statistic"] == "sum")]
    attacker = TableAttacker().add_release("r", naive)
    recovered = attacker.peel()
    hits = [key_of(r) for _, r in primaries.iterrows() if attacker.name("r", key_of(r)) in recovered]
    assert hits, "differencing recovers primary cells of a primary-only mask"
    for key in hits:
        assert recovered[attacker.name("r", key)] == pytest.approx(
            float(naive.set_index(list(key_names())).loc[key, "value"])
        )
    assert not audit(naive, result.protection).ok


def key_names() -> tuple[str, ...]:
    return ("variable", "statistic", "answer", "level", "territory", "breakdown", "category")
