"""Voilà dashboards for steering-committee meetings (charter 3.2: aggregated views only).

Every module of this package reads data through :mod:`senacs_workbench.released.published` and
nothing else; the notebooks in ``dashboards/`` only call :func:`tableau_de_bord` or
:func:`tendances`. One concern per module:

- :mod:`.data`: the published folder (from ``SENACS_PUBLISHED_DIR``) and the released cells;
- :mod:`.state`: the selection and its selectors (ipywidgets);
- :mod:`.values`: French display of a statistic's value;
- :mod:`.cards`: key-figure cards;
- :mod:`.charts`: plotly figures (plain ``go.Figure``);
- :mod:`.table`: the aggregated table shown, ``s`` for suppressed cells;
- :mod:`.downloads`: CSV/XLSX of the table shown;
- :mod:`.app`: the two dashboards, wiring selectors to outputs.
"""

from __future__ import annotations

from senacs_workbench.released.dashboard.app import tableau_de_bord, tendances
from senacs_workbench.released.dashboard.data import PUBLISHED_ENV

__all__ = ["PUBLISHED_ENV", "tableau_de_bord", "tendances"]
