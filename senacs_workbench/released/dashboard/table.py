"""The aggregated tables shown: one question, the territory set, ``s`` for suppressed cells.

The one-campaign table is :func:`senacs_workbench.released.committee_exports.question_table` (the
committee's exports use the same table), computed once per question and campaign, then
limited to the territories in view and to one breakdown.
"""

from __future__ import annotations

import functools
import html

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Question
from senacs_workbench.released.committee_exports import INDEX_COLUMNS, STATISTIC_LABELS, question_table
from senacs_workbench.released.dashboard.data import Catalog, TerritoryKey, territory_label
from senacs_workbench.released.dashboard.values import format_value
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK

_STATISTIC_OF_LABEL = {label: statistic for statistic, label in STATISTIC_LABELS.items()}
_LEVEL_OF_LABEL = {label: level for level, label in geo.LEVEL_LABELS.items()}
TREND_INDEX = ("Campagne", "Niveau", "Code", "Territoire")
TABLE_STYLE = "<style>.senacs-aggregates td,.senacs-aggregates th{border:1px solid #d0d7de;padding:2px 6px}</style>"


def statistic_of_column(column: str) -> str | None:
    """``Part « Oui »`` → ``share``; ``Moyenne`` → ``mean``; index columns → None."""
    if column in INDEX_COLUMNS or column in TREND_INDEX:
        return None
    return _STATISTIC_OF_LABEL.get(column.split(" « ", 1)[0])


@functools.lru_cache(maxsize=64)
def _full_table(catalog: Catalog, year: int, variable: str) -> pd.DataFrame:
    table = question_table(catalog.cells(year, variable), year, variable)
    table["_level"] = table["Niveau"].map(_LEVEL_OF_LABEL)
    return table


def shown_table(catalog: Catalog, year: int, variable: str, keys: list[TerritoryKey],
                breakdown: str) -> pd.DataFrame:
    """The table of ``variable`` for the territories ``keys`` (in that order): whole territory, then ``breakdown``."""
    full = _full_table(catalog, year, variable)
    codebook = catalog.codebook(year)
    wanted_breakdowns = ["Ensemble"] + ([codebook.question(breakdown).label] if breakdown else [])
    rank = {key: i for i, key in enumerate(keys)}
    position = pd.Series([rank.get((lv, c), -1) for lv, c in zip(full["_level"], full["Code"])], index=full.index)
    table = full[(position >= 0) & full["Ventilation"].isin(wanted_breakdowns)].copy()
    table["_rank"] = position[table.index]
    table["_total"] = table["Ventilation"].ne("Ensemble")
    table = table.sort_values(["_rank", "_total"], kind="stable")
    table = table.drop(columns=["_rank", "_total", "_level"]).reset_index(drop=True)
    return table.dropna(axis=1, how="all")


def display_cell(value: object, column: str, question: Question) -> str:
    if isinstance(value, str):
        return value
    statistic = statistic_of_column(column)
    if statistic is None:
        return "" if value is None else str(value)
    if value is None or pd.isna(value):
        return "–"
    return format_value(float(value), statistic, question)  # type: ignore[arg-type]


def table_html(table: pd.DataFrame, question: Question, caption: str, *, anchor: str = "") -> str:
    """The table with its caption, column headers (``scope="col"``) and the ``s`` footnote.

    Its scrolling box is a labelled region the keyboard can reach (``tabindex="0"``): a wide
    table scrolls with the arrow keys.
    """
    header = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in table.columns)
    rows = []
    for row in table.itertuples(index=False):
        cells = []
        for column, value in zip(table.columns, row):
            text = display_cell(value, str(column), question)
            css = ' class="senacs-s"' if text == SUPPRESSED_MARK else ""
            align = "left" if column in INDEX_COLUMNS or column in TREND_INDEX else "right"
            cells.append(f'<td{css} style="text-align:{align}">{html.escape(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    ident = f' id="{html.escape(anchor)}"' if anchor else ""
    return (
        f'<div class="senacs-table"{ident} role="region" tabindex="0" '
        f'aria-label="Tableau : {html.escape(caption)}" style="overflow-x:auto">'
        '<table class="senacs-aggregates" style="border-collapse:collapse;font-size:0.85em">'
        f"<caption style='text-align:left;font-weight:600'>{html.escape(caption)}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'<p style="font-size:0.8em;color:#57606a">{html.escape(CONFIDENTIALITY_FOOTNOTE)}</p></div>{TABLE_STYLE}'
    )


def trend_table(frame: pd.DataFrame, question: Question, statistic: str, answer: str) -> pd.DataFrame:
    """Rows: campaign × territory; columns: the value (``s`` if suppressed), respondents and response rate."""
    label = STATISTIC_LABELS.get(statistic, statistic)
    if answer:
        label = f"{label} « {question.category_label(answer)} »"
    rows = []
    for point in frame.itertuples(index=False):
        level, code = point.key
        rows.append({
            "Campagne": int(point.year),
            "Niveau": geo.LEVEL_LABELS.get(level, level),
            "Code": code,
            "Territoire": territory_label(point.key),
            label: SUPPRESSED_MARK if point.status and point.status != "V" else point.value,
            STATISTIC_LABELS["respondents"]: point.n,
            STATISTIC_LABELS["response_rate"]: (SUPPRESSED_MARK if point.rate_status and point.rate_status != "V"
                                                else point.rate),
        })
    return pd.DataFrame(rows)
