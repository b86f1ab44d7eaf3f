"""Descriptive summaries of a campaign for the preparer (restricted zone: never published as is)."""

from __future__ import annotations

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook


def structures_by_region(wide: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Structures, CS, EVS, respondents and response rate per région, plus a France row."""
    frame = wide.assign(
        respondent=codebook.respondents(wide),
        cs=wide["type_structure"].eq("CS"),
        evs=wide["type_structure"].eq("EVS"),
    )
    grouped = frame.groupby("region", sort=True).agg(
        structures=("structure_id", "size"), cs=("cs", "sum"), evs=("evs", "sum"), respondents=("respondent", "sum")
    )
    names = geo.regions().set_index("code")["nom"]
    grouped.insert(0, "region_name", names.reindex(grouped.index).to_numpy())
    total = grouped[["structures", "cs", "evs", "respondents"]].sum()
    grouped.loc["FR"] = ["France", *total.tolist()]
    grouped["response_rate"] = grouped["respondents"] / grouped["structures"]
    return grouped
