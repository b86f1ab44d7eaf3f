"""tau-Argus Modular against the engine on one whole hierarchical table.

The single-table comparison of ``bench_disclosure.py`` uses département × breakdown with the
national margins. What a régional committee sees is the whole hierarchy: nation > région >
département, crossed by a breakdown. This module protects that one table with tau-Argus
Modular (``pytauargus``, the hierarchy as an ``.hrc`` file, the same primary rules) and with
the engine (levels national, région, département; the one breakdown), and prints, per level,
the share of the breakdown's cells and of the territory totals that each hides, beside the
shares the engine hides when it protects every breakdown jointly, as it does for a release.

    python benchmarks/tauargus_hierarchy.py [--year 2025] [--variable budget_total] [--breakdown mode_gestion]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.protect import protect

LEVELS = ("national", "region", "departement")
LEVEL_LABELS = {"national": "nation", "region": "régions", "departement": "départements"}
TAU_RULES = "NK(1,85)|P(10,1)|FREQ(3,10)"
TAU_SUPPRESS = "MOD(1,5,1,1,1)"
REGION_PREFIX = "R"
"""Région codes collide with département codes (75 is Nouvelle-Aquitaine and Paris): the
hierarchy file names régions with this prefix."""
CODE_WIDTH = 3
"""tau-Argus reads fixed-width codes: département codes are padded to the longest (971)."""


def _shares(frame: pd.DataFrame) -> dict[tuple[str, bool], float]:
    """Share of hidden cells per (level, is_total), over cells with contributors."""
    out = {}
    for (level, total), part in frame.groupby(["level", "total"]):
        out[(str(level), bool(total))] = float(part["hidden"].mean()) if len(part) else float("nan")
    return out


def tauargus_pattern(base: pd.DataFrame, values: np.ndarray, breakdown: str, workdir: Path) -> pd.DataFrame:
    """tau-Argus Modular's pattern on the hierarchical table: level, total?, hidden."""
    import pytauargus

    micro = pd.DataFrame({
        "dep": base["departement"].astype(str).str.rjust(CODE_WIDTH, "0"),
        "reg": REGION_PREFIX + base["region"].astype(str),
        "bd": base[breakdown].astype(str),
        "val": values,
    })
    micro = micro[np.isfinite(micro["val"])]
    hrc = pytauargus.write_hrc(micro, ["dep", "reg"], hierleadstring="@", hrc_filename=str(workdir / "geo.hrc"))
    result = pytauargus.protect(micro[["dep", "bd", "val"]], tables=[["dep", "bd"]], response="val",
                                safety_rules=TAU_RULES, suppress=TAU_SUPPRESS, hrc={"dep": hrc},
                                hierleadstring="@", totcode="Total", workdir=str(workdir))
    table = result.tables[0].dataframe()
    geo_code = table["dep"].astype(str)
    level = np.where(geo_code == "Total", "national",
                     np.where(geo_code.str.startswith(REGION_PREFIX), "region", "departement"))
    return pd.DataFrame({
        "level": level,
        "total": table["bd"].astype(str).to_numpy() == "Total",
        "hidden": table["status"].isin(["U", "M"]).to_numpy(),
        "freq": pd.to_numeric(table.get("freq", pd.Series(1, index=table.index)), errors="coerce").to_numpy(),
    })


def engine_pattern(base: pd.DataFrame, values: np.ndarray, variable: str, year: int,
                   breakdowns: tuple[str, ...], breakdown: str) -> pd.DataFrame:
    """The engine's pattern (sum cells) of ``variable`` protected with ``breakdowns``, restricted
    to the territory totals and the cells of ``breakdown``."""
    question = load_codebook(year).question(variable)
    spec = ReleaseSpec(levels=LEVELS, breakdowns=breakdowns)
    cells = protect(base.assign(value=values), question, year, spec).cells
    cells = cells[(cells["statistic"] == "sum") & (cells["n"] > 0) & cells["breakdown"].isin(["", breakdown])]
    return pd.DataFrame({
        "level": cells["level"].to_numpy(),
        "total": (cells["breakdown"] == "").to_numpy(),
        "hidden": (cells["status"] != "V").to_numpy(),
    })


def compare(base: pd.DataFrame, data: pd.DataFrame, year: int, variable: str, breakdown: str) -> None:
    values = pd.to_numeric(data[variable], errors="coerce").to_numpy(dtype=float)
    with tempfile.TemporaryDirectory(prefix="tau-hier-") as tmp:
        tau = tauargus_pattern(base, values, breakdown, Path(tmp))
    tau = tau[tau["freq"] > 0]
    patterns = {
        f"tau-Argus {TAU_SUPPRESS}, un tableau hiérarchique": _shares(tau),
        f"moteur, ce seul tableau ({breakdown})": _shares(engine_pattern(base, values, variable, year,
                                                                          (breakdown,), breakdown)),
        "moteur, toutes les ventilations protégées ensemble (publication)": _shares(
            engine_pattern(base, values, variable, year, BREAKDOWNS, breakdown)),
    }
    print(f"\nTableau hiérarchique nation > région > département × {breakdown}, {variable} {year} "
          "(part des cases masquées, cases non vides) :")
    for label, shares in patterns.items():
        parts = []
        for level in LEVELS:
            category = shares.get((level, False), float("nan"))
            total = shares.get((level, True), float("nan"))
            parts.append(f"{LEVEL_LABELS[level]} × ventilation {category:.1%}, totaux {total:.1%}")
        print(f"  {label} : " + " ; ".join(parts))
    tau_shares = patterns[f"tau-Argus {TAU_SUPPRESS}, un tableau hiérarchique"]
    released = patterns["moteur, toutes les ventilations protégées ensemble (publication)"]
    for level in ("region", "departement"):
        ours, theirs = released.get((level, False), float("nan")), tau_shares.get((level, False), float("nan"))
        ratio = ours / theirs if theirs else float("nan")
        print(f"  Ratio publication / tau-Argus, {LEVEL_LABELS[level]} × ventilation : {ratio:.2f} (objectif ≤ 1,0)")


def main() -> None:
    from bench_disclosure import national_microdata

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--variable", default="budget_total")
    parser.add_argument("--breakdown", default="mode_gestion")
    args = parser.parse_args()
    base, data = national_microdata(args.year)
    compare(base, data, args.year, args.variable, args.breakdown)


if __name__ == "__main__":
    main()
