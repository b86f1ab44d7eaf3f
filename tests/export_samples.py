"""Small, valid SENACS export tables in the export format, for the import and store tests.

``export_frame(year, n)`` gives a DataFrame of strings exactly as senacs.fr / the synthetic
generator write them (labels, « Oui »/« Non », decimal comma, dd/mm/yyyy, empty = no answer);
the writers turn it into CSV (any encoding / separator) or XLSX (native numbers).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from senacs_workbench.core.codebook import Question, QuestionType, load_codebook

YEAR = 2024
COMMUNES = [
    ("24322", "24"),  # Périgueux
    ("01053", "01"),  # Bourg-en-Bresse
    ("2A004", "2A"),  # Ajaccio
    ("97411", "974"),  # Saint-Denis (La Réunion)
    ("59350", "59"),  # Lille
    ("33063", "33"),  # Bordeaux
]
NAMES = [
    "Centre social Élan",
    "EVS Les Châtaigniers",
    "Maison de quartier Saint-Jean",
    "Centre social L'Œuvre",
    "EVS Le Lien",
    "Centre social Bastide",
]
PROVENANCE = ["Centre", "Caf", "Fédération", "Centre", "Centre", "Caf"]


def _value(question: Question, i: int) -> str:
    kind = question.type
    if kind is QuestionType.COUNT:
        high = int(question.maximum or 1000)
        return str(min(high, 3 + 7 * i))
    if kind is QuestionType.AMOUNT:
        return str(min(int(question.maximum or 10**6), 250_000 + 1_000 * i))
    if kind is QuestionType.DECIMAL:
        return f"{10 + i},5"
    if kind is QuestionType.PERCENT:
        return str(20 + i)
    if kind is QuestionType.YES_NO:
        return "Oui" if i % 2 == 0 else "Non"
    if kind is QuestionType.SINGLE_CHOICE:
        return question.categories[i % len(question.categories)].label
    if kind is QuestionType.MULTIPLE_CHOICE:
        cats = question.categories
        return "|".join(c.label for c in (cats[i % len(cats)], cats[(i + 1) % len(cats)]))
    if kind is QuestionType.DATE:
        return f"{(i % 27) + 1:02d}/03/{1990 + i}"
    return f"Commentaire {i}"


def export_frame(year: int = YEAR, n: int = 6, non_respondents: tuple[int, ...] = (4,)) -> pd.DataFrame:
    """``n`` structures (row ``i`` in ``non_respondents`` answered only the identity block)."""
    codebook = load_codebook(year)
    rows = []
    for i in range(n):
        commune, dep = COMMUNES[i % len(COMMUNES)]
        row = {
            "id_structure": f"S{1000 + i}",
            "nom_structure": NAMES[i % len(NAMES)],
            "code_commune": commune,
            "departement": dep,
            "saisie_par": PROVENANCE[i % len(PROVENANCE)],
            "saisie_par__finances": "Caf" if i == 0 else "",
            "saisie_par__emploi": "",
        }
        for question in codebook.questions:
            answered = i not in non_respondents or question.section == "identite"
            row[question.id] = _value(question, i) if answered else ""
        rows.append(row)
    return pd.DataFrame(rows, dtype=object)


def write_csv(frame: pd.DataFrame, path: Path, *, sep: str = ";", encoding: str = "utf-8-sig") -> Path:
    text = frame.to_csv(sep=sep, index=False, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(frame: pd.DataFrame, path: Path, *, title_rows: tuple[str, ...] = (), year: int = YEAR,
               sheet: str = "Export SENACS") -> Path:
    """XLSX with native numbers (and optional title rows above the header)."""
    codebook = load_codebook(year)
    numeric = {q.id for q in codebook.questions if q.type.is_numeric}
    dates = {q.id for q in codebook.questions if q.type is QuestionType.DATE}
    workbook = xlsxwriter.Workbook(str(path))
    worksheet = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    top = 0
    for title in title_rows:
        worksheet.write_string(top, 0, title)
        top += 1
    if title_rows:
        top += 1  # a blank line between the title and the header
    for j, column in enumerate(frame.columns):
        worksheet.write_string(top, j, column)
    for i, row in enumerate(frame.itertuples(index=False), start=top + 1):
        for j, (column, cell) in enumerate(zip(frame.columns, row)):
            if cell == "" or cell is None:
                continue
            if column in numeric:
                try:
                    worksheet.write_number(i, j, float(str(cell).replace(",", ".")))
                    continue
                except ValueError:
                    pass
            if column in dates:
                try:
                    worksheet.write_datetime(i, j, dt.datetime.strptime(cell, "%d/%m/%Y"), date_format)
                    continue
                except ValueError:
                    pass
            worksheet.write_string(i, j, str(cell))
    workbook.close()
    return path
