"""Secondary suppression: choices of the greedy that hide fewer cells, each shown against
what the engine hid without it, on small tables built for the purpose. Every pattern is
checked by the independent audit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.disclosure import secondary
from senacs_workbench.disclosure.audit import audit
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.protect import protect
from senacs_workbench.disclosure.rules import load_rules

YEAR = 2024
BUDGET = load_codebook(YEAR).question("budget_total")
OTHER_BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")


def _microdata(rows: list[tuple[str, str, float]], breakdown: str) -> pd.DataFrame:
    micro = pd.DataFrame(rows, columns=["departement", breakdown, "value"])
    micro["structure_id"] = [f"S{i:03d}" for i in range(len(micro))]
    micro["region"] = np.where(micro["departement"] == "976", "06", "76")
    for other in OTHER_BREAKDOWNS:
        if other != breakdown:
            micro[other] = "x"
    return micro


def _hidden(micro: pd.DataFrame, breakdown: str, rules=None) -> set[str]:
    spec = ReleaseSpec(levels=("national", "departement"), breakdowns=(breakdown,))
    rules = rules or load_rules()
    result = protect(micro, BUDGET, YEAR, spec, rules)
    assert audit(result.cells, result.protection, rules=rules).ok
    sums = result.cells[(result.cells["statistic"] == "sum") & (result.cells["status"] != "V")]
    return {f"{t}/{c}" for t, c in zip(sums["territory"], sums["category"], strict=True)}


def _group_order(engine: secondary._Engine) -> np.ndarray:
    """The order before totals came first: national, régions, départements, each by group."""
    prim = np.flatnonzero(engine.need > 0)
    groups = prim % engine.G
    rank = np.array([secondary.LEVEL_ORDER.index(lv) for lv in engine.layout.level[groups]])
    return prim[np.lexsort((prim // engine.G, groups, rank))]


def test_a_departement_total_protected_first_spares_a_category(monkeypatch):
    """Mayotte's total (two structures) needs another département total hidden: Ariège's,
    the smallest. Ariège's CS cell (two structures) is then protected through it. Protected
    first, that CS cell hid Ariège's EVS cell, and Mayotte's total hid Ariège's total anyway."""
    rows = [("976", "CS", 1556.0), ("976", "EVS", 840.0), ("09", "CS", 500.0), ("09", "CS", 391.0)]
    rows += [("09", "EVS", 1187.0 + k) for k in range(6)]
    for dep in ("48", "65"):
        rows += [(dep, "CS", 3000.0 + 10 * k) for k in range(4)] + [(dep, "EVS", 600.0), (dep, "EVS", 500.0)]
    for dep in ("11", "12", "31"):
        rows += [(dep, "CS", 5000.0 + 10 * k) for k in range(6)] + [(dep, "EVS", 3000.0 + 10 * k) for k in range(4)]
    micro = _microdata(rows, "type_structure")
    # the singletons of Mayotte are insiders; their protection (tested elsewhere) needs
    # Ariège's EVS cell in both orders, so this test isolates the order from it
    rules = replace(load_rules(), insiders=False)
    hidden = _hidden(micro, "type_structure", rules)
    assert {"976/", "09/", "09/CS"} <= hidden
    assert "09/EVS" not in hidden
    monkeypatch.setattr(secondary._Engine, "order", _group_order)
    assert "09/EVS" in _hidden(micro, "type_structure", rules)


def _witness_as_found(self, r, direction, fixed, key, guard, w):
    """The engine without the split-witness re-solve."""
    return w, self._new_cells(w)[0]


def test_a_witness_does_not_hide_a_small_sibling_a_larger_one_replaces():
    """Each département: a CAF cell of two structures (sensitive, to be protected by 90), six
    associative structures (60 150) and three of a collectivité (30 in all). The cheapest
    move per unit goes through the collectivité cells down to 0, then through the
    associative ones: both would be hidden, where the associative cells alone suffice."""
    rows = []
    for dep in ("01", "02", "03", "04"):
        rows += [(dep, "caf", 900.0), (dep, "caf", 100.0)]
        rows += [(dep, "associatif", 10000.0 + 10 * k) for k in range(6)]
        rows += [(dep, "collectivite", 10.0) for _ in range(3)]
    micro = _microdata(rows, "mode_gestion")
    hidden = _hidden(micro, "mode_gestion")
    assert {f"{dep}/caf" for dep in ("01", "02", "03", "04")} <= hidden
    assert not any(cell.endswith("/collectivite") for cell in hidden)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secondary._Engine, "_sparser", _witness_as_found)
        assert any(cell.endswith("/collectivite") for cell in _hidden(micro, "mode_gestion"))
