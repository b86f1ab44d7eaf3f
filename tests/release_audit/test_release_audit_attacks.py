"""The independent release audit against attacks on the union of released tables (issue 16).

Each test builds a few structures' answers and the released ``sum`` cells by hand, then asks
:func:`audit_union` for its verdict: A16 (a hidden budget source is the budget minus the
published sources), a published dominated cell, A17 (a visible margin where the published
respondents add up), A18-like unions of two bundles of the same data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from release_tables import BUDGET, CODEBOOK, microdata, sums

from senacs_workbench.release_audit import AuditRulesError, audit_union, load_audit_rules

DEPT = ("departement", "23", "", "")


def budget_data() -> pd.DataFrame:
    """Five structures; the intercommunal funding is mostly one centre's (dominance)."""
    base = {"financement_caf": 60000.0, "financement_communes": 40000.0, "financement_departement": 5000.0,
            "financement_region": 3000.0, "financement_etat": 8000.0, "financement_usagers": 9000.0,
            "financement_autres": 30000.0}
    interco = [90000.0, 1000.0, 500.0, 0.0, 0.0]
    return microdata([{**base, "financement_interco": x} for x in interco])


def test_a16_hidden_source_recovered_as_budget_minus_published_sources() -> None:
    data = budget_data()
    table = sums(data, BUDGET, [DEPT], hidden=[("financement_interco", *DEPT)])
    result = audit_union([table], data, CODEBOOK)
    assert result.rejected_variables == ["financement_interco"]
    failure = result.variables["financement_interco"].failures.iloc[0]
    assert failure["kind"] == "under_protected" and failure["reason"] == "dominance"
    assert failure["low"] == pytest.approx(91500.0) and failure["high"] == pytest.approx(91500.0)
    assert list(result.exact_cells["variable"]) == ["financement_interco"]
    assert "financement_interco" in result.variables["financement_interco"].summary_fr
    assert result.relations["financements_total_budget"] == (1, 0)
    quick = audit_union([table], data, CODEBOOK, exact=False)  # the publish gate's mode
    assert quick.rejected_variables == ["financement_interco"] and len(quick.exact_cells) == 1


def test_a16_a_second_hidden_source_with_enough_spread_protects_it() -> None:
    data = budget_data()
    table = sums(data, BUDGET, [DEPT], hidden=[("financement_interco", *DEPT), ("financement_autres", *DEPT)])
    result = audit_union([table], data, CODEBOOK)
    assert result.ok, result.failures
    assert result.exact_cells.empty


def test_a_published_dominated_cell_fails() -> None:
    data = budget_data()
    result = audit_union([sums(data, BUDGET, [DEPT])], data, CODEBOOK)
    assert result.rejected_variables == ["financement_interco"]
    failure = result.variables["financement_interco"].failures.iloc[0]
    assert failure["kind"] == "published" and failure["true"] == pytest.approx(91500.0)


def margin_data(unclassified: bool) -> pd.DataFrame:
    rows = [{"budget_total": v, "type_territoire": "urbain"} for v in (200000.0, 210000.0, 190000.0)]
    rows += [{"budget_total": v, "type_territoire": "rural"} for v in (80000.0, 70000.0)]
    if unclassified:
        rows.append({"budget_total": 150000.0, "type_territoire": None})
    return microdata(rows)


MARGIN_KEYS = [DEPT, ("departement", "23", "type_territoire", "urbain"),
               ("departement", "23", "type_territoire", "rural")]
RURAL = ("budget_total", "departement", "23", "type_territoire", "rural")


def test_a17_visible_margin_where_respondents_add_up_recovers_the_hidden_category() -> None:
    data = margin_data(unclassified=False)
    result = audit_union([sums(data, ["budget_total"], MARGIN_KEYS, hidden=[RURAL])], data, CODEBOOK)
    assert result.rejected_variables == ["budget_total"]
    failure = result.failures.iloc[0]
    assert (failure["category"], failure["reason"]) == ("rural", "dominance")  # two centres fail the p % rule
    assert failure["low"] == pytest.approx(150000.0) == failure["high"]


def test_a17_margin_that_respondents_show_incomplete_is_only_an_inequality() -> None:
    data = margin_data(unclassified=True)
    result = audit_union([sums(data, ["budget_total"], MARGIN_KEYS, hidden=[RURAL])], data, CODEBOOK)
    assert result.ok, result.failures
    assert result.exact_cells.empty


UNION_KEYS = [DEPT, *(("departement", "23", "mode_gestion", c) for c in ("associatif", "collectivite", "caf"))]


def union_data() -> pd.DataFrame:
    rows = [{"budget_total": v, "mode_gestion": "associatif"} for v in (300000.0, 250000.0, 280000.0)]
    rows += [{"budget_total": v, "mode_gestion": "collectivite"} for v in (50000.0, 60000.0)]
    rows += [{"budget_total": v, "mode_gestion": "caf"} for v in (400000.0, 350000.0, 380000.0)]
    return microdata(rows)


def hidden(*categories: str) -> list[tuple[str, str, str, str, str]]:
    return [("budget_total", "departement", "23", "mode_gestion", c) for c in categories]


def test_two_bundles_of_the_same_data_with_different_masks_fail_together() -> None:
    data = union_data()
    first = sums(data, ["budget_total"], UNION_KEYS, hidden=hidden("associatif", "collectivite"))
    second = sums(data, ["budget_total"], UNION_KEYS, hidden=hidden("collectivite", "caf"))
    assert audit_union([first], data, CODEBOOK).ok
    assert audit_union([second], data, CODEBOOK).ok
    together = audit_union([first, second], data, CODEBOOK)
    assert together.rejected_variables == ["budget_total"]
    failure = together.failures.iloc[0]
    assert (failure["category"], failure["kind"]) == ("collectivite", "under_protected")
    assert failure["low"] == pytest.approx(110000.0) == failure["high"]


def test_identical_keys_are_de_duplicated_across_tables() -> None:
    data = union_data()
    first = sums(data, ["budget_total"], UNION_KEYS, hidden=hidden("associatif", "collectivite"))
    result = audit_union([first, first.copy()], data, CODEBOOK)
    assert result.ok and result.components[0]["cells"] == len(UNION_KEYS)


def test_a_missing_threshold_is_an_error_not_a_default(tmp_path: Path) -> None:
    text = (tmp_path / "rules.yaml")
    text.write_text("frequency: {min_contributors: 3}\n", encoding="utf-8")
    with pytest.raises(AuditRulesError, match="manquant"):
        load_audit_rules(text)


def test_dominance_exemption_by_name(tmp_path: Path) -> None:
    from importlib import resources

    import yaml

    raw = yaml.safe_load(resources.files("senacs_workbench.data.disclosure").joinpath("rules-v1.yaml")
                         .read_text(encoding="utf-8"))
    raw["dominance"]["exempt"] = {"financement_interco": "test: public subsidies"}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    data = budget_data()
    # The interco sum fails the p % rule too, which the exemption does not lift: exempt from
    # dominance means exempt from both concentration rules.
    result = audit_union([sums(data, BUDGET, [DEPT])], data, CODEBOOK, path)
    assert result.ok, result.failures
    assert not audit_union([sums(data, BUDGET, [DEPT])], data, CODEBOOK).ok


def test_cells_of_another_scope_are_left_out_and_counted() -> None:
    data = union_data()
    first = sums(data, ["budget_total"], UNION_KEYS, hidden=hidden("associatif", "collectivite"))
    other = first.head(1).assign(breakdown="panel_constant", category="panel")  # not a microdata column
    national = first.assign(level="national", territory="FR", n=first["n"] + 5)  # more respondents elsewhere
    result = audit_union([first, other, national], data, CODEBOOK)
    assert result.ok and result.foreign_cells == len(other) + len(national)
