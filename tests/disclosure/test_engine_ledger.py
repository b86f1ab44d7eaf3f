"""Engine: the ledger of releases (re-protection, revisions, year-to-year stability)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_helpers import make_microdata

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.ledger import Ledger, LedgerConflict
from senacs_workbench.disclosure.protect import protect

YEAR = 2024
CB = load_codebook(YEAR)
DEPS = {"19": ("75", 7), "23": ("75", 5), "87": ("75", 9), "24": ("75", 8)}
SPEC = ReleaseSpec(breakdowns=("type_structure", "mode_gestion"))


def test_reprotect_keeps_released_mask(tmp_path):
    q = CB.question("budget_total")
    micro = make_microdata(2, DEPS, q)
    first = protect(micro, q, YEAR, SPEC)
    ledger = Ledger.empty().record(first, data_version="1")
    ledger.save(tmp_path)
    again = protect(micro, q, YEAR, SPEC, ledger=Ledger.load(tmp_path))
    pd.testing.assert_frame_equal(first.cells, again.cells)


def test_released_cells_stay_published_and_suppressed_stay_suppressed():
    q = CB.question("actions_familles")
    micro = make_microdata(3, DEPS, q)
    first = protect(micro, q, YEAR, SPEC)
    cells = first.cells.copy()
    # pretend an earlier release had suppressed one more inner cell
    extra = cells.index[(cells.statistic == "count") & (cells.status == "V") & (cells.level == "departement")
                        & (cells.breakdown != "")][0]
    cells.loc[extra, "status"] = "D"
    released = cells.assign(release=0)
    ledger = Ledger.from_released(released)
    again = protect(micro, q, YEAR, SPEC, ledger=ledger)
    key = ["statistic", "answer", "level", "territory", "breakdown", "category"]
    merged = cells.merge(again.cells, on=key, suffixes=("_old", "_new"))
    counts = merged[merged.statistic == "count"]
    assert (counts.loc[counts.status_old == "V", "status_new"] == "V").all()
    assert (counts.loc[counts.status_old != "V", "status_new"] != "V").all()


def test_late_questionnaire_is_refused_in_french():
    q = CB.question("budget_total")
    micro = make_microdata(4, DEPS, q)
    late = micro.index[micro["departement"] == "23"][0]
    before = micro.copy()
    before.loc[late, "value"] = np.nan
    first = protect(before, q, YEAR, SPEC)
    ledger = Ledger.empty().record(first, data_version="1")
    with pytest.raises(LedgerConflict, match="Publication refusée") as info:
        protect(micro, q, YEAR, SPEC, ledger=ledger)
    assert "moins de 3 structures" in str(info.value)
    # the same check without digests (ledger rebuilt from released bundle tables)
    with pytest.raises(LedgerConflict):
        protect(micro, q, YEAR, SPEC, ledger=Ledger.from_released(first.published))


def test_revision_protected_jointly_when_change_is_not_identifying():
    q = CB.question("budget_total")
    micro = make_microdata(5, {"19": ("75", 12), "23": ("75", 12)}, q)
    spec = ReleaseSpec(levels=("national", "departement"), breakdowns=())
    before = micro.copy()
    late = micro.index[micro["departement"] == "19"][:4]
    before.loc[late, "value"] = np.nan  # four late questionnaires in one département
    first = protect(before, q, YEAR, spec)
    ledger = Ledger.empty().record(first, data_version="1")
    second = protect(micro, q, YEAR, spec, ledger=ledger)
    key = ["statistic", "answer", "level", "territory", "breakdown", "category"]
    merged = first.cells.merge(second.cells, on=key, suffixes=("_old", "_new"))
    sums = merged[merged.statistic == "sum"]
    assert (sums.loc[sums.status_old == "V", "status_new"] == "V").all()
    assert (sums.loc[sums.status_old != "V", "status_new"] != "V").all()
    assert any("changent de valeur" in d for d in second.diagnostics)


def test_previous_year_suppressions_are_cheap_candidates():
    q = CB.question("actions_familles")
    micro = make_microdata(7, DEPS, q)
    year1 = protect(micro, q, YEAR - 1, SPEC)
    ledger = Ledger.empty().record(year1)
    # next year: a few answers change
    rng = np.random.default_rng(1)
    nxt = micro.copy()
    flip = rng.choice(len(nxt), 3, replace=False)
    nxt.loc[flip, "value"] = np.where(nxt.loc[flip, "value"] == "oui", "non", "oui")
    with_ledger = protect(nxt, q, YEAR, SPEC, ledger=ledger)
    without = protect(nxt, q, YEAR, SPEC)
    key = ["statistic", "answer", "level", "territory", "breakdown", "category"]

    def overlap(res):
        m = year1.cells.merge(res.cells, on=key, suffixes=("_1", "_2"))
        m = m[m.statistic == "count"]
        return int(((m.status_1 != "V") == (m.status_2 != "V")).sum())

    assert overlap(with_ledger) >= overlap(without)


def test_views_released_separately_are_protected_jointly():
    """A département table, then a région table of the same year: région − Σ départements
    across the two releases gives nothing back."""
    from engine_helpers import attacker_intervals, exact_disclosures

    q = CB.question("budget_total")
    micro = make_microdata(12, DEPS, q, dominant=True)
    by_dep = protect(micro, q, YEAR, ReleaseSpec(levels=("departement",), breakdowns=("mode_gestion",)))
    ledger = Ledger.empty().record(by_dep, "1")
    by_reg = protect(micro, q, YEAR, ReleaseSpec(levels=("region",), breakdowns=("mode_gestion",)), ledger=ledger)
    assert set(by_reg.cells.level) == {"region"}
    both = pd.concat([by_dep.cells, by_reg.cells], ignore_index=True)
    intervals = attacker_intervals(micro, q, both)
    assert exact_disclosures(intervals).empty
    protection = pd.concat([by_dep.protection, by_reg.protection], ignore_index=True)
    keys = ["statistic", "answer", "level", "territory", "breakdown", "category"]
    merged = protection.merge(intervals, on=keys)
    assert len(merged) == len(protection)
    tol = 1e-6 * np.maximum(1.0, merged["value"].abs())
    assert (merged["hi"] >= merged["value"] + merged["upper"] - tol).all()
    assert (merged["lo"] <= merged["value"] - merged["lower"] + tol).all()


# ----------------------------------------------------------------------------- year over year (temporal.py)


def _next_year(q, micro: pd.DataFrame, ledger_year: int = YEAR):
    first = protect(micro, q, ledger_year, SPEC)
    return first, Ledger.empty().record(first, data_version="1")


def test_a_new_respondent_answering_zero_is_a_change():
    """A structure that did not answer last year answers 0 this year: the sum did not move, but
    published again with one more respondent it would say that the newcomer answered 0."""
    q = CB.question("participants_jeunesse")
    micro = make_microdata(4, DEPS, q)
    dep23 = micro.index[micro["departement"] == "23"]
    micro["value"] = micro["value"].astype(float)
    micro.loc[dep23, "value"] = 100.0  # four respondents, no dominance
    micro.loc[dep23[0], "value"] = np.nan  # the newcomer did not answer last year
    first, ledger = _next_year(q, micro)
    cell = ("sum", "departement", "23", "", "")
    before = first.cells.set_index(["statistic", "level", "territory", "breakdown", "category"])
    assert before.loc[cell, "status"] == "V" and before.loc[cell, "n"] == 4
    now = micro.copy()
    now.loc[dep23[0], "value"] = 0.0
    result = protect(now, q, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    after = result.cells.set_index(["statistic", "level", "territory", "breakdown", "category"])
    assert after.loc[cell, "n"] == 5 and after.loc[cell, "value"] == before.loc[cell, "value"]
    assert after.loc[cell, "status"] != "V"


def test_public_identity_questions_ignore_last_year():
    """The identity block is public (senacs.fr): one structure changing type is no secret."""
    q = CB.question("type_structure")
    micro = make_microdata(5, DEPS, q)
    first, ledger = _next_year(q, micro)
    now = micro.copy()
    now.loc[0, "value"] = "EVS" if now.loc[0, "value"] == "CS" else "CS"
    result = protect(now, q, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    assert (first.cells["status"] == "V").all() and (result.cells["status"] == "V").all()


def test_an_unchanged_cell_keeps_last_years_status():
    q = CB.question("actions_familles")
    micro = make_microdata(6, DEPS, q)
    first, ledger = _next_year(q, micro)
    result = protect(micro, q, YEAR + 1, SPEC, ledger=ledger, previous=micro)
    key = ["statistic", "answer", "level", "territory", "breakdown", "category"]
    merged = first.cells.merge(result.cells, on=key, suffixes=("_n", "_n1"))
    assert ((merged["status_n"] == "V") == (merged["status_n1"] == "V")).all()


def test_a_change_the_published_respondents_already_give_is_not_protected_in_vain():
    """Every respondent of a cell answered "oui" last year and one left: this year's count is
    bounded by the published respondents, "no change" is impossible, and the year-over-year
    rule must not ask for it (the audit would reject an unreachable protection). Where the
    count is below n, the rule asks that "no change" stays reachable."""
    from senacs_workbench.disclosure.primary import NEED_NONE, NEED_UP, apply_primary_rules
    from senacs_workbench.disclosure.protect import _add_temporal_primaries
    from senacs_workbench.disclosure.rules import load_rules
    from senacs_workbench.disclosure.tabulate import tabulate
    from senacs_workbench.disclosure.temporal import TemporalConstraints

    q = CB.question("actions_familles")
    micro = make_microdata(7, DEPS, q)
    micro.loc[micro["departement"] == "19", "value"] = "oui"
    micro.loc[micro["departement"] == "87", "value"] = ["oui"] * 8 + ["non"]
    rules = load_rules()
    tab = tabulate(micro, q, YEAR + 1, SPEC)
    prim = apply_primary_rules(tab, rules)
    keys = tab.layout.keys
    G = tab.layout.n_groups
    oui = tab.answers.index("oui")
    full = oui * G + int(keys.index[(keys["level"] == "departement") & (keys["territory"] == "19")
                                    & (keys["breakdown"] == "")][0])
    below = oui * G + int(keys.index[(keys["level"] == "departement") & (keys["territory"] == "87")
                                     & (keys["breakdown"] == "")][0])
    rows = np.zeros(tab.secret.size, dtype=bool)
    rows[[full, below]] = True
    change = np.where(rows, -1.0, 0.0)
    tc = TemporalConstraints(known=~rows, hidden=np.zeros_like(rows), sensitive=rows, change=change,
                             changed=rows.astype(float))
    before = prim.need.reshape(-1).copy()
    assert _add_temporal_primaries(tab, prim, rules, tc) == 1
    assert prim.need.reshape(-1)[full] == before[full]  # 7 of 7 answered oui: nothing more to ask
    assert before[below] == NEED_NONE and prim.need.reshape(-1)[below] == NEED_UP
    assert prim.upper.reshape(-1)[below] == 1.0
