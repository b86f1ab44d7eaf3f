"""tau-Argus Modular with its singleton checks leaks to an insider where the engine does not.

The benchmark compares information loss with tau-Argus at equal *declared* protection
(``MOD(1,5,1,1,1)``: singleton-with-singleton, singleton-with-more and frequency checks on,
against the engine as released, which protects every sensitive cell against each structure
that is alone in a cell). This test shows what the engine's extra suppressions buy, on the
same national synthetic table (département × type of structure, national margins,
``budget_total``): one singleton, knowing its own value, narrows a primary cell of another
département below its required protection in tau-Argus's pattern, and in none of the
engine's. Cells containing the insider's own contribution are not counted (its own value
bounds them trivially).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytauargus
import pytest
from attacks import TableAttacker, cell_key

from senacs_workbench.core import territories
from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.demo.synthetic import generate_frames
from senacs_workbench.disclosure.cells import CELL_COLUMNS, ReleaseSpec
from senacs_workbench.disclosure.protect import protect

YEAR = 2025
VARIABLE = "budget_total"
BREAKDOWN = "type_structure"
RULES = "NK(1,85)|P(10,1)|FREQ(3,10)"


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    data = generate_frames([YEAR], seed=2024)[YEAR].data
    region = territories.departements().set_index("code")["region"]
    return pd.DataFrame(
        {
            "structure_id": data["id_structure"].astype(str),
            "region": data["departement"].map(region),
            "departement": data["departement"].astype(str),
            **{b: data[b].astype("string") for b in BREAKDOWNS},
            "value": pd.to_numeric(data[VARIABLE], errors="coerce").to_numpy(),
        }
    )


def _tau_cells(national: pd.DataFrame, workdir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """tau-Argus's pattern as engine cells (national/département levels) and its protection."""
    micro = pd.DataFrame(
        {"dep": national["departement"], "bd": national[BREAKDOWN].astype(str), "val": national["value"]}
    ).dropna()
    table = (
        pytauargus.protect(
            micro,
            tables=[["dep", "bd"]],
            response="val",
            safety_rules=RULES,
            suppress="MOD(1,5,1,1,1)",
            workdir=str(workdir),
        )
        .tables[0]
        .dataframe()
    )
    dep = table["dep"].astype(str).str.strip()
    cat = table["bd"].astype(str).str.strip()
    status = table["status"].astype(str).str.strip().map({"U": "A", "M": "D"}).fillna("V")
    cells = pd.DataFrame(
        {
            "year": YEAR,
            "variable": VARIABLE,
            "statistic": "sum",
            "answer": "",
            "level": np.where(dep == "Total", "national", "departement"),
            "territory": np.where(dep == "Total", "FR", dep),
            "breakdown": np.where(cat == "Total", "", BREAKDOWN),
            "category": np.where(cat == "Total", "", cat),
            "value": table["val"].astype(float),
            "n": table["freq"].astype(float),
            "status": status,
        }
    )[list(CELL_COLUMNS)]
    key_columns = ["variable", "statistic", "answer", "level", "territory", "breakdown", "category"]
    protection = cells[status == "A"][key_columns]
    protection = protection.assign(
        upper=table.loc[status == "A", "upper"].astype(float).to_numpy(),
        lower=table.loc[status == "A", "lower"].astype(float).to_numpy(),
    )
    return cells, protection


def _insider_leaks(cells: pd.DataFrame, protection: pd.DataFrame) -> list[str]:
    """Primary cells that one singleton narrows below their protection (not its own cells)."""
    cells = cells[cells["statistic"] == "sum"].reset_index(drop=True)
    hidden = cells[cells["status"] != "V"]
    required = {
        cell_key(r.variable, "sum", r.level, r.territory, r.breakdown or "", r.category or ""): (r.upper, r.lower)
        for r in protection[protection["statistic"] == "sum"].itertuples()
    }
    leaks = []
    for insider in hidden[hidden["n"] == 1].itertuples():
        attacker = TableAttacker()
        attacker.add_release("r", cells)
        # national = Σ départements, per column (no région level in this release)
        for category in cells["category"].unique():
            column = cells[cells["category"] == category]
            parent = cell_key(VARIABLE, "sum", "national", "FR", column["breakdown"].iloc[0], category)
            kids = [
                cell_key(VARIABLE, "sum", "departement", t, b, category)
                for t, b in zip(
                    column.loc[column["level"] == "departement", "territory"],
                    column.loc[column["level"] == "departement", "breakdown"],
                    strict=True,
                )
            ]
            terms = {attacker.name("r", parent): 1.0} | {attacker.name("r", k): -1.0 for k in kids}
            attacker.k.equal(terms, 0.0)
        own = cell_key(VARIABLE, "sum", insider.level, insider.territory, insider.breakdown, insider.category)
        attacker.k.know(attacker.name("r", own), float(insider.value))
        for target in hidden[hidden["status"].isin(["A", "B"])].itertuples():
            same_place = target.territory in (insider.territory, "FR")
            if same_place and target.category in (insider.category, ""):
                continue  # the insider's own contribution is in it
            key = cell_key(VARIABLE, "sum", target.level, target.territory, target.breakdown, target.category)
            up, down = required.get(key, (0.0, 0.0))
            lo, hi = attacker.interval("r", key, integral=False)
            tol = 1e-6 * (1 + abs(target.value))
            if hi - target.value < up - tol or target.value - lo < down - tol or hi - lo <= tol:
                leaks.append(f"{insider.territory}/{insider.category} → {target.territory}/{target.category}")
    return leaks


def test_tau_argus_singleton_pattern_leaks_to_an_insider_where_the_engine_does_not(national, tmp_path):
    tau_cells, tau_protection = _tau_cells(national, tmp_path)
    assert (tau_cells["n"] == 1).any()
    tau_leaks = _insider_leaks(tau_cells, tau_protection)
    assert tau_leaks, "tau-Argus's pattern was expected to leak to an insider on this table"

    question = load_codebook(YEAR).question(VARIABLE)
    spec = ReleaseSpec(levels=("national", "departement"), breakdowns=(BREAKDOWN,))
    ours = protect(national, question, YEAR, spec)
    cells = ours.cells[ours.cells["statistic"] == "sum"]
    # the same table, the same primary cells
    assert len(cells) == len(tau_cells)
    assert (cells["status"].isin(["A", "B"])).sum() == (tau_cells["status"] == "A").sum()
    assert _insider_leaks(cells, ours.protection) == []
