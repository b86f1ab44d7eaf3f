"""Secondary suppression on the whole hierarchy (nation > région > département × breakdown):
choices that keep régional cells published, each shown against what the engine hid without
it, on small tables built for the purpose. Every pattern passes the engine's audit and the
independent union audit, and the insiders' attacker where insiders are concerned."""

from __future__ import annotations

import pandas as pd
from attacks import StructureAttacker

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure import secondary
from senacs_workbench.disclosure.audit import audit
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.protect import ProtectionResult, protect
from senacs_workbench.disclosure.rules import load_rules
from senacs_workbench.release_audit import audit_union

YEAR = 2024
CODEBOOK = load_codebook(YEAR)
BUDGET = CODEBOOK.question("budget_total")
BREAKDOWN = "mode_gestion"
OTHER_BREAKDOWNS = ("type_structure", "type_territoire", "qpv")
SPEC = ReleaseSpec(levels=("national", "region", "departement"), breakdowns=(BREAKDOWN,))


def _microdata(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """(région, département, management mode, budget) per structure."""
    micro = pd.DataFrame(rows, columns=["region", "departement", BREAKDOWN, "value"])
    micro["structure_id"] = [f"S{i:03d}" for i in range(len(micro))]
    for other in OTHER_BREAKDOWNS:
        micro[other] = "x"
    return micro


def _protect(micro: pd.DataFrame) -> ProtectionResult:
    """The engine's pattern, checked by its own audit and by the independent union audit."""
    rules = load_rules()
    result = protect(micro, BUDGET, YEAR, SPEC, rules)
    assert audit(result.cells, result.protection, rules=rules).ok
    wide = micro.rename(columns={"value": "budget_total"})
    assert audit_union([result.published.assign(year=YEAR)], wide, CODEBOOK, variables=["budget_total"]).ok
    return result


def _hidden(result: ProtectionResult) -> set[str]:
    sums = result.cells[(result.cells["statistic"] == "sum") & (result.cells["status"] != "V")]
    return {f"{lv}/{t}/{c}" for lv, t, c in zip(sums["level"], sums["territory"], sums["category"], strict=True)}


def _one_caf_centre_per_departement() -> pd.DataFrame:
    """Région 76: three départements, each with one CAF-managed centre (three sensitive
    cells, each centre an insider who knows its own budget) and associative centres; the
    régional CAF cell (three centres, none dominant) is not sensitive. Régions 75 and 84:
    CAF and associative centres in every département, nothing sensitive."""
    rows = [("76", "09", "caf", 664_836.0), ("76", "11", "caf", 1_252_796.0), ("76", "65", "caf", 664_802.0)]
    for region, deps in (("76", ("09", "11", "65")), ("75", ("24", "33", "47")), ("84", ("01", "07", "26"))):
        for i, dep in enumerate(deps):
            rows += [(region, dep, "associatif", 300_000.0 + 7_000 * k + 1_000 * i) for k in range(6)]
            if region != "76":
                rows += [(region, dep, "caf", 500_000.0 + 9_000 * k + 2_000 * i) for k in range(4)]
    return _microdata(rows)


def test_a_departement_cell_is_protected_against_each_insider_without_a_regional_cell(monkeypatch):
    """Ariège's CAF cell (one centre) is protected by moving the other two CAF cells of its
    région, hidden already: against the Aude centre (who knows its own budget) the Hautes-
    Pyrénées cell moves, against the Hautes-Pyrénées centre the Aude cell does. A single
    witness that moves no insider at all does not exist inside the région: the engine used
    to take the cheapest one that does exist, through the régional CAF cell, which hid that
    cell, another région's CAF cell and the associative cells that balance them."""
    micro = _one_caf_centre_per_departement()
    result = _protect(micro)
    hidden = _hidden(result)
    assert {"departement/09/caf", "departement/11/caf", "departement/65/caf"} <= hidden
    assert not any(cell.startswith("region/") for cell in hidden)
    # each insider's attacker: the other CAF cells of the région keep their protection
    protection = result.protection.set_index(["level", "territory", "category"])
    caf = micro[(micro["region"] == "76") & (micro[BREAKDOWN] == "caf")]
    for _, insider in caf.iterrows():
        attacker = StructureAttacker(micro.rename(columns={"value": "budget_total"}), result.cells,
                                     variable="budget_total", year=YEAR, breakdowns=(BREAKDOWN,))
        attacker.insider(insider["structure_id"], insider["value"])
        for _, other in caf[caf["structure_id"] != insider["structure_id"]].iterrows():
            lo, hi = attacker.cell_interval("sum", "departement", other["departement"], BREAKDOWN, "caf")
            need = protection.loc[("departement", other["departement"], "caf")]
            assert hi - other["value"] >= float(need["upper"]) - 1e-6
            assert other["value"] - lo >= float(need["lower"]) - 1e-6
    monkeypatch.setattr(secondary, "PER_INSIDER_WHEN_CHEAPER", False)
    before = _hidden(_protect(micro))
    assert {"region/76/caf", "region/76/associatif"} <= before
    assert len(before) > len(hidden)


def _two_small_regions_with_caf_cells() -> pd.DataFrame:
    """Régions 11 and 84: the largest, many CAF and associative centres (large budgets).
    Régions 27 and 53: associative centres and two CAF centres each, in one département
    (the régional and départemental CAF cells are sensitive: two centres)."""
    rows = []
    for region, deps in (("11", ("75", "77", "78")), ("84", ("01", "38", "69"))):
        for i, dep in enumerate(deps):
            rows += [(region, dep, "caf", 1_000_000.0 + 10_000 * k + 3_000 * i) for k in range(8)]
            rows += [(region, dep, "associatif", 500_000.0 + 5_000 * k + 2_000 * i) for k in range(10)]
    rows += [("27", "21", "caf", 400_000.0), ("27", "21", "caf", 350_000.0)]
    rows += [("53", "22", "caf", 300_000.0), ("53", "22", "caf", 280_000.0)]
    for region, deps in (("27", ("21", "25")), ("53", ("22", "29"))):
        for i, dep in enumerate(deps):
            rows += [(region, dep, "associatif", 200_000.0 + 4_000 * k + 1_000 * i) for k in range(6)]
    return _microdata(rows)


def test_a_regional_cell_is_balanced_by_the_cheapest_region_not_the_largest(monkeypatch):
    """The CAF cells of régions 27 and 53 protect each other (one moves up, the other down,
    their associative cells the other way): four régional cells, two of them sensitive. The
    engine used to seek a régional cell's witness in its région and the two largest ones
    first, found one there (through région 84's CAF and associative cells, the costliest)
    and hid two more régional cells and the département cells under them."""
    micro = _two_small_regions_with_caf_cells()
    hidden = _hidden(_protect(micro))
    regional = {cell for cell in hidden if cell.startswith("region/")}
    assert regional == {"region/27/caf", "region/27/associatif", "region/53/caf", "region/53/associatif"}
    monkeypatch.setattr(secondary, "REGION_WITNESS_COUNTRYWIDE", False)
    before = _hidden(_protect(micro))
    assert {"region/84/caf", "region/84/associatif"} <= before
    assert hidden < before
