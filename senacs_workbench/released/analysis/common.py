"""Shared pieces of the committee analyses: indicators read from released bundles, reports, key figures.

Everything here reads released, protected cells through :class:`PublishedReader` and nothing
else. A suppressed cell keeps a NaN ``value`` and its status; it is shown ``s``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import QuestionType, load_codebook
from senacs_workbench.core.formatting import format_euros, format_number, format_percent
from senacs_workbench.released.published import SUPPRESSED_MARK, PublishedReader
from senacs_workbench.released.sources import ReleasedSources, neighbours

KEY_FIGURES_FILE = "key_figures.json"
ABSENT_MARK = "–"
"""Shown when a cell is not in any released bundle (question not asked that year, territory absent)."""

RATIO_STATISTICS = ("share", "response_rate")
STATISTIC_LABELS = {
    "structures": "structures",
    "respondents": "répondants",
    "response_rate": "taux de réponse",
    "count": "effectif",
    "share": "part",
    "sum": "total",
    "mean": "moyenne",
    "median": "médiane",
}


@dataclass(frozen=True)
class Indicator:
    """One released figure of a question: ``(variable, statistic, answer)``."""

    variable: str
    statistic: str
    answer: str = ""
    label: str | None = None

    @property
    def key(self) -> str:
        return ":".join(p for p in (self.variable, self.statistic, self.answer) if p)


def parse(territory: str | geo.Territory) -> geo.Territory:
    """The territory a notebook parameter names (:func:`~senacs_workbench.core.territories.as_territory`)."""
    return geo.as_territory(territory)


def comparators(territory: str | geo.Territory) -> list[geo.Territory]:
    """The territory, then its région (for a département), then the nation."""
    place = parse(territory)
    return [place, *neighbours(place)]


def display_name(place: geo.Territory) -> str:
    if place.level == "national":
        return "France"
    return f"{place.name} ({place.code})" if place.level == "departement" else place.name


def indicator_label(year: int, indicator: Indicator) -> str:
    if indicator.label:
        return indicator.label
    codebook = load_codebook(year)
    if indicator.variable not in codebook:
        return indicator.variable
    question = codebook.question(indicator.variable)
    if indicator.answer and question.type is not QuestionType.YES_NO:
        return f"{question.label} : {question.category_label(indicator.answer)}"
    return question.label


def format_value(value: float | None, statistic: str, unit: str = "") -> str:
    """French display of a released value (``12,5 %``, ``1 234 €``, ``3,4``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ABSENT_MARK
    if statistic in RATIO_STATISTICS:
        return format_percent(value)
    if unit == "€":
        return format_euros(value)
    if unit == "%":
        return f"{format_number(value, 1)}\u00a0%"
    decimals = 0 if float(value).is_integer() or statistic in ("structures", "respondents", "count") else 1
    return format_number(value, decimals)


class CellLookup(Protocol):
    """What :func:`indicator_frame` reads: released cells of one year per place (a :class:`CellSource`,
    or the infra-départemental analysis's source, which adds EPCI and communes)."""

    year: int

    def cells(self, place: geo.Territory, variables: tuple[str, ...], breakdown: str = "") -> pd.DataFrame: ...


class CellSource:
    """Released cells of one year, looked up per territory across the local bundle and comparison
    bundles, each territory from the one bundle :class:`~senacs_workbench.released.sources.ReleasedSources`
    chooses for it."""

    def __init__(self, published_dir: Path | str, year: int) -> None:
        self.reader = PublishedReader(published_dir)
        self.year = year
        self.released = ReleasedSources(self.reader, year)
        self._cache: dict[tuple[str, str, str], pd.DataFrame] = {}

    @property
    def available(self) -> bool:
        return bool(self.released.sources)

    def source_for(self, place: geo.Territory) -> str | None:
        source = self.released.source_for(place)
        return None if source is None else source.name

    def cells(self, place: geo.Territory, variables: tuple[str, ...], breakdown: str = "") -> pd.DataFrame:
        source = self.source_for(place)
        columns = ["variable", "statistic", "answer", "category", "value", "n", "status"]
        if source is None:
            return pd.DataFrame(columns=columns)
        key = (source, place.key, breakdown)
        if key not in self._cache:
            frame = self.released.cells(place, breakdown=breakdown)
            self._cache[key] = frame[columns].reset_index(drop=True)
        frame = self._cache[key]
        return frame[frame["variable"].isin(variables)]


def indicator_frame(
    source: CellLookup, indicators: list[Indicator], places: list[geo.Territory], breakdown: str = ""
) -> pd.DataFrame:
    """One row per (indicator, territory[, category]): value (NaN if suppressed), status, shown, n, response rate."""
    variables = tuple(sorted({i.variable for i in indicators}))
    codebook = load_codebook(source.year)
    rows: list[dict[str, Any]] = []
    for place in places:
        cells = source.cells(place, variables, breakdown)
        indexed = {
            (r.variable, r.statistic, r.answer, r.category): r for r in cells.itertuples(index=False)
        }
        categories = sorted({c for c in cells["category"]}) if breakdown else [""]
        for category in categories:
            for indicator in indicators:
                unit = codebook.question(indicator.variable).unit if indicator.variable in codebook else ""
                cell = indexed.get((indicator.variable, indicator.statistic, indicator.answer, category))
                rate = indexed.get((indicator.variable, "response_rate", "", category))
                structures = indexed.get((indicator.variable, "structures", "", category))
                if cell is None:
                    value, status, n = float("nan"), "absent", None
                else:
                    value, status, n = float(cell.value), str(cell.status), int(cell.n)
                shown = (SUPPRESSED_MARK if status not in ("V", "absent") else
                         format_value(value, indicator.statistic, unit))
                rate_value = float(rate.value) if rate is not None else float("nan")
                rate_status = str(rate.status) if rate is not None else "absent"
                rows.append({
                    "indicator": indicator.key,
                    "label": indicator_label(source.year, indicator),
                    "variable": indicator.variable,
                    "statistic": indicator.statistic,
                    "answer": indicator.answer,
                    "unit": unit,
                    "level": place.level,
                    "territory": place.key,
                    "territory_name": display_name(place),
                    "breakdown": breakdown,
                    "category": category,
                    "value": None if math.isnan(value) else value,
                    "status": status,
                    "shown": shown,
                    "n": n,
                    "structures": None if structures is None or pd.isna(structures.value) else int(structures.value),
                    "response_rate": None if math.isnan(rate_value) else rate_value,
                    "response_rate_shown": (SUPPRESSED_MARK if rate_status not in ("V", "absent")
                                            else format_value(rate_value, "response_rate")),
                })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- reports


@dataclass
class FigureSpec:
    """A chart (or a table) of a report, with the released cells behind it."""

    id: str
    title: str
    data: pd.DataFrame
    kind: str = "bar"  # bar, bar_breakdown, line, table
    y_title: str = ""
    note: str = ""
    table: pd.DataFrame | None = None
    """For ``kind="table"``: the table to display, if not the cells themselves."""


@dataclass
class Section:
    title: str
    text: str = ""
    figures: list[FigureSpec] = field(default_factory=list)


@dataclass
class Report:
    """What a notebook shows: French title and prose, sections of figures, and their key figures."""

    kind: str
    title: str
    audience: str
    parameters: dict[str, Any]
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def figures(self) -> list[FigureSpec]:
        return [f for s in self.sections for f in s.figures]

    @property
    def has_suppressed(self) -> bool:
        return any("status" in f.data and f.data["status"].isin(["A", "B", "D", "R"]).any() for f in self.figures)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def key_figures(report: Report) -> dict[str, Any]:
    """The figures of a report as plain JSON: what a test compares between two runs."""
    keep = ["indicator", "territory", "category", "year", "value", "status", "shown", "n", "response_rate"]
    figures = []
    for figure in report.figures:
        frame = figure.data[[c for c in keep if c in figure.data.columns]]
        records = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        figures.append({"id": figure.id, "title": figure.title, "kind": figure.kind, "cells": records})
    return {
        "kind": report.kind,
        "audience": report.audience,
        "parameters": {k: _jsonable(v) for k, v in report.parameters.items()},
        "figures": figures,
        "extra": report.extra,
    }


def write_key_figures(report: Report, output_dir: Path | str) -> Path:
    """Write ``key_figures.json`` into ``output_dir`` (the campaign's artefact folder of this run)."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FIGURES_FILE
    path.write_text(json.dumps(key_figures(report), ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return path


def year_label(year: int) -> str:
    return f"campagne {year} (données {year - 1})"
