"""Engine: the rule set and every primary rule, on hand-built microdata."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure.cells import CELL_COLUMNS, ReleaseSpec
from senacs_workbench.disclosure.protect import protect
from senacs_workbench.disclosure.rules import RuleSetError, load_rules
from senacs_workbench.disclosure.tabulate import TabulationError

YEAR = 2024
CB = load_codebook(YEAR)
DEPT_ONLY = ReleaseSpec(levels=("departement",), breakdowns=())


def frame(values, dep="23", region="75", **breakdowns):
    n = len(values)
    data = {
        "structure_id": [f"X{i:03d}" for i in range(n)],
        "region": [region] * n,
        "departement": [dep] * n,
        "type_structure": breakdowns.get("type_structure", ["CS"] * n),
        "mode_gestion": breakdowns.get("mode_gestion", ["associatif"] * n),
        "type_territoire": breakdowns.get("type_territoire", ["urbain"] * n),
        "qpv": breakdowns.get("qpv", ["qpv"] * n),
        "value": values,
    }
    return pd.DataFrame(data)


def cell(result, statistic, answer="", level="departement", breakdown="", category=""):
    c = result.cells
    row = c[
        (c.statistic == statistic)
        & (c.answer == answer)
        & (c.level == level)
        & (c.breakdown == breakdown)
        & (c.category == category)
    ]
    assert len(row) == 1, row
    return row.iloc[0]


def test_rules_load_hash_and_hide_parameters(tmp_path):
    rules = load_rules()
    assert len(rules.hash) == 64
    assert load_rules().hash == rules.hash
    assert "85" not in repr(rules) and "dominance" not in repr(rules)
    changed = rules.with_overrides(**{"p_percent.p": 15})
    assert changed.hash != rules.hash and changed.p_percent == 15
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(RuleSetError, match="manquant"):
        load_rules(bad)


def test_cells_contract_and_statistics_by_type():
    res = protect(frame([100.0, 200.0, 300.0, 400.0]), CB.question("budget_total"), YEAR, DEPT_ONLY)
    assert tuple(res.cells.columns) == CELL_COLUMNS
    numeric_stats = {"structures", "respondents", "response_rate", "sum", "mean", "median", "q1", "q3"}
    assert set(res.cells.statistic) == numeric_stats
    assert res.rules_hash == load_rules().hash
    pct = protect(frame([10.0, 20.0, 30.0, 40.0]), CB.question("part_0_10"), YEAR, DEPT_ONLY)
    assert "sum" not in set(pct.cells.statistic) and "mean" in set(pct.cells.statistic)
    yn = protect(frame(["oui", "non", "oui", "oui"]), CB.question("actions_familles"), YEAR, DEPT_ONLY)
    assert set(yn.cells.statistic) == {"structures", "respondents", "response_rate", "count", "share"}
    assert set(yn.cells.answer) == {"", "oui", "non"}
    with pytest.raises(TabulationError, match="pas tabulée"):
        protect(frame(["x"] * 3), CB.question("commentaire"), YEAR, DEPT_ONLY)


def test_frequency_rule_counts_and_sums():
    yn = protect(frame(["oui", "non", "non", "non", "non"]), CB.question("actions_familles"), YEAR, DEPT_ONLY)
    assert cell(yn, "count", "oui").status == "A"  # n = the count itself = 1
    assert cell(yn, "share", "oui").status == "A"  # share follows its count
    three = protect(frame(["oui"] * 3 + ["non"] * 12), CB.question("actions_familles"), YEAR, DEPT_ONLY)
    assert cell(three, "count", "oui").status == "V"  # n = 3 is publishable
    small = protect(frame([5.0, 7.0, np.nan, np.nan]), CB.question("habitants_instances"), YEAR, DEPT_ONLY)
    assert cell(small, "sum").status == "A"
    assert cell(small, "mean").status == "A"  # mean follows its sum
    assert cell(small, "respondents").status == "V"  # never sensitive (published as n anyway)


def test_dominance_and_p_percent():
    q = CB.question("budget_total")
    assert load_rules().dominance_applies(q)
    dom = protect(frame([1_000_000.0, 50_000.0, 40_000.0, 30_000.0]), q, YEAR, DEPT_ONLY)
    row = cell(dom, "sum")
    assert row.status == "B"
    prot = dom.protection[(dom.protection.statistic == "sum") & (dom.protection.level == "departement")]
    x = 1_120_000.0
    assert prot.upper.iloc[0] == pytest.approx(100 / 85 * 1_000_000 - x)
    # p %: X - x1 - x2 < 0.1 x1 without (1,85): two large, one tiny
    pp = protect(frame([500_000.0, 480_000.0, 20_000.0]), q, YEAR, DEPT_ONLY)
    assert cell(pp, "sum").status == "B"
    ok = protect(frame([100_000.0, 90_000.0, 80_000.0, 70_000.0]), q, YEAR, DEPT_ONLY)
    assert cell(ok, "sum").status == "V"
    # a question the rule set exempts by name: frequency only
    exempt = load_rules().with_overrides(**{"dominance.exempt": {"habitants_instances": "test"}})
    nm = protect(frame([400.0, 1.0, 1.0]), CB.question("habitants_instances"), YEAR, DEPT_ONLY, rules=exempt)
    assert cell(nm, "sum").status == "V"


@pytest.mark.parametrize(
    "question",
    ["habitants_instances", "associations_accueillies", "benevoles_instances", "jeunes_benevoles", "evenements"],
)
def test_dominance_applies_to_counts_of_people_and_associations(question):
    """Issue 16: a count of people, associations, volunteers or events is a magnitude too. One
    centre holding 400 of 402 is published by the frequency rule alone (n = 3) and tells its own
    figure; the packaged rule set hides it (status B) and protects it like a budget."""
    res = protect(frame([400.0, 1.0, 1.0]), CB.question(question), YEAR, DEPT_ONLY)
    assert cell(res, "sum").status == "B"
    assert cell(res, "mean").status == "B"
    prot = res.protection[(res.protection.statistic == "sum") & (res.protection.level == "departement")]
    assert prot.upper.iloc[0] == pytest.approx(100 / 85 * 400 - 402)


def test_dominance_applies_to_a_share_through_its_internal_sum():
    """A percent question publishes only its mean; dominance and p % apply to its internal sum
    (mean × respondents): one centre at 90 % beside two at 1 % is protected."""
    q = CB.question("part_cdi")
    res = protect(frame([90.0, 1.0, 1.0]), q, YEAR, DEPT_ONLY)
    assert cell(res, "mean").status == "B"
    even = protect(frame([40.0, 35.0, 30.0]), q, YEAR, DEPT_ONLY)
    assert cell(even, "mean").status == "V"


def test_dominance_levels_stop_at_the_codebook_bounds():
    """The codebook's bounds are public (a share ≤ 100 %): a share of 94 % alone in its cell
    needs 100 − 94 above (not 94 × 100/85 − 94, which no table can give; the audit's attacker
    knows the bound), and the full concentration protection below."""
    q = CB.question("part_cdi")
    for share, up in ((94.0, 6.0), (100.0, 0.0)):
        alone = protect(frame([share]), q, YEAR, DEPT_ONLY)
        assert cell(alone, "mean").status == "A"
        prot = alone.protection[alone.protection.statistic == "mean"]
        assert prot.upper.iloc[0] == pytest.approx(up)
        assert prot.lower.iloc[0] == pytest.approx(100 / 85 * share - share)
    # a budget has no such ceiling in reach: its level is the rule's
    budget = protect(frame([1_000_000.0]), CB.question("budget_total"), YEAR, DEPT_ONLY)
    prot = budget.protection[budget.protection.statistic == "sum"]
    assert prot.upper.iloc[0] == pytest.approx(100 / 85 * 1_000_000 - 1_000_000)


def test_the_rule_set_alone_says_where_dominance_applies(tmp_path):
    """One source of truth: every quantitative question unless ``dominance.exempt`` names it with
    a reason; never a categorical one; the codebook has no flag of its own any more."""
    rules = load_rules()
    assert rules.version == 2 and dict(rules.dominance_exempt) == {}
    for question in CB.questions:
        assert rules.dominance_applies(question) == question.type.is_numeric, question.id
        assert not hasattr(question, "magnitude")
    exempt = rules.with_overrides(**{"dominance.exempt": {"part_cdi": "a share, not a total"}})
    assert not exempt.dominance_applies(CB.question("part_cdi"))
    assert exempt.dominance_applies(CB.question("etp")) and exempt.hash != rules.hash
    with pytest.raises(RuleSetError, match="sans raison"):
        rules.with_overrides(**{"dominance.exempt": {"part_cdi": ""}})
    text = tmp_path / "v2.yaml"
    raw = dict(rules.raw)
    raw["dominance"] = {"n": 1, "k": 85}
    text.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"dominance\.exempt"):
        load_rules(text)
    # version 1 stays loadable (old bundles name it by hash) and keeps its hash
    v1 = load_rules(resources.files("senacs_workbench.data.disclosure").joinpath("rules-v1.yaml"))
    assert v1.version == 1 and v1.hash.startswith("0dde3bff80c7")


def test_group_disclosure_all_same():
    q = CB.question("actions_familles")
    res = protect(frame(["non"] * 6), q, YEAR, DEPT_ONLY)
    assert cell(res, "count", "non").status == "A"
    prot = res.protection[res.protection.answer == "non"]
    assert prot.lower.iloc[0] >= 1
    review = protect(frame(["non"] * 6), q, YEAR, DEPT_ONLY, rules=load_rules().with_overrides(
        **{"group_disclosure.action": "review"}))
    assert cell(review, "count", "non").status == "R"
    large = protect(frame(["non"] * 11), q, YEAR, DEPT_ONLY)
    assert cell(large, "count", "non").status == "V"


def test_quantiles_need_three_units_each_side():
    q = CB.question("budget_total")
    six = protect(frame([float(10 + i) for i in range(6)]), q, YEAR, DEPT_ONLY)
    assert cell(six, "median").status == "A"
    seven = protect(frame([float(10 + i) for i in range(7)]), q, YEAR, DEPT_ONLY)
    assert cell(seven, "median").status == "V"
    assert cell(seven, "median").value == 13.0
    assert cell(seven, "q1").status == "A"
    thirteen = protect(frame([float(10 + i) for i in range(13)]), q, YEAR, DEPT_ONLY)
    assert cell(thirteen, "q1").status == "V" and cell(thirteen, "q3").status == "V"
    assert not ({"min", "max"} & set(thirteen.cells.statistic))


def test_negative_values_frequency_only_and_review():
    q = CB.question("resultat_exercice")
    res = protect(frame([-50_000.0, 10_000.0, 12_000.0, 900_000.0]), q, YEAR, DEPT_ONLY)
    assert cell(res, "sum").status == "R"
    positive = protect(frame([50_000.0, 10_000.0, 12_000.0, 900_000.0]), q, YEAR, DEPT_ONLY)
    assert cell(positive, "sum").status == "B"


def test_public_identity_counts_exempt():
    q = CB.question("mode_gestion")
    res = protect(frame(["caf", "associatif", "associatif"]), q, YEAR, ReleaseSpec(breakdowns=("type_structure",)))
    assert set(res.cells.status) == {"V"}
    assert res.protection.empty
