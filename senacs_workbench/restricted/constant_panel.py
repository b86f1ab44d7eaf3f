"""The constant panel: the structures present at every campaign of a period (charter 3.3, trends).

Trends on all structures mix real change with structures entering and leaving. Trends on the
constant panel do not. Panel aggregates are aggregates of raw data, so they reach a committee
only through the publication gate: the panel is a *breakdown* of the committee release
(``panel_constant``: ``panel`` / ``hors_panel``, see :data:`~senacs_workbench.core.codebook.DERIVED_BREAKDOWNS`),
protected jointly with every other view of the year (an "all structures minus panel"
difference is a margin like any other), audited and approved with the bundle. Only the trend
indicators (:data:`PANEL_VARIABLES`) are crossed by the panel.

The period is the workspace's ``panel_years`` (``senacs panel --years 2019-2024``, stored in
``workspace.yaml``): every year of the period is published with the same panel, recorded in
its manifest (``panel_years``). Extending the period changes the panel, so the years already
released are published again (a new bundle version, jointly with the old one through the
ledger) — ``senacs publish`` says so. Panel membership (present every year or not) is public
identity data: the directory of structures of each campaign is public on senacs.fr.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_text_atomic
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace

CONFIG_KEY = "panel_years"
PANEL_VARIABLES = (
    "type_structure", "actions_jeunesse", "actions_numerique", "actions_acces_droits", "partenaire_commune",
    "salaries", "benevoles_activite", "budget_total", "personnes_touchees", "etp",
)
"""The questions released by panel (the trend indicators): crossing every question by the panel
would cost as much protection work again for figures no analysis draws."""
_PERIOD = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")


class RawReader(Protocol):
    """What the panel reads of the raw data: a store or an open session (``restricted.store``)."""

    def versions(self, year: int) -> pd.DataFrame: ...

    def wide(self, year: int, territory: geo.Territory | str = ..., version: int | None = None,
             variables: Sequence[str] | None = None) -> pd.DataFrame: ...


class PanelError(SenacsError):
    """An invalid panel period (French message)."""


def parse_period(text: str) -> tuple[int, int]:
    match = _PERIOD.match(str(text))
    if not match:
        raise PanelError(f"Période du panel invalide : « {text} » (attendu : 2019-2024).")
    first, last = int(match.group(1)), int(match.group(2))
    if first >= last:
        raise PanelError(f"Période du panel invalide : « {text} » (au moins deux campagnes, la première d'abord).")
    return first, last


def panel_window(workspace: Workspace) -> tuple[int, int] | None:
    """The workspace's panel period, or None when none is set."""
    value = workspace.config.get(CONFIG_KEY)
    return parse_period(str(value)) if value else None


def set_panel_window(workspace: Workspace, first: int, last: int) -> None:
    import yaml

    if first >= last:
        raise PanelError(f"Période du panel invalide : {first}-{last}.")
    config = dict(workspace.config)
    config[CONFIG_KEY] = f"{first}-{last}"
    write_text_atomic(workspace.config_path, yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def panel_members(raw: RawReader, territory: geo.Territory, first: int, last: int) -> set[str] | None:
    """Ids of the structures of ``territory`` present in the latest data version of every
    campaign from ``first`` to ``last``; None when one of these campaigns is not imported.
    Reads identity data only, from ``raw`` (a :class:`~senacs_workbench.restricted.store.RawDataStore`,
    access-checked and logged at each read, or an open session)."""
    members: set[str] | None = None
    for year in range(first, last + 1):
        if raw.versions(year).empty:
            return None
        ids = set(raw.wide(year, territory, variables=["type_structure"])["structure_id"].astype(str))
        members = ids if members is None else members & ids
    return members or set()


def panel_period(window: tuple[int, int] | None, raw: RawReader, year: int) -> tuple[int, int] | None:
    """The panel period a release of ``year`` carries: the workspace's ``window``
    (:func:`panel_window`), when ``year`` is in it and every campaign of it is imported (read from
    the store's versions only); else None."""
    if window is None or not window[0] <= year <= window[1]:
        return None
    if any(raw.versions(y).empty for y in range(window[0], window[1] + 1)):
        return None
    return window
