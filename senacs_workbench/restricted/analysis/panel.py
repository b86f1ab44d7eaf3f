"""The constant panel's size (restricted side: reads the structures of each year through the store;
who is in the panel is :func:`~senacs_workbench.restricted.constant_panel.panel_members`'s rule).

Run by the campaign runner, as the preparer, before the ``trends`` notebooks: every read goes
through :class:`RawDataStore` (access-checked, written to the audit log). Only the number of
structures present every year leaves this module: a count of structures, which the rule set
never suppresses (``public_identity.exempt``: the list of structures is public on senacs.fr).
Never imported by committee-facing code.
"""

from __future__ import annotations

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.constant_panel import panel_members
from senacs_workbench.restricted.store import RawDataStore


def panel_size(workspace: Workspace, territory: str, first_year: int, last_year: int,
               user: str | None = None) -> int | None:
    """Number of structures of ``territory`` present in every campaign from ``first_year`` to ``last_year``.

    None when the store lacks one of the years (or the acting user has no raw-data access).
    """
    try:
        members = panel_members(RawDataStore(workspace, user), geo.as_territory(territory), first_year, last_year)
    except SenacsError:
        return None
    return None if members is None else len(members)
