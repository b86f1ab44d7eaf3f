"""The independent audit: hand-computed intervals, deliberately bad masks, a cross-check with tau-Argus."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytauargus
import pytest

from senacs_workbench.core import territories
from senacs_workbench.disclosure.audit import INTERVAL_COLUMNS, KEY_COLUMNS, PROBLEM_COLUMNS
from senacs_workbench.disclosure.audit import audit as default_audit
from senacs_workbench.disclosure.cells import CELL_COLUMNS
from senacs_workbench.disclosure.rules import load_rules

YEAR = 2024
RULES = load_rules()
"""The packaged rule set: the audit's thresholds unless a test passes another one."""


def fast_audit(*args, **kwargs):
    """The audit in its default mode, under the packaged rule set unless ``rules`` is given."""
    kwargs.setdefault("rules", RULES)
    return default_audit(*args, **kwargs)


def audit(*args, **kwargs):
    """Exact intervals (every bound solved), for the hand-computed cases."""
    return fast_audit(*args, exact_intervals=True, **kwargs)


class Table:
    """A hand-written cell table (true values, statuses) for the audit."""

    def __init__(self, variable: str = "x_test") -> None:
        self.variable = variable
        self.rows: list[dict[str, object]] = []

    def add(
        self,
        statistic: str,
        level: str,
        territory: str,
        value: float,
        n: float | None,
        status: str = "V",
        *,
        breakdown: str = "",
        category: str = "",
        answer: str = "",
        variable: str | None = None,
    ) -> Table:
        self.rows.append(
            {
                "year": YEAR,
                "variable": variable or self.variable,
                "statistic": statistic,
                "answer": answer,
                "level": level,
                "territory": territory,
                "breakdown": breakdown,
                "category": category,
                "value": float(value),
                "n": math.nan if n is None else float(n),
                "status": status,
            }
        )
        return self

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(CELL_COLUMNS))


def interval(report, **key) -> tuple[float, float]:
    frame = report.intervals
    sel = np.ones(len(frame), dtype=bool)
    for col, val in key.items():
        sel &= (frame[col] == val).to_numpy()
    assert sel.sum() == 1, f"{key}: {sel.sum()} rows"
    row = frame[sel].iloc[0]
    return float(row["lower"]), float(row["upper"])


def two_by_two(status_inner: str = "A") -> Table:
    """Département 01 × type: row totals and column totals published, the 4 inner cells suppressed.

    a = CS/01 = 4, b = EVS/01 = 6 (01 = 10); c = CS/03 = 4, d = EVS/03 = 6 (03 = 10); region 84 = 20.
    """
    t = Table()
    t.add("sum", "region", "84", 20, 8)
    t.add("sum", "region", "84", 8, 4, breakdown="type_structure", category="CS")
    t.add("sum", "region", "84", 12, 4, breakdown="type_structure", category="EVS")
    for dep in ("01", "03"):
        t.add("sum", "departement", dep, 10, 4)
        t.add("sum", "departement", dep, 4, 2, status_inner, breakdown="type_structure", category="CS")
        t.add("sum", "departement", dep, 6, 2, status_inner, breakdown="type_structure", category="EVS")
    return t


def test_cell_suppressed_alone_in_a_margin_is_an_exact_disclosure():
    t = Table()
    t.add("sum", "departement", "01", 10, 5)
    t.add("sum", "departement", "01", 3, 2, "A", breakdown="type_structure", category="EVS")
    t.add("sum", "departement", "01", 7, 3, breakdown="type_structure", category="CS")
    report = audit(t.frame())
    assert not report.ok
    assert interval(report, category="EVS") == (3.0, 3.0)
    exact = report.problems[report.problems["kind"] == "exact_disclosure"]
    assert exact["category"].tolist() == ["EVS"]
    assert report.summary()["exact"] == 1


def test_safe_mask_by_construction_and_hand_computed_intervals():
    report = audit(two_by_two().frame())
    assert report.ok, report.problems
    # a + b = 10, c + d = 10, a + c = 8, b + d = 12, all ≥ 0: a, c ∈ [0, 8]; b, d ∈ [2, 10].
    assert interval(report, territory="01", category="CS") == (0.0, 8.0)
    assert interval(report, territory="01", category="EVS") == (2.0, 10.0)
    assert interval(report, territory="03", category="CS") == (0.0, 8.0)
    assert interval(report, territory="03", category="EVS") == (2.0, 10.0)
    summary = report.summary()
    json.dumps(summary)
    assert summary["suppressed"] == 4 and summary["exact"] == 0 and summary["insufficient"] == 0
    assert list(report.problems.columns) == list(PROBLEM_COLUMNS)
    assert list(report.intervals.columns) == list(INTERVAL_COLUMNS)


def test_insufficient_protection_against_the_required_levels():
    cells = two_by_two().frame()
    protection = cells[cells["status"] == "A"][list(KEY_COLUMNS)].copy()
    protection["upper"] = 3.0
    protection["lower"] = 0.0
    # a = 4 ∈ [0, 8] keeps 4 above: enough for 3, not for 5; b = 6 ∈ [2, 10]: 4 above, 4 below.
    assert audit(cells, protection).ok
    protection.loc[protection["category"] == "CS", "upper"] = 5.0
    protection.loc[protection["category"] == "EVS", "lower"] = 4.5
    report = audit(cells, protection)
    assert not report.ok
    bad = report.problems[report.problems["kind"] == "insufficient_protection"]
    assert len(bad) == 4
    assert report.summary()["insufficient"] == 4


def test_hierarchy_differencing_region_minus_departements():
    t = Table()
    t.add("sum", "region", "84", 30, 9)
    t.add("sum", "departement", "01", 12, 4)
    t.add("sum", "departement", "03", 7, 2, "A")
    t.add("sum", "departement", "07", 11, 3)
    report = audit(t.frame())
    assert interval(report, territory="03") == (7.0, 7.0)
    assert not report.ok


def test_national_is_the_sum_of_regions():
    t = Table()
    t.add("structures", "national", "FR", 10, 10)
    t.add("structures", "region", "84", 8, 8)
    t.add("structures", "region", "27", 2, 2, "A")
    report = audit(t.frame())
    assert interval(report, territory="27") == (2.0, 2.0)


def test_zero_total_reveals_its_cells():
    t = Table()
    t.add("count", "departement", "01", 0, 6, answer="oui")
    t.add("count", "departement", "01", 0, 1, "A", answer="oui", breakdown="mode_gestion", category="caf")
    t.add("count", "departement", "01", 0, 5, "D", answer="oui", breakdown="mode_gestion", category="associatif")
    report = audit(t.frame())
    assert interval(report, category="caf") == (0.0, 0.0)
    exact = report.problems[report.problems["kind"] == "exact_disclosure"]
    # a secondary cell recomputed exactly protects nothing: an error too (attack A17)
    assert exact.set_index("category")["severity"].to_dict() == {"caf": "error", "associatif": "error"}
    # The published zero of 6 respondents is itself a group disclosure, for the human checker.
    group = report.problems[report.problems["kind"] == "group_disclosure_published"]
    assert group["severity"].tolist() == ["warning"]


def test_integrality_pins_a_count_that_the_lp_leaves_open():
    """A published share of 0.5 with suppressed count and respondents (A15: threshold known).

    count = 0.5 × respondents, respondents ∈ {1, 2} (status A): only respondents = 2, count = 1
    are integers. The LP alone gives respondents ∈ [1, 2].
    """
    t = Table()
    t.add("respondents", "departement", "01", 2, 2, "A")
    t.add("count", "departement", "01", 1, 2, "D", answer="oui")
    t.add("share", "departement", "01", 0.5, None, answer="oui")
    # The n of suppressed rows blanked, so that only the share and the statuses speak.
    report = audit(t.frame(), n_published="published_rows", attacker_knows_rules=True)
    assert interval(report, statistic="respondents") == (2.0, 2.0)
    assert interval(report, statistic="count") == (1.0, 1.0)
    relaxed = audit(t.frame(), integral_counts=False, n_published="published_rows", attacker_knows_rules=True)
    assert interval(relaxed, statistic="respondents") == (1.0, 2.0)
    unknown_threshold = audit(t.frame(), n_published="published_rows")
    lo, hi = interval(unknown_threshold, statistic="respondents")
    assert (lo, hi) == (0.0, math.inf)  # the threshold is what bounds the respondents


def test_milp_runs_only_on_a_fractional_side_that_integral_tables_do_not_prove_safe():
    """Default mode. Respondents in 1 … 4 (threshold 5 known), count = 0.5 × respondents.

    The LP minimum (respondents 1, count 0.5) is fractional, the maximum (4, 2) integral. With
    an upper protection of 2 the integral tables (the truth 2 and the maximum 4) prove the
    cell safe: no MILP, and the reported interval lies inside the exact one. With a lower
    protection of 1 they do not, and the LP minimum 1 would wrongly pass: one MILP, on the
    lower side only, finds the integer minimum 2 and the problem keeps exact bounds.
    """
    t = Table()
    t.add("respondents", "departement", "01", 2, 2, "A")
    t.add("count", "departement", "01", 1, 2, "D", answer="oui")
    t.add("share", "departement", "01", 0.5, None, answer="oui")
    cells = t.frame()
    protection = cells[cells["statistic"] == "respondents"][list(KEY_COLUMNS)].copy()
    protection["lower"] = 0.0
    protection["upper"] = 2.0
    kwargs = {
        "n_published": "published_rows",
        "attacker_knows_rules": True,
        "rules": RULES.with_overrides(**{"frequency.min_contributors": 5}),
    }
    fast = fast_audit(cells, protection, **kwargs)
    exact = audit(cells, protection, **kwargs)
    assert fast.ok and exact.ok
    assert fast.stats["milp_solved"] == 0 < exact.stats["milp_solved"]
    assert interval(exact, statistic="respondents") == (2.0, 4.0)
    lo, hi = interval(fast, statistic="respondents")
    assert lo >= 2.0 and hi <= 4.0 and hi - 2.0 >= 2.0
    protection["lower"] = 1.0
    short = fast_audit(cells, protection, **kwargs)
    assert not short.ok and short.stats["milp_solved"] == 1
    row = short.problems[short.problems["kind"] == "insufficient_protection"].iloc[0]
    assert (row["lower"], row["upper"]) == (2.0, 4.0)


def test_answer_margin_detected_from_the_data():
    t = Table(variable="adherent_federation")
    t.add("respondents", "departement", "01", 7, 7)
    t.add("count", "departement", "01", 5, 7, answer="oui")
    t.add("count", "departement", "01", 2, 7, "A", answer="non")
    report = audit(t.frame())
    assert interval(report, answer="non") == (2.0, 2.0)


def test_multiple_choice_answers_give_only_inequalities():
    t = Table()
    t.add("respondents", "departement", "01", 7, 7)
    t.add("count", "departement", "01", 5, 7, answer="a")
    t.add("count", "departement", "01", 4, 7, "A", answer="b")  # 5 + 4 ≠ 7: several answers each
    report = audit(t.frame())
    assert interval(report, answer="b") == (0.0, 7.0)


def test_derived_mean_times_n_gives_the_sum_and_ratio_intervals():
    t = Table()
    t.add("respondents", "departement", "01", 4, 4)
    t.add("sum", "departement", "01", 100, 4, "B")
    t.add("mean", "departement", "01", 25, 4)
    report = audit(t.frame())
    assert interval(report, statistic="sum") == (100.0, 100.0)
    # The other way round: the sum published, the mean suppressed.
    t2 = Table()
    t2.add("respondents", "departement", "01", 4, 4)
    t2.add("sum", "departement", "01", 100, 4)
    t2.add("mean", "departement", "01", 25, 4, "B")
    assert interval(audit(t2.frame()), statistic="mean") == (25.0, 25.0)


def test_share_interval_from_its_count_interval():
    t = Table()
    t.add("respondents", "departement", "01", 10, 10)
    t.add("respondents", "departement", "01", 4, 4, breakdown="qpv", category="qpv")
    t.add("respondents", "departement", "01", 6, 6, breakdown="qpv", category="non_concerne")
    t.add("count", "departement", "01", 5, 10, answer="oui")
    t.add("count", "departement", "01", 1, 4, "A", answer="oui", breakdown="qpv", category="qpv")
    t.add("count", "departement", "01", 4, 6, "D", answer="oui", breakdown="qpv", category="non_concerne")
    t.add("share", "departement", "01", 0.25, 4, "A", answer="oui", breakdown="qpv", category="qpv")
    # Thresholds unknown: count(qpv) ∈ [0, 4] (≤ its 4 respondents, 5 − count ≤ 6); share = count / 4.
    report = audit(t.frame())
    assert interval(report, statistic="count", category="qpv") == (0.0, 4.0)
    assert interval(report, statistic="share", category="qpv") == (0.0, 1.0)
    # A status A count may also be a group disclosure (0 or all): still no bound.
    report = audit(t.frame(), attacker_knows_rules=True)
    assert interval(report, statistic="count", category="qpv") == (0.0, 4.0)
    # Thresholds known and status A only for frequency (A15): a status A count is 1 or 2.
    no_group = RULES.with_overrides(**{"group_disclosure.enabled": False})
    report = audit(t.frame(), attacker_knows_rules=True, rules=no_group)
    assert interval(report, statistic="count", category="qpv") == (1.0, 2.0)
    assert interval(report, statistic="share", category="qpv") == (0.25, 0.5)


def test_small_cells_and_quantiles_of_few_units_published():
    t = Table()
    t.add("count", "departement", "03", 0, 2, answer="oui")  # a zero of 2: group warning only
    t.add("sum", "departement", "01", 40, 2)
    t.add("median", "departement", "01", 12, 5)
    t.add("median", "departement", "03", 12, 7)
    report = audit(t.frame())
    kinds = sorted(report.problems["kind"])
    assert kinds == ["group_disclosure_published", "quantile_too_few_units", "small_cell_published"]
    assert report.summary()["small_cells_published"] == 1


def test_the_audit_reads_its_thresholds_from_the_rule_set():
    """Issue 16: no threshold of the audit is a default of its own that could drift from the
    rules file; each one follows the rule set it is given, and there is no audit without one."""
    t = Table()
    t.add("count", "departement", "01", 3, 12, answer="oui")  # 3 structures gave it: publishable
    t.add("sum", "departement", "02", 40, 3)  # 3 contributors: publishable
    t.add("count", "departement", "03", 0, 8, answer="oui")  # none of 8: group disclosure
    t.add("median", "departement", "04", 12, 7)  # 3 units on each side

    def kinds(rules) -> list[str]:
        return sorted(audit(t.frame(), rules=rules).problems["kind"])

    assert kinds(RULES) == ["group_disclosure_published"]
    assert kinds(RULES.with_overrides(**{"frequency.min_contributors": 4})) == [
        "group_disclosure_published", "small_cell_published", "small_cell_published"
    ]
    assert kinds(RULES.with_overrides(**{"group_disclosure.max_respondents": 7})) == []
    assert kinds(RULES.with_overrides(**{"group_disclosure.enabled": False})) == []
    assert kinds(RULES.with_overrides(**{"group_disclosure.include_none": False})) == []
    yes_no = Table(variable="actions_familles").add("count", "departement", "03", 0, 8, answer="oui").frame()
    only_options = RULES.with_overrides(**{"group_disclosure.none_scope": "multiple_choice"})
    assert list(audit(yes_no, rules=RULES).problems["kind"]) == ["group_disclosure_published"]
    assert audit(yes_no, rules=only_options).problems.empty
    assert kinds(RULES.with_overrides(**{"quantiles.min_each_side": 4})) == [
        "group_disclosure_published", "quantile_too_few_units"
    ]
    with pytest.raises(TypeError, match="rules"):
        default_audit(t.frame())


def test_an_attacker_who_knows_the_rules_knows_their_threshold():
    """A15 with the rule set's own frequency threshold: a status A respondent count is
    1 … min_contributors − 1 — with a threshold of 5, 1 … 4."""
    t = Table()
    t.add("respondents", "departement", "01", 2, 2, "A")
    frame = t.frame()
    knows = audit(frame, n_published="published_rows", attacker_knows_rules=True)
    assert interval(knows, statistic="respondents") == (1.0, 2.0)
    five = RULES.with_overrides(**{"frequency.min_contributors": 5})
    knows_five = audit(frame, n_published="published_rows", attacker_knows_rules=True, rules=five)
    assert interval(knows_five, statistic="respondents") == (1.0, 4.0)


def test_non_nested_epci_straddling_two_departements():
    """EPCI 200006682 straddles Côte-d'Or (21) and Saône-et-Loire (71).

    Published: département 21, every EPCI (one wholly in 21, the straddling one, one wholly in
    71). Suppressed: département 71. Parts: straddling ∩ 21 = 21 − e21 = 6, so straddling ∩ 71
    = 9 − 6 = 3 and 71 = 3 + e71 = 8.
    """
    links = territories.epci_departements()
    per_epci = links.groupby("epci")["departement"].nunique()
    whole = links[links["epci"].isin(per_epci[per_epci == 1].index)]
    e21 = whole.loc[whole["departement"] == "21", "epci"].iloc[0]
    e71 = whole.loc[whole["departement"] == "71", "epci"].iloc[0]
    t = Table()
    t.add("structures", "departement", "21", 10, 10)
    t.add("structures", "departement", "71", 8, 8, "D")
    t.add("structures", "epci", e21, 4, 4)
    t.add("structures", "epci", "200006682", 9, 9)
    t.add("structures", "epci", e71, 5, 5)
    report = audit(t.frame())
    assert interval(report, territory="71") == (8.0, 8.0)


def test_published_zone_table_without_true_values():
    cells = two_by_two().frame()
    cells.loc[cells["status"] != "V", "value"] = np.nan
    report = audit(cells)
    assert report.ok
    assert interval(report, territory="01", category="EVS") == (2.0, 10.0)


def test_n_of_suppressed_rows_is_public_by_contract():
    t = Table()
    t.add("respondents", "region", "84", 9, 9)
    t.add("respondents", "departement", "01", 2, 2, "A")
    t.add("respondents", "departement", "03", 7, 7, "D")
    t.add("sum", "departement", "01", 50, 2, "A")
    assert audit(t.frame(), n_published="published_rows").ok
    leaky = audit(t.frame())  # the contract: only ``value`` is blanked
    assert interval(leaky, statistic="respondents", territory="01") == (2.0, 2.0)
    assert not leaky.ok


# --------------------------------------------------------------------------- tau-Argus cross-check


def _tau_table(seed: int, rule: str, workdir):
    """A département × type table protected by tau-Argus (OPT), with tau-Argus's own audit."""
    rng = np.random.default_rng(seed)
    deps = territories.departements_of("84")[:4]
    rows = []
    for dep in deps:
        for _ in range(int(rng.integers(2, 9))):
            rows.append(
                {
                    "dep": dep,
                    "typ": str(rng.choice(["CS", "EVS", "ASSO"], p=[0.5, 0.3, 0.2])),
                    "val": float(rng.integers(10, 2000)),
                }
            )
    micro = pd.DataFrame(rows)
    result = pytauargus.protect(micro, tables=[["dep", "typ"]], response="val", safety_rules=rule, workdir=str(workdir))
    engine = result.engine
    tau_audit = engine.audit(0)
    table = result.tables[0].dataframe()
    return table, tau_audit


def _cells_from_tau(table: pd.DataFrame) -> pd.DataFrame:
    status_map = {"U": "A", "M": "D"}
    t = Table(variable="val")
    for _, row in table.iterrows():
        level, territory = ("region", "84") if row["dep"] == "Total" else ("departement", str(row["dep"]))
        bd, cat = ("", "") if row["typ"] == "Total" else ("type_structure", str(row["typ"]))
        t.add(
            "sum",
            level,
            territory,
            float(row["val"]),
            float(row["freq"]),
            status_map.get(str(row["status"]), "V"),
            breakdown=bd,
            category=cat,
        )
    return t.frame()


@pytest.mark.parametrize(("seed", "rule"), [(1, "FREQ(3,10)"), (2, "P(10,1)|FREQ(3,10)"), (5, "NK(1,85)|FREQ(3,10)")])
def test_intervals_equal_tau_argus_audit_on_single_tables(seed, rule, tmp_path):
    table, tau_audit = _tau_table(seed, rule, tmp_path)
    cells = _cells_from_tau(table)
    report = audit(cells)
    ours = report.intervals.reset_index(drop=True)
    assert len(ours) == len(tau_audit) > 0
    # tau-Argus numbers cells in the order of its table; ours follow the cell table, same order.
    suppressed_rows = [i for i, s in enumerate(table["status"]) if s in ("U", "M")]
    for tau_row, table_row in zip(tau_audit, suppressed_rows, strict=True):
        assert tau_row["cell"] == table_row
        key = table.iloc[table_row]
        level, territory = ("region", "84") if key["dep"] == "Total" else ("departement", str(key["dep"]))
        category = "" if key["typ"] == "Total" else str(key["typ"])
        lo, hi = interval(report, level=level, territory=territory, category=category)
        assert lo == pytest.approx(tau_row["min"], abs=1e-6)
        assert hi == pytest.approx(tau_row["max"], abs=1e-6)
    # tau-Argus's pattern is safe for its own (single-table) audit: ours agrees.
    assert report.summary()["exact"] == 0


def test_witness_mode_gives_the_same_verdict_with_inner_intervals():
    """Default mode: witnessed tables prove most cells safe without their own LPs; the
    reported interval then lies inside the exact one, and problems keep exact bounds."""
    cells = two_by_two().frame()
    protection = cells[cells["status"] == "A"][list(KEY_COLUMNS)].copy()
    protection["upper"] = 3.0
    protection["lower"] = 0.0
    fast = fast_audit(cells, protection)
    exact = audit(cells, protection)
    assert fast.ok and exact.ok
    merged = fast.intervals.merge(exact.intervals, on=list(KEY_COLUMNS), suffixes=("_fast", "_exact"))
    assert (merged["lower_fast"] >= merged["lower_exact"] - 1e-9).all()
    assert (merged["upper_fast"] <= merged["upper_exact"] + 1e-9).all()
    protection.loc[protection["category"] == "CS", "upper"] = 5.0
    bad = fast_audit(cells, protection)
    assert not bad.ok and bad.summary()["insufficient"] == 2
    rows = bad.problems[bad.problems["kind"] == "insufficient_protection"]
    assert rows["upper"].tolist() == [8.0, 8.0]  # the exact maximum, solved for
    leak = Table()
    leak.add("sum", "departement", "01", 10, 5)
    leak.add("sum", "departement", "01", 3, 2, "A", breakdown="type_structure", category="EVS")
    leak.add("sum", "departement", "01", 7, 3, breakdown="type_structure", category="CS")
    assert fast_audit(leak.frame()).summary()["exact"] == 1


def test_means_without_sums_combine_through_their_implicit_sums():
    """Percent questions release means only: région mean × n − the other départements' gives the
    suppressed département's mean."""
    t = Table(variable="part_0_10")
    t.add("respondents", "region", "84", 9, 9)
    t.add("respondents", "departement", "01", 4, 4)
    t.add("respondents", "departement", "03", 5, 5)
    t.add("mean", "region", "84", 30.0, 9)
    t.add("mean", "departement", "01", 20.0, 4)
    t.add("mean", "departement", "03", 38.0, 5, "A")  # (9 × 30 − 4 × 20) / 5 = 38
    report = audit(t.frame())
    assert interval(report, statistic="mean", territory="03") == pytest.approx((38.0, 38.0))
    assert not report.ok
    # Région mean suppressed as well: the codebook's 0…100 range is all that is left.
    t.rows[3]["status"] = "D"
    report = audit(t.frame())
    lo, hi = interval(report, statistic="mean", territory="03")
    assert (lo, hi) == pytest.approx((0.0, 100.0))


def test_the_audit_is_written_apart_from_the_engine():
    import ast
    from pathlib import Path

    import senacs_workbench.disclosure.audit as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {m for m in imported if m.startswith("senacs_workbench")}
    assert ours <= {
        "senacs_workbench.core",
        "senacs_workbench.core.codebook",
        "senacs_workbench.core.territories",
        "senacs_workbench.disclosure.cells",
        "senacs_workbench.disclosure.rules",  # the rule set (its thresholds), not the engine
        "senacs_workbench.disclosure.lp",  # the HiGHS calls, no disclosure logic
    }, ours


def test_a_published_median_bounds_a_suppressed_sum_from_below():
    """Found on the synthetic 2024 year: a median of 7 units (15) published beside its suppressed
    sum says that 4 units are ≥ 15, so the sum is ≥ 60; the total minus that caps the singleton."""
    t = Table()
    t.add("sum", "departement", "08", 1298, 10)
    t.add("sum", "departement", "08", 1071, 1, "A", breakdown="qpv", category="proximite")
    t.add("sum", "departement", "08", 87, 2, "A", breakdown="qpv", category="qpv")
    t.add("sum", "departement", "08", 140, 7, "D", breakdown="qpv", category="non_concerne")
    t.add("median", "departement", "08", 15, 7, breakdown="qpv", category="non_concerne")
    report = audit(t.frame())
    assert interval(report, category="proximite") == (0.0, 1298.0 - 60.0)
    assert interval(report, category="non_concerne") == (60.0, 1298.0)
    protection = pd.DataFrame(
        [
            {
                **dict(zip(KEY_COLUMNS, ("x_test", "sum", "", "departement", "08", "qpv", "proximite"), strict=True)),
                "upper": 189.0,
                "lower": 189.0,
            }
        ]
    )
    bad = audit(t.frame(), protection)
    assert bad.summary()["insufficient"] == 1
