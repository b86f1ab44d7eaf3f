"""Attack A17 — margins that hold cell by cell (issue #16, leak 2).

A hidden cell that an outside reader recomputes exactly from the published cells protects
nothing. Two findings on the demo's released bundles had one root cause: the engine's
*dominated union* step (in a published relation, the hidden children sum to a known value;
where that union fails the primary rules, one more child was hidden) picked the cheapest
published child without asking whether anything could move it. That child was often
determined by another relation — Essonne 2024 ``budget_total`` rural = total − urbain;
Côtes-d'Armor 2023 ``participants_seniors`` QPV « non concerné » = Bretagne − the three
other départements — so it was a secondary cell that can be recomputed, and the dominated
union it was meant to dilute stayed known (union = parent − published children − that cell).

The tests build that pattern on a small table, and check that the engine now protects the
union with a witness (every hidden cell can move) and that the independent audit rejects
the old mask (an exactly recomputable secondary cell is an error, and margins are read from
the published ``n``). A second way to the same defect is tested too: a cell kept hidden
because it was hidden last year (or in an earlier release), hidden without a witness.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from engine_helpers import attacker_intervals, exact_disclosures

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure.audit import audit
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.ledger import Ledger
from senacs_workbench.disclosure.primary import apply_primary_rules
from senacs_workbench.disclosure.protect import protect, suppression_cost
from senacs_workbench.disclosure.relations import build_system
from senacs_workbench.disclosure.rules import load_rules
from senacs_workbench.disclosure.secondary import secondary_suppression
from senacs_workbench.disclosure.tabulate import block_values, tabulate

YEAR = 2024
QUESTION = load_codebook(YEAR).question("budget_total")
SPEC = ReleaseSpec(breakdowns=("type_territoire",))
# département → (région, urbain structures, rural structures)
LAYOUT = {"19": ("75", 8, 2), "23": ("75", 8, 2), "87": ("75", 8, 4), "24": ("75", 8, 5),
          "63": ("84", 9, 4), "15": ("84", 9, 4)}
GIANT = 5_000_000.0


def _microdata(seed: int = 0, layout: dict[str, tuple[str, int, int]] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for dep, (region, n_urban, n_rural) in (layout or LAYOUT).items():
        for category, n in (("urbain", n_urban), ("rural", n_rural)):
            for _ in range(n):
                rows.append({"structure_id": f"S{len(rows) + 1:03d}", "region": region, "departement": dep,
                             "type_territoire": category, "value": float(np.round(rng.uniform(50_000, 150_000)))})
    micro = pd.DataFrame(rows)
    # one rural centre of Corrèze dominates the rural union {Corrèze, Creuse} of Limousin
    first = micro.index[(micro["departement"] == "19") & (micro["type_territoire"] == "rural")][0]
    micro.loc[first, "value"] = GIANT
    return micro


def _hidden_union_run(micro: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """The secondary step alone, on a table where nothing is sensitive by itself but where
    the urbain and rural cells of Corrèze and Creuse are already hidden (as earlier witnesses
    leave them): the rural union of the two, known through the région, is dominated."""
    rules = load_rules()
    tab = tabulate(micro, QUESTION, YEAR, SPEC)
    system = build_system(tab)
    prim = apply_primary_rules(tab, rules)
    prim.need[:] = 0
    prim.status[:] = "V"
    keys = tab.layout.keys
    forced = (keys["level"].eq("departement") & keys["territory"].isin(["19", "23"])
              & keys["breakdown"].eq("type_territoire")).to_numpy()
    values = system.X @ system.y
    sec = secondary_suppression(tab, system, prim, rules, suppression_cost(tab, rules, values), None, forced)
    value, n = block_values(tab, "sum", "")
    cells = keys.assign(year=YEAR, variable=QUESTION.id, statistic="sum", answer="", value=value, n=n,
                        status=sec.status)
    return cells, sec.unprotected


def test_dominated_union_is_protected_by_a_witness_not_by_a_recomputable_cell():
    micro = _microdata()
    cells, diagnostics = _hidden_union_run(micro)
    assert not diagnostics
    hidden = cells[cells["status"] != "V"]
    assert len(hidden) > 4, "the dominated rural union of Limousin must be diluted"
    # no hidden cell is recomputable exactly by a reader of the published cells
    intervals = attacker_intervals(micro, QUESTION, cells)
    assert exact_disclosures(intervals).empty, exact_disclosures(intervals)
    # the union itself (Limousin rural − the published rural départements) is not known:
    # the attacker's interval of the union reaches its protection (dominance, k = 85 %)
    rural = intervals[(intervals["level"] == "departement") & (intervals["category"] == "rural")
                      & intervals["territory"].isin(["19", "23"])]
    union_value = float(rural["value"].sum())
    others = intervals[(intervals["level"] == "departement") & (intervals["category"] == "rural")
                       & ~intervals["territory"].isin(["19", "23"])]
    assert len(others), "another rural cell of Limousin must be hidden"
    # union = parent − published − hidden others: its interval is at least the others' width
    width = float((others["hi"] - others["lo"]).sum())
    assert width > 0
    required = 100.0 / 85.0 * GIANT - union_value
    reach = float(others["hi"].sum() - others["value"].sum()), float(others["value"].sum() - others["lo"].sum())
    assert max(reach) >= required - 1e-6 * union_value


def test_audit_rejects_a_recomputable_secondary_cell():
    """The Essonne pattern: total and urbain published, rural hidden as a secondary cell."""
    micro = _microdata()
    cells, _ = _hidden_union_run(micro)
    old = cells.copy()
    old["status"] = "V"
    limousin = old["level"].eq("departement") & old["territory"].isin(["19", "23"]) & old["breakdown"].ne("")
    old.loc[limousin, "status"] = "D"
    # the old engine's pick: the cheapest published rural child of Limousin, with its
    # département's total and urbain cell published
    old.loc[old["level"].eq("departement") & old["territory"].eq("87") & old["category"].eq("rural"), "status"] = "D"
    report = audit(old, rules=load_rules())
    assert not report.ok
    flagged = report.problems[(report.problems["kind"] == "exact_disclosure")
                              & (report.problems["severity"] == "error")]
    assert set(flagged["territory"]) == {"87"}
    # the engine's pattern passes the same audit
    assert audit(cells, rules=load_rules()).ok


def test_audit_margins_read_from_published_n():
    """A category left unanswered in one département only: the reader sees the margin hold
    where the categories' n add up to the total's n, and only there."""
    micro = _microdata()
    cells, _ = _hidden_union_run(micro)
    table = cells[cells["level"] == "departement"].reset_index(drop=True)  # no hierarchy: margins only
    table["status"] = "V"
    # Puy-de-Dôme: one urbain centre unclassified, its category not released (n no longer add up)
    urb = table["level"].eq("departement") & table["territory"].eq("63") & table["category"].eq("urbain")
    table.loc[urb, "n"] -= 1
    table.loc[urb, "value"] -= 100_000.0
    rural63 = table["level"].eq("departement") & table["territory"].eq("63") & table["category"].eq("rural")
    table.loc[rural63, "status"] = "D"
    # in the published zone (hidden values blanked): the margin of Puy-de-Dôme is not known,
    # so its rural cell is not recomputed from its total and urbain cell
    public = table.copy()
    public.loc[public["status"] != "V", "value"] = np.nan
    report = audit(public, rules=load_rules())
    iv = report.intervals
    row = iv[(iv["territory"] == "63") & (iv["category"] == "rural") & (iv["statistic"] == "sum")]
    assert len(row) == 1 and not bool(row["exact"].iloc[0])
    # where the n add up (Cantal), the same pattern is recomputed exactly and rejected
    other = table.copy()
    other.loc[rural63, "status"] = "V"
    other.loc[other["level"].eq("departement") & other["territory"].eq("15") & other["category"].eq("rural"),
              "status"] = "D"
    other.loc[other["status"] != "V", "value"] = np.nan
    report = audit(other, rules=load_rules())
    assert not report.ok
    assert set(report.problems.loc[report.problems["kind"] == "exact_disclosure", "territory"]) == {"15"}


def test_a_cell_kept_hidden_from_last_year_is_not_recomputable():
    """Second way to a secondary cell without a witness: a cell hidden last year and unchanged
    stays hidden (publishing it would publish last year's hidden value). With every other cell
    of its département published, it was total − the other categories."""
    # nothing sensitive this year: only the kept cell is hidden
    micro = _microdata(layout={dep: (region, n_urban, max(n_rural, 4)) for dep, (region, n_urban, n_rural)
                               in LAYOUT.items()})
    micro.loc[micro["value"] > 1e6, "value"] = 120_000.0
    first = protect(micro, QUESTION, YEAR, SPEC)
    last = first.cells.copy()
    assert (last.loc[last["statistic"] == "sum", "status"] == "V").all()
    kept = last["level"].eq("departement") & last["territory"].eq("87") & last["category"].eq("rural")
    last.loc[kept & last["statistic"].isin(["sum", "mean"]), "status"] = "D"
    ledger = Ledger.from_released(last.assign(release=0))
    now = protect(micro, QUESTION, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    cells = now.cells
    hidden = cells[(cells["statistic"] == "sum") & (cells["status"] != "V")]
    assert set(hidden["territory"]) >= {"87"}
    intervals = attacker_intervals(micro, QUESTION, cells)
    assert exact_disclosures(intervals).empty, exact_disclosures(intervals)
    assert audit(cells, now.protection, rules=load_rules()).ok
