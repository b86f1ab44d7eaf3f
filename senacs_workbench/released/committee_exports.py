"""Exports of released tables for the committee: one table per question, XLSX and CSV.

Reads released bundles only (through :mod:`senacs_workbench.released.published`). Suppressed cells are
written ``s`` and every table carries the statistical-confidentiality footnote. CSV files use
French conventions (``;`` separator, decimal comma, UTF-8 with BOM so that spreadsheets
detect the encoding); XLSX cells are numbers with display formats, so they stay computable.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import xlsxwriter

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_bytes_atomic
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.released.published import SUPPRESSED_MARK, PublishedReader
from senacs_workbench.released.table_files import csv_text, sheet_formats, write_table_sheet

STATISTIC_LABELS = {
    "structures": "Structures",
    "respondents": "Répondants",
    "response_rate": "Taux de réponse",
    "count": "Effectif",
    "share": "Part",
    "sum": "Total",
    "mean": "Moyenne",
    "median": "Médiane",
    "q1": "1er quartile",
    "q3": "3e quartile",
}
LEVEL_ORDER = {"national": 0, "region": 1, "departement": 2}
RATIO_STATISTICS = ("response_rate", "share")
INDEX_COLUMNS = ["Niveau", "Code", "Territoire", "Ventilation", "Modalité"]


def _territory_name(level: str, code: str) -> str:
    try:
        return geo.territory(level, code).name  # type: ignore[arg-type]
    except ValueError:
        return code


def question_table(cells: pd.DataFrame, year: int, variable: str) -> pd.DataFrame:
    """One question's cells as a wide table: a row per (territory, breakdown, category), a column per statistic.

    Values are floats, or ``s`` where suppressed.
    """
    codebook = load_codebook(year)
    question = codebook.question(variable)
    frame = cells[cells.variable == variable].copy()
    frame["shown"] = frame["value"].astype(object).where(frame["status"] == "V", SUPPRESSED_MARK)

    # labels computed once per distinct key (a national year has about a million cells)
    columns = {
        (statistic, answer): STATISTIC_LABELS.get(statistic, statistic)
        + (f" « {question.category_label(answer)} »" if answer else "")
        for statistic, answer in set(zip(frame.statistic, frame.answer, strict=True))
    }
    frame["column"] = [columns[k] for k in zip(frame.statistic, frame.answer, strict=True)]
    breakdown_labels = {b: codebook.question(b).label for b in frame.breakdown.unique() if b}
    categories = {
        (breakdown, category): codebook.question(breakdown).category_label(category) if breakdown else ""
        for breakdown, category in set(zip(frame.breakdown, frame.category, strict=True))
    }
    names = {key: _territory_name(*key) for key in set(zip(frame.level, frame.territory, strict=True))}

    frame["Niveau"] = frame.level.map(geo.LEVEL_LABELS)
    frame["Code"] = frame.territory
    frame["Territoire"] = [names[k] for k in zip(frame.level, frame.territory, strict=True)]
    frame["Ventilation"] = frame.breakdown.map(lambda b: breakdown_labels.get(b, "Ensemble"))
    frame["Modalité"] = [categories[k] for k in zip(frame.breakdown, frame.category, strict=True)]
    frame["order"] = frame.level.map(LEVEL_ORDER)
    columns_order = list(dict.fromkeys(frame.sort_values(["statistic", "answer"]).column))
    table = frame.pivot_table(
        index=["order", *INDEX_COLUMNS], columns="column", values="shown", aggfunc="first", sort=True
    )
    table = table.reset_index().drop(columns="order")
    preferred = [c for c in (STATISTIC_LABELS[s] for s in ("structures", "respondents", "response_rate")) if c in table]
    rest = [c for c in columns_order if c not in preferred]
    return table[INDEX_COLUMNS + preferred + rest]


def _sheet_name(index: int, variable: str) -> str:
    return f"{index:02d}_{variable}"[:31]


def write_committee_exports(published_dir: Path, year: int, out_dir: Path) -> tuple[Path, Path]:
    """Write ``tableaux_<year>.xlsx`` and ``tableaux_<year>_csv.zip`` (one CSV per question) into ``out_dir``."""
    reader = PublishedReader(published_dir)
    cells = reader.table(year, level=list(LEVEL_ORDER))
    codebook = load_codebook(year)
    present = set(cells["variable"].unique())
    variables = [q.id for q in codebook.questions if q.id in present]
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx_buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(xlsx_buffer, {"in_memory": True})
    workbook.set_properties({"title": f"SENACS {year} — tableaux agrégés par question", "created": None})
    formats = sheet_formats(workbook)
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, variable in enumerate(variables, start=1):
            question = codebook.question(variable)
            table = question_table(cells, year, variable)
            title = f"{question.label} ({variable}) — campagne {year}"
            ratio_columns = {c for c in table.columns if c.startswith(("Taux", "Part"))}
            write_table_sheet(workbook.add_worksheet(_sheet_name(index, variable)), formats, title, table,
                              ratio_columns)
            archive.writestr(f"{index:02d}_{_safe(variable)}.csv", csv_text(title, table, ratio_columns, decimals=1))
    workbook.close()
    xlsx_path = out_dir / f"tableaux_{year}.xlsx"
    zip_path = out_dir / f"tableaux_{year}_csv.zip"
    write_bytes_atomic(xlsx_path, xlsx_buffer.getvalue())
    write_bytes_atomic(zip_path, zip_buffer.getvalue())
    return xlsx_path, zip_path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)
