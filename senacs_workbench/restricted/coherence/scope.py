"""Territories of a workspace, of a structure, and which structures a territory holds."""

from __future__ import annotations

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace


def resolve_territory(workspace: Workspace, territory: geo.Territory | str | None) -> geo.Territory:
    """``territory`` (a reference or a territory), or the workspace's when None."""
    return workspace.territory if territory is None else geo.as_territory(territory)


def structure_territory(departement: str | None) -> geo.Territory:
    """The département of a structure (the national territory if it is unknown)."""
    if departement:
        try:
            return geo.territory("departement", str(departement))
        except ValueError:
            pass
    return geo.territory("national", geo.NATIONAL_CODE)


def in_territory(frame: pd.DataFrame, territory: geo.Territory) -> pd.Series:
    """Rows of ``frame`` (columns ``departement``, ``region``) inside ``territory``."""
    if territory.level == "national":
        return pd.Series(True, index=frame.index)
    if territory.level == "region":
        return frame["region"].astype(str) == territory.code
    if territory.level == "departement":
        return frame["departement"].astype(str) == territory.code
    raise SenacsError(f"Territoire non pris en charge pour le contrôle de cohérence : {territory.level}.")


def territory_slug(territory: geo.Territory) -> str:
    return "FR" if territory.level == "national" else f"{territory.level}-{territory.code}"
