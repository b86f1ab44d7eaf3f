"""Writing a synthetic year as a senacs.fr-like export (CSV and XLSX) and its ground truth.

CSV: ``;`` separator, UTF-8 with BOM, ``\\n`` line ends, decimal comma, integers without
thousands separator, percentages without ``%``, Oui/Non, category labels (multiple choices
joined by ``|``), dates ``dd/mm/yyyy``, empty cell = no answer.
XLSX: one sheet "Export SENACS", header in row 1, native numbers for numeric questions and the
same text as the CSV for everything else; fixed document dates so the file is byte-identical
for a given seed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, Codebook, Question, QuestionType

SHEET_NAME = "Export SENACS"
FIXED_TIMESTAMP = dt.datetime(2024, 1, 1, 0, 0, 0)
GROUND_TRUTH_COLUMNS = ("id_structure", "family", "variables", "description")


def format_decimal(x: float) -> str:
    """12.5 -> "12,5"; 12.0 -> "12"; 0.75 -> "0,75" (at most two decimals)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def _is_missing(column: pd.Series) -> np.ndarray:
    return column.isna().to_numpy()


def question_cells(question: Question, column: pd.Series) -> np.ndarray:
    """The CSV text of one question's answers (``""`` for no answer)."""
    missing = _is_missing(column)
    out = np.full(len(column), "", dtype=object)
    present = ~missing
    if not present.any():
        return out
    values = column.to_numpy()[present]
    qtype = question.type
    if qtype in (QuestionType.COUNT, QuestionType.AMOUNT):
        out[present] = np.round(values.astype(float)).astype(np.int64).astype(str)
    elif qtype in (QuestionType.DECIMAL, QuestionType.PERCENT):
        out[present] = [format_decimal(float(v)) for v in values]
    elif qtype in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
        labels = {code: question.category_label(code) for code in question.answer_codes}
        out[present] = [labels.get(v, v) for v in values]
    elif qtype is QuestionType.MULTIPLE_CHOICE:
        labels = {code: question.category_label(code) for code in question.answer_codes}
        out[present] = [
            MULTIPLE_CHOICE_SEPARATOR.join(labels.get(c, c) for c in str(v).split(MULTIPLE_CHOICE_SEPARATOR))
            for v in values
        ]
    elif qtype is QuestionType.DATE:
        out[present] = pd.to_datetime(pd.Series(values)).dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
    else:
        out[present] = [str(v) for v in values]
    return out


def export_frame(data: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The export as text cells, in export column order (keys, provenance, questions)."""
    prov = codebook.provenance
    prov_labels = {c.code: c.label for c in prov.values}
    cells: dict[str, np.ndarray] = {}
    for column in data.columns:
        series = data[column]
        if column in codebook:
            cells[column] = question_cells(codebook.question(column), series)
        elif column == prov.column or column.startswith(prov.section_prefix):
            missing = _is_missing(series)
            cells[column] = np.array(
                ["" if m else prov_labels.get(v, v) for v, m in zip(series.to_numpy(), missing, strict=True)],
                dtype=object,
            )
        else:
            cells[column] = np.where(_is_missing(series), "", series.to_numpy(dtype=object)).astype(object)
    return pd.DataFrame(cells, columns=list(data.columns), dtype=object)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    text = frame.to_csv(sep=";", index=False, lineterminator="\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def write_xlsx(data: pd.DataFrame, cells: pd.DataFrame, codebook: Codebook, path: Path) -> None:
    """Native numbers for numeric questions, the CSV text elsewhere; empty cells stay blank."""
    columns: list[list[object]] = []
    for column in cells.columns:
        text = cells[column].to_numpy(dtype=object)
        if column in codebook and codebook.question(column).type.is_numeric:
            values = data[column].to_numpy(dtype=float)
            integral = codebook.question(column).type in (QuestionType.COUNT, QuestionType.AMOUNT)
            columns.append(
                [None if np.isnan(v) else (int(np.rint(v)) if integral else float(v)) for v in values]
            )
        else:
            columns.append([t if t != "" else None for t in text])
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    try:
        workbook.set_properties({"title": "Export SENACS (données synthétiques)", "created": FIXED_TIMESTAMP})
        sheet = workbook.add_worksheet(SHEET_NAME)
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, list(cells.columns), bold)
        sheet.freeze_panes(1, 1)
        for r, row in enumerate(zip(*columns, strict=True), start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write_number(r, c, value)
    finally:
        workbook.close()


def write_ground_truth(frame: pd.DataFrame, path: Path) -> None:
    text = frame.to_csv(sep=";", index=False, lineterminator="\n")
    path.write_bytes(text.encode("utf-8"))
