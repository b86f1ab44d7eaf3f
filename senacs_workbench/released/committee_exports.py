"""Exports of released tables for the committee: one table per question, XLSX and CSV.

Reads released bundles only (through :mod:`senacs_workbench.released.published`). Suppressed cells are
written ``s`` and every table carries the statistical-confidentiality footnote. CSV files use
French conventions (``;`` separator, decimal comma, UTF-8 with BOM so that spreadsheets
detect the encoding); XLSX cells are numbers with display formats, so they stay computable.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import xlsxwriter

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_bytes_atomic
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.fingerprint import package_fingerprint
from senacs_workbench.released.published import SUPPRESSED_MARK, PublishedReader, ReleasedBundle
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


def question_table(cells: pd.DataFrame, year: int, variable: str) -> pd.DataFrame:
    """One question's cells as a wide table: a row per (territory, breakdown, category), a column per statistic.

    Values are floats, or ``s`` where suppressed.
    """
    codebook = load_codebook(year)
    question = codebook.question(variable)
    frame = cells[cells.variable == variable].copy()
    frame["shown"] = frame["value"].astype(object).where(frame["status"] == "V", SUPPRESSED_MARK)
    # plain object arrays: iterating pandas' Arrow-backed strings row by row costs ~1 µs a value
    level, territory, statistic, answer, breakdown, category = (
        frame[c].to_numpy(dtype=object) for c in ("level", "territory", "statistic", "answer", "breakdown", "category")
    )

    # labels computed once per distinct key (a national year has about a million cells)
    columns = {
        (s, a): STATISTIC_LABELS.get(s, s) + (f" « {question.category_label(a)} »" if a else "")
        for s, a in set(zip(statistic, answer, strict=True))
    }
    frame["column"] = [columns[k] for k in zip(statistic, answer, strict=True)]
    breakdown_labels = {b: codebook.question(b).label for b in frame.breakdown.unique() if b}
    categories = {
        (b, c): codebook.question(b).category_label(c) if b else ""
        for b, c in set(zip(breakdown, category, strict=True))
    }
    names = {key: geo.name_or_code(*key) for key in set(zip(level, territory, strict=True))}

    frame["Niveau"] = frame.level.map(geo.LEVEL_LABELS)
    frame["Code"] = frame.territory
    frame["Territoire"] = [names[k] for k in zip(level, territory, strict=True)]
    frame["Ventilation"] = frame.breakdown.map(lambda b: breakdown_labels.get(b, "Ensemble"))
    frame["Modalité"] = [categories[k] for k in zip(breakdown, category, strict=True)]
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
    """Write ``tableaux_<year>.xlsx`` and ``tableaux_<year>_csv.zip`` (one CSV per question) into ``out_dir``.

    Files already written from the same released bundle by the same workbench are kept as they are
    (``tableaux_<year>.source`` records what they were written from).
    """
    reader = PublishedReader(published_dir)
    xlsx_path = out_dir / f"tableaux_{year}.xlsx"
    zip_path = out_dir / f"tableaux_{year}_csv.zip"
    source_path = out_dir / f"tableaux_{year}.source"
    source = _source_key(reader.bundle(year))
    if xlsx_path.is_file() and zip_path.is_file() and source_path.is_file() \
            and source_path.read_text(encoding="utf-8") == source:
        return xlsx_path, zip_path
    cells = reader.table(year, level=list(LEVEL_ORDER))
    codebook = load_codebook(year)
    by_variable = {str(v): frame for v, frame in cells.groupby("variable", sort=False, observed=True)}
    variables = [q.id for q in codebook.questions if q.id in by_variable]
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx_buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(xlsx_buffer, {"in_memory": True})
    workbook.set_properties({"title": f"SENACS {year} — tableaux agrégés par question", "created": None})
    formats = sheet_formats(workbook)
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, variable in enumerate(variables, start=1):
            question = codebook.question(variable)
            table = question_table(by_variable[variable], year, variable)
            title = f"{question.label} ({variable}) — campagne {year}"
            ratio_columns = {c for c in table.columns if c.startswith(("Taux", "Part"))}
            write_table_sheet(workbook.add_worksheet(_sheet_name(index, variable)), formats, title, table,
                              ratio_columns)
            archive.writestr(f"{index:02d}_{_safe(variable)}.csv", csv_text(title, table, ratio_columns, decimals=1))
    workbook.close()
    source_path.unlink(missing_ok=True)  # no stale record while the files change
    write_bytes_atomic(xlsx_path, xlsx_buffer.getvalue())
    write_bytes_atomic(zip_path, zip_buffer.getvalue())
    write_bytes_atomic(source_path, source.encode("utf-8"))
    return xlsx_path, zip_path


def _source_key(bundle: ReleasedBundle) -> str:
    """What the exports are written from: the released bundle (its manifest names every file's hash)
    and the workbench's code and labels."""
    digest = hashlib.sha256(json.dumps(bundle.manifest, sort_keys=True, default=str).encode("utf-8"))
    digest.update(str(bundle.folder.resolve()).encode("utf-8"))
    digest.update(package_fingerprint().encode("ascii"))
    return digest.hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)
