"""Exports of released tables for the committee: one table per question, XLSX and CSV.

Reads released bundles only (through :mod:`senacs_workbench.released.published`). Suppressed cells are
written ``s`` and every table carries the statistical-confidentiality footnote. CSV files use
French conventions (``;`` separator, decimal comma, UTF-8 with BOM so that spreadsheets
detect the encoding); XLSX cells are numbers with display formats, so they stay computable.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import xlsxwriter

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_bytes_atomic
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK, PublishedReader

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


def _csv_cell(value: object, ratio: bool) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    if ratio:
        return format_number(number * 100, 1).replace("\u202f", " ")
    return format_number(number, 0 if number.is_integer() else 1).replace("\u202f", " ")


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
    bold = workbook.add_format({"bold": True})
    integer = workbook.add_format({"num_format": "#,##0"})
    decimal = workbook.add_format({"num_format": "#,##0.0"})
    percent = workbook.add_format({"num_format": "0.0%"})
    centred = workbook.add_format({"align": "right"})
    footnote_format = workbook.add_format({"italic": True})
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, variable in enumerate(variables, start=1):
            question = codebook.question(variable)
            table = question_table(cells, year, variable)
            sheet = workbook.add_worksheet(_sheet_name(index, variable))
            sheet.write(0, 0, f"{question.label} ({variable}) — campagne {year}", bold)
            for col, name in enumerate(table.columns):
                sheet.write(2, col, name, bold)
            ratio_columns = {c for c in table.columns if c.startswith(("Taux", "Part"))}
            for row_number, row in enumerate(table.itertuples(index=False), start=3):
                for col, (name, value) in enumerate(zip(table.columns, row)):
                    if isinstance(value, str):
                        sheet.write_string(row_number, col, value, centred if value == SUPPRESSED_MARK else None)
                    elif value is None or pd.isna(value):
                        continue
                    elif name in ratio_columns:
                        sheet.write_number(row_number, col, float(value), percent)
                    else:
                        number = float(value)
                        sheet.write_number(row_number, col, number, integer if number.is_integer() else decimal)
            sheet.write(len(table) + 4, 0, CONFIDENTIALITY_FOOTNOTE, footnote_format)
            sheet.set_column(0, 1, 12)
            sheet.set_column(2, 2, 28)
            sheet.set_column(3, len(table.columns), 16)
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
            writer.writerow([f"{question.label} ({variable}) — campagne {year}"])
            writer.writerow([f"{c} (%)" if c in ratio_columns else c for c in table.columns])
            for row in table.itertuples(index=False):
                writer.writerow([_csv_cell(v, n in ratio_columns) for n, v in zip(table.columns, row)])
            writer.writerow([])
            writer.writerow([CONFIDENTIALITY_FOOTNOTE])
            archive.writestr(f"{index:02d}_{_safe(variable)}.csv", "\ufeff" + text.getvalue())
    workbook.close()
    xlsx_path = out_dir / f"tableaux_{year}.xlsx"
    zip_path = out_dir / f"tableaux_{year}_csv.zip"
    write_bytes_atomic(xlsx_path, xlsx_buffer.getvalue())
    write_bytes_atomic(zip_path, zip_buffer.getvalue())
    return xlsx_path, zip_path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)
