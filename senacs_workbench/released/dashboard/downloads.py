"""Downloads of the table shown, exactly as shown: CSV (French conventions) and XLSX.

Written by the one French table writer (:mod:`senacs_workbench.released.table_files`: CSV with
``;``, decimal comma, BOM, ratios in percent; XLSX numbers with display formats, ``s`` as text,
the confidentiality footnote last). Both are offered as ``data:`` links built from the table only.
"""

from __future__ import annotations

import base64
import html
import io
import re

import pandas as pd
import xlsxwriter

from senacs_workbench.released.dashboard.table import statistic_of_column
from senacs_workbench.released.table_files import csv_text, sheet_formats, write_table_sheet

RATIOS = frozenset({"share", "response_rate"})
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ratio_columns(table: pd.DataFrame) -> set[str]:
    return {c for c in table.columns if statistic_of_column(c) in RATIOS}


def csv_bytes(table: pd.DataFrame, title: str) -> bytes:
    numeric = {c for c in table.columns if statistic_of_column(c) is not None}
    return csv_text(title, table, _ratio_columns(table), decimals=2, numeric_columns=numeric).encode("utf-8")


def xlsx_bytes(table: pd.DataFrame, title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": title, "created": None})
    sheet = workbook.add_worksheet("Tableau")
    write_table_sheet(sheet, sheet_formats(workbook), title, table, _ratio_columns(table))
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
