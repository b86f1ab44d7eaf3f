"""The released cells a dashboard may show, read through the published reader only.

The Voilà process is given the path of the ``published/`` folder, and nothing else, in the
environment variable :data:`PUBLISHED_ENV` (set by ``senacs serve``). The query string of the
page, request headers and widget values never choose what is read.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook, Question, load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.released.published import LOCAL, PublishedReader
from senacs_workbench.released.sources import ReleasedSources, comparison_places, neighbours

PUBLISHED_ENV = "SENACS_PUBLISHED_DIR"
COMMITTEE_LEVELS = ("national", "region", "departement")
LEVEL_ORDER = {level: i for i, level in enumerate(COMMITTEE_LEVELS)}
TerritoryKey = tuple[str, str]
"""(level, INSEE code), e.g. ``("departement", "33")``, ``("national", "FR")``."""


class DashboardError(SenacsError):
    """The dashboard cannot show anything (message in French, shown to the viewer)."""


def published_dir_from_env() -> Path:
    value = os.environ.get(PUBLISHED_ENV, "").strip()
    if not value:
        raise DashboardError(
            "Aucun dossier de publication n'est indiqué : lancez les tableaux de bord avec « senacs serve »."
        )
    return Path(value)


def territory_name(key: TerritoryKey) -> str:
    return geo.name_or_code(key[0], key[1])


def territory_label(key: TerritoryKey) -> str:
    if key[0] == "national":
        return "France entière"
    name = territory_name(key)
    return f"{name} ({key[1]})"


def _place(key: TerritoryKey) -> geo.Territory | None:
    try:
        return geo.territory(key[0], key[1])  # type: ignore[arg-type]
    except SenacsError:
        return None


def comparison_set(key: TerritoryKey) -> list[TerritoryKey]:
    """The territory, its région (for a département) and the nation."""
    place = _place(key)
    if place is None:
        return [key]
    return [key, *((p.level, p.code) for p in neighbours(place))]


@dataclass(eq=False)
class Catalog:
    """Every released cell of the committee levels, loaded once per kernel and indexed by question."""

    reader: PublishedReader
    years: list[int]
    home: TerritoryKey = ("national", geo.NATIONAL_CODE)
    """The workspace's own territory: what the dashboards open on."""
    _sources: dict[tuple[int, TerritoryKey], str] = field(default_factory=dict)
    """(year, territory) → French description of the released bundle its cells come from."""
    _by_variable: dict[tuple[int, str], pd.DataFrame] = field(default_factory=dict)
    _territories: dict[int, list[TerritoryKey]] = field(default_factory=dict)

    def codebook(self, year: int) -> Codebook:
        return load_codebook(year)

    def variables(self, year: int) -> list[str]:
        """Questions released in ``year``, in questionnaire order."""
        present = {v for (y, v) in self._by_variable if y == year}
        return [q.id for q in self.codebook(year).questions if q.id in present]

    def question(self, variable: str, year: int | None = None) -> Question:
        for candidate in [year] if year is not None else sorted(self.years, reverse=True):
            if candidate is not None and variable in self.codebook(candidate):
                return self.codebook(candidate).question(variable)
        raise DashboardError(f"La question « {variable} » n'est publiée pour aucune campagne.")

    def years_of(self, variable: str) -> list[int]:
        return [y for y in self.years if (y, variable) in self._by_variable]

    def territories(self, year: int | None = None) -> list[TerritoryKey]:
        """Territories with released cells (in ``year``, or in any year), nation first."""
        years = [year] if year is not None else self.years
        keys = {k for y in years for k in self._territories.get(y, [])}
        return sorted(keys, key=lambda k: (LEVEL_ORDER.get(k[0], 9), territory_name(k)))

    def chart_keys(self, key: TerritoryKey, year: int) -> list[TerritoryKey]:
        """A territory on the comparison chart: itself, the other départements of its région that have
        released cells this year, its région and the nation."""
        keys = comparison_set(key)
        if key[0] != "departement" or len(keys) < 3:
            return keys
        region = keys[1][1]
        released = set(self._territories.get(year, []))
        siblings = [("departement", code) for code in geo.departements_of(region)
                    if code != key[1] and ("departement", code) in released]
        return [key, *siblings, *keys[1:]]

    def source_note(self, year: int, keys: list[TerritoryKey]) -> str:
        """Where the figures of ``keys`` come from, when some come from bundles added for comparison."""
        labels = {k: self._sources.get((year, k), "") for k in keys}
        if all(label in ("", LOCAL_LABEL) for label in labels.values()):
            return ""
        parts = []
        for label in dict.fromkeys(v for v in labels.values() if v):
            names = ", ".join(territory_name(k) if k[0] != "national" else "France" for k, v in labels.items()
                              if v == label)
            parts.append(f"{names} : {label}")
        return "Sources : " + " ; ".join(parts) + "."

    def cells(self, year: int, variable: str, territories: list[TerritoryKey] | None = None) -> pd.DataFrame:
        """The released cells of one question (suppressed values are NaN), optionally for some territories."""
        frame = self._by_variable.get((year, variable))
        if frame is None:
            return pd.DataFrame(columns=["year", "variable", "statistic", "answer", "level", "territory",
                                         "breakdown", "category", "value", "n", "status"])
        if territories is not None:
            wanted = pd.MultiIndex.from_tuples(territories, names=["level", "territory"])
            mask = pd.MultiIndex.from_frame(frame[["level", "territory"]]).isin(wanted)
            frame = frame[mask]
        return frame


LOCAL_LABEL = "jeu de tableaux du comité"


def _year_cells(reader: PublishedReader, year: int) -> tuple[pd.DataFrame, TerritoryKey, dict[TerritoryKey, str]]:
    """The committee-level cells of ``year``: the workspace's own, and for a département or région
    workspace the région, nation and neighbouring départements from the bundles added for comparison
    (each territory from the one bundle :class:`ReleasedSources` chooses)."""
    released = ReleasedSources(reader, year)
    home = released.home or geo.territory("national", geo.NATIONAL_CODE)
    local = reader.table(year, level=list(COMMITTEE_LEVELS))
    pairs = [(str(lv), str(c)) for lv, c in local[["level", "territory"]].drop_duplicates().itertuples(index=False)]
    labels: dict[TerritoryKey, str] = dict.fromkeys(pairs, LOCAL_LABEL)
    scope = comparison_places(home)
    if scope is None:
        return local, (home.level, home.code), labels
    received: list[pd.DataFrame] = []
    for place in scope:
        source = released.source_for(place)
        if source is None or source.name == LOCAL:
            continue
        cells = released.cells(place).drop(columns="source")
        if not cells.empty:
            received.append(cells)
            labels[(place.level, place.code)] = source.label
    # a place taken from a received bundle is shown from that bundle only, never mixed with the local one
    replaced = pd.MultiIndex.from_tuples([k for k, v in labels.items() if v != LOCAL_LABEL] or [("", "")])
    local = local[~pd.MultiIndex.from_frame(local[["level", "territory"]]).isin(replaced)]
    frames = [local, *received]
    return pd.concat(frames, ignore_index=True), (home.level, home.code), labels


def load_catalog(published_dir: Path | str | None = None) -> Catalog:
    """Read every released year of the workspace (committee levels only) through the reader, with
    the région and national figures of the bundles added for comparison."""
    reader = PublishedReader(published_dir if published_dir is not None else published_dir_from_env())
    years = reader.years(LOCAL)
    if not years:
        raise DashboardError("Aucun jeu de tableaux validé par le comité n'est disponible pour l'instant.")
    catalog = Catalog(reader=reader, years=years)
    for year in years:
        frame, catalog.home, labels = _year_cells(reader, year)
        for column in ("answer", "breakdown", "category"):
            frame[column] = frame[column].fillna("").astype(str)
        for variable, part in frame.groupby("variable", sort=False):
            catalog._by_variable[(year, str(variable))] = part.reset_index(drop=True)
        pairs = frame[["level", "territory"]].drop_duplicates()
        catalog._territories[year] = [(str(lv), str(c)) for lv, c in pairs.itertuples(index=False)]
        catalog._sources.update({(year, key): label for key, label in labels.items()})
    return catalog


CellKey = tuple[str, str, str, str, str, str]
"""(level, territory, statistic, answer, breakdown, category)."""


def cell_index(cells: pd.DataFrame) -> dict[CellKey, tuple[float | None, int | None, str]]:
    """Every cell of ``cells`` by its key, for constant-time look-ups while drawing."""
    columns = [cells[c].tolist() for c in ("level", "territory", "statistic", "answer", "breakdown", "category",
                                             "value", "n", "status")]
    index: dict[CellKey, tuple[float | None, int | None, str]] = {}
    for level, territory, statistic, answer, breakdown, category, value, n, status in zip(*columns):
        index[(level, territory, statistic, answer, breakdown, category)] = (
            None if pd.isna(value) else float(value), None if pd.isna(n) else int(n), str(status))
    return index


_INDEXES: OrderedDict[int, tuple[pd.DataFrame, dict[CellKey, tuple[float | None, int | None, str]]]] = OrderedDict()


def pick(cells: pd.DataFrame, key: TerritoryKey, statistic: str, *, answer: str = "", breakdown: str = "",
         category: str = "") -> tuple[float | None, int | None, str]:
    """(value, n, status) of one cell; ``(None, None, "")`` if it was not released."""
    cached = _INDEXES.get(id(cells))
    if cached is None or cached[0] is not cells:
        cached = (cells, cell_index(cells))
        _INDEXES[id(cells)] = cached
        while len(_INDEXES) > 16:
            _INDEXES.popitem(last=False)
    return cached[1].get((key[0], key[1], statistic, answer, breakdown, category), (None, None, ""))


def ordered_codes(observed: object, known: tuple[str, ...]) -> list[str]:
    """Observed codes (answers, categories) in codebook order, unknown ones last; empty codes dropped."""
    present = [str(c) for c in dict.fromkeys(observed) if c]  # type: ignore[call-overload]
    return [c for c in known if c in present] + [c for c in present if c not in known]


def answers_of(cells: pd.DataFrame, question: Question) -> list[str]:
    return ordered_codes(cells.loc[cells.statistic == "share", "answer"], question.answer_codes)
