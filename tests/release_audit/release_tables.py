"""Hand-built microdata and released tables for the release-audit tests (bundle contract form)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook

YEAR = 2024
CODEBOOK = load_codebook(YEAR)
SOURCES = ("financement_caf", "financement_communes", "financement_interco", "financement_departement",
           "financement_region", "financement_etat", "financement_usagers", "financement_autres")
BUDGET = ("budget_total", *SOURCES)


def microdata(rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """One row per structure; geography defaults to département 23 (région 75), identity
    breakdowns to fixed codes; every budget source not given is 0 and the budget their sum."""
    frames = []
    for i, row in enumerate(rows):
        record: dict[str, object] = {"structure_id": f"S{i:04d}", "region": "75", "departement": "23",
                                     "type_structure": "CS", "mode_gestion": "associatif",
                                     "type_territoire": "urbain", "qpv": "non_concerne"}
        record.update(row)
        if any(s in row for s in SOURCES) and "budget_total" not in row:
            record.update({s: float(row.get(s, 0.0)) for s in SOURCES})
            record["budget_total"] = float(sum(record[s] for s in SOURCES))  # type: ignore[misc]
        frames.append(record)
    frame = pd.DataFrame(frames)
    for column in BREAKDOWNS:
        if column not in frame:
            frame[column] = None
    return frame


def sums(data: pd.DataFrame, variables: Iterable[str], keys: Iterable[tuple[str, str, str, str]],
         hidden: Iterable[tuple[str, str, str, str, str]] = ()) -> pd.DataFrame:
    """The published ``sum`` cells of ``variables`` at ``keys`` (level, territory, breakdown,
    category); ``hidden`` (variable + key) are suppressed (value null, status D)."""
    masked = set(hidden)
    rows = []
    for variable in variables:
        for level, territory, breakdown, category in keys:
            inside = data if level == "national" else data[data[level].astype(str) == territory]
            if breakdown:
                inside = inside[inside[breakdown].astype(str) == category]
            values = pd.to_numeric(inside[variable], errors="coerce").dropna()
            hide = (variable, level, territory, breakdown, category) in masked
            rows.append({"year": YEAR, "variable": variable, "statistic": "sum", "answer": "", "level": level,
                         "territory": territory, "breakdown": breakdown, "category": category,
                         "value": np.nan if hide else float(values.sum()), "n": len(values),
                         "status": "D" if hide else "V"})
    return pd.DataFrame(rows)
