"""French table files of released figures: the one XLSX sheet writer and the one CSV writer.

Shared by the committee exports (:mod:`.committee_exports`: a workbook of one sheet per
question, a zip of CSV files) and the dashboards' downloads (:mod:`.dashboard.downloads`: the
table shown), so that a table reads the same wherever a committee gets it:

- XLSX: the title (bold) on the first row, the header (bold) two rows below, then the rows;
  numbers stay numbers with display formats (``#,##0`` whole, ``#,##0.0`` otherwise, ``0.0%``
  ratios), ``s`` (suppressed) is right-aligned text, the confidentiality footnote (italic)
  comes two rows after the table;
- CSV: ``;`` separator, decimal comma, ratios in percent (header ``… (%)``), UTF-8 with BOM
  (spreadsheets detect the encoding), CRLF, the footnote last.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from senacs_workbench.core.formatting import format_number
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK


@dataclass(frozen=True)
class SheetFormats:
    """The cell formats of a workbook's table sheets (created once per workbook)."""

    bold: Any
    integer: Any
    decimal: Any
    percent: Any
    right: Any
    footnote: Any


def sheet_formats(workbook: Any) -> SheetFormats:
    """Add the table formats to an ``xlsxwriter`` workbook (in a fixed order: the file is reproducible)."""
    return SheetFormats(
        bold=workbook.add_format({"bold": True}),
        integer=workbook.add_format({"num_format": "#,##0"}),
        decimal=workbook.add_format({"num_format": "#,##0.0"}),
        percent=workbook.add_format({"num_format": "0.0%"}),
        right=workbook.add_format({"align": "right"}),
        footnote=workbook.add_format({"italic": True}),
    )


def write_table_sheet(sheet: Any, formats: SheetFormats, title: str, table: pd.DataFrame,
                      ratio_columns: Collection[str]) -> None:
    """Write ``table`` (numbers, ``s`` or missing) on ``sheet`` under ``title``, with the footnote."""
    sheet.write(0, 0, title, formats.bold)
    for col, name in enumerate(table.columns):
        sheet.write(2, col, name, formats.bold)
    ratios = [name in ratio_columns for name in table.columns]
    for row_number, row in enumerate(table.itertuples(index=False), start=3):
        for col, (value, ratio) in enumerate(zip(row, ratios, strict=True)):
            if isinstance(value, str):
                sheet.write_string(row_number, col, value, formats.right if value == SUPPRESSED_MARK else None)
            elif value is None or pd.isna(value):
                continue
            elif ratio:
                sheet.write_number(row_number, col, float(value), formats.percent)
            else:
                number = float(value)
                sheet.write_number(row_number, col, number, formats.integer if number.is_integer() else formats.decimal)
    sheet.write(len(table) + 4, 0, CONFIDENTIALITY_FOOTNOTE, formats.footnote)
    sheet.set_column(0, 1, 12)
    sheet.set_column(2, 2, 28)
    sheet.set_column(3, max(len(table.columns), 3), 16)


def csv_value(value: object, ratio: bool, decimals: int, numeric: bool = True) -> str:
    """A cell as CSV text: ``s`` and labels as they are, numbers with a decimal comma (``decimals``
    digits unless whole; ratios in percent, one digit); ``numeric=False`` writes a number as it is."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    if not numeric:
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if ratio:
        return format_number(number * 100, 1).replace("\u202f", " ")
    return format_number(number, 0 if number.is_integer() else decimals).replace("\u202f", " ")


def csv_text(title: str, table: pd.DataFrame, ratio_columns: Collection[str], *, decimals: int,
             numeric_columns: Collection[str] | None = None) -> str:
    """``table`` as French CSV text (BOM first): title, header, rows, a blank line, the footnote.
    ``numeric_columns`` (default: all) are the columns whose numbers are formatted."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([title])
    writer.writerow([f"{c} (%)" if c in ratio_columns else c for c in table.columns])
    kinds = [(c in ratio_columns, numeric_columns is None or c in numeric_columns) for c in table.columns]
    for row in table.itertuples(index=False):
        writer.writerow([csv_value(value, ratio, decimals, numeric)
                         for value, (ratio, numeric) in zip(row, kinds, strict=True)])
    writer.writerow([])
    writer.writerow([CONFIDENTIALITY_FOOTNOTE])
    return "\ufeff" + text.getvalue()
