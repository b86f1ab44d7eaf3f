"""Downloads of the table shown, exactly as shown: CSV (French conventions) and XLSX.

CSV: ``;`` separator, decimal comma, UTF-8 with BOM, ratios in percent, ``s`` for suppressed
cells, the confidentiality footnote last. XLSX: numbers with display formats (they stay
computable), ``s`` as text. Both are offered as ``data:`` links built from the table only.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re

import pandas as pd
import xlsxwriter

from senacs_workbench.core.formatting import format_number
from senacs_workbench.released.dashboard.table import statistic_of_column
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE, SUPPRESSED_MARK

RATIOS = frozenset({"share", "response_rate"})
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_value(value: object, statistic: str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return ""
    if statistic is None:
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if statistic in RATIOS:
        return format_number(number * 100, 1).replace("\u202f", " ")
    return format_number(number, 0 if number.is_integer() else 2).replace("\u202f", " ")


def _header(column: str) -> str:
    return f"{column} (%)" if statistic_of_column(column) in RATIOS else column


def csv_bytes(table: pd.DataFrame, title: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([title])
    writer.writerow([_header(c) for c in table.columns])
    statistics = [statistic_of_column(c) for c in table.columns]
    for row in table.itertuples(index=False):
        writer.writerow([_csv_value(v, s) for v, s in zip(row, statistics)])
    writer.writerow([])
    writer.writerow([CONFIDENTIALITY_FOOTNOTE])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def xlsx_bytes(table: pd.DataFrame, title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": title, "created": None})
    sheet = workbook.add_worksheet("Tableau")
    bold = workbook.add_format({"bold": True})
    integer = workbook.add_format({"num_format": "#,##0"})
    decimal = workbook.add_format({"num_format": "#,##0.0"})
    percent = workbook.add_format({"num_format": "0.0%"})
    right = workbook.add_format({"align": "right"})
    sheet.write(0, 0, title, bold)
    for col, name in enumerate(table.columns):
        sheet.write(2, col, name, bold)
    statistics = [statistic_of_column(c) for c in table.columns]
    for row_number, row in enumerate(table.itertuples(index=False), start=3):
        for col, (value, statistic) in enumerate(zip(row, statistics)):
            if isinstance(value, str):
                sheet.write_string(row_number, col, value, right if value == SUPPRESSED_MARK else None)
            elif value is None or pd.isna(value):
                continue
            elif statistic in RATIOS:
                sheet.write_number(row_number, col, float(value), percent)
            else:
                number = float(value)
                sheet.write_number(row_number, col, number, integer if number.is_integer() else decimal)
    sheet.write(len(table) + 4, 0, CONFIDENTIALITY_FOOTNOTE, workbook.add_format({"italic": True}))
    sheet.set_column(0, 1, 12)
    sheet.set_column(2, 2, 28)
    sheet.set_column(3, max(len(table.columns), 3), 16)
    workbook.close()
    return buffer.getvalue()


def file_stem(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", "_".join(str(p) for p in parts if p != "")).strip("_")


def download_links_html(table: pd.DataFrame, title: str, stem: str) -> str:
    """Two links (CSV, XLSX) carrying the table shown as ``data:`` URIs."""
    links = []
    for label, mime, data, suffix in (
        ("Télécharger le tableau (CSV)", "text/csv;charset=utf-8", csv_bytes(table, title), "csv"),
        ("Télécharger le tableau (XLSX)", XLSX_MIME, xlsx_bytes(table, title), "xlsx"),
    ):
        encoded = base64.b64encode(data).decode("ascii")
        links.append(
            f'<a class="senacs-download senacs-download-{suffix}" download="{html.escape(stem)}.{suffix}" '
            f'href="data:{mime};base64,{encoded}" style="margin-right:1.5em">{html.escape(label)}</a>'
        )
    return f'<div class="senacs-downloads">{"".join(links)}</div>'
