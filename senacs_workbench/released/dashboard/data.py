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
    try:
        return geo.territory(key[0], key[1]).name  # type: ignore[arg-type]
    except ValueError:
        return key[1]


def territory_label(key: TerritoryKey) -> str:
    if key[0] == "national":
        return "France entière"
    name = territory_name(key)
    return f"{name} ({key[1]})"


def comparison_set(key: TerritoryKey) -> list[TerritoryKey]:
    """The territory, its région (for a département) and the nation."""
    level, code = key
    if level == "departement":
        try:
            return [key, ("region", geo.region_of(code)), ("national", geo.NATIONAL_CODE)]
        except ValueError:
            return [key, ("national", geo.NATIONAL_CODE)]
    if level == "region":
        return [key, ("national", geo.NATIONAL_CODE)]
    return [key]


@dataclass(eq=False)
class Catalog:
    """Every released cell of the committee levels, loaded once per kernel and indexed by question."""

    reader: PublishedReader
    years: list[int]
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


def load_catalog(published_dir: Path | str | None = None) -> Catalog:
    """Read every released year of the local source (committee levels only) through the reader."""
    reader = PublishedReader(published_dir if published_dir is not None else published_dir_from_env())
    years = reader.years(LOCAL)
    if not years:
        raise DashboardError("Aucun jeu de tableaux validé par le comité n'est disponible pour l'instant.")
    catalog = Catalog(reader=reader, years=years)
    for year in years:
        frame = reader.table(year, level=list(COMMITTEE_LEVELS))
        for column in ("answer", "breakdown", "category"):
            frame[column] = frame[column].fillna("").astype(str)
        for variable, part in frame.groupby("variable", sort=False):
            catalog._by_variable[(year, str(variable))] = part.reset_index(drop=True)
        pairs = frame[["level", "territory"]].drop_duplicates()
        catalog._territories[year] = [(str(lv), str(c)) for lv, c in pairs.itertuples(index=False)]
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
