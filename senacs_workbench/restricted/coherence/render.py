"""Shared rendering: the Jinja2 templates (HTML) and a small XLSX table writer (xlsxwriter)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import xlsxwriter

RESTRICTED_BANNER = "Document de travail réservé au préparateur et aux correspondants"
FILE_MODE = 0o600


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("senacs_workbench.data.coherence", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_output(path: Path, data: bytes) -> None:
    """Write a generated sheet atomically (temporary file + rename), owner-only.

    Sheets are regenerated at will, so unlike the store and the archives they are not fsynced
    (``workspace.write_bytes_atomic`` costs two fsyncs per file, which dominates for hundreds of
    sheets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def today_fr() -> str:
    return dt.date.today().strftime("%d/%m/%Y")


def write_html(path: Path, template: str, **context: Any) -> Path:
    html = _environment().get_template(template).render(today=today_fr(), **context)
    write_output(path, html.encode("utf-8"))
    return path


def write_xlsx(
    path: Path,
    sheet: str,
    preamble: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    widths: Sequence[int] | None = None,
    choices: dict[int, Sequence[str]] | None = None,
    editable: Sequence[int] = (),
) -> Path:
    """One sheet: preamble lines (the first in bold), then a table with a header row.

    ``choices`` puts a drop-down list on a column; ``editable`` columns are shaded (to fill in).
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True, "font_size": 13})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    header = book.add_format({"bold": True, "bg_color": "#E3E3FD", "border": 1, "text_wrap": True, "valign": "top"})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    fill = book.add_format({"border": 1, "text_wrap": True, "valign": "top", "bg_color": "#FFF6D5"})
    for number, line in enumerate(preamble):
        ws.write(number, 0, line, bold if number == 0 else wrap)
    top = len(preamble) + 1
    for col, name in enumerate(columns):
        ws.write(top, col, name, header)
        ws.set_column(col, col, (widths[col] if widths else 18))
    for r, row in enumerate(rows, start=top + 1):
        for col, value in enumerate(row):
            style = fill if col in editable else cell
            if value is None:
                ws.write_blank(r, col, None, style)
            elif isinstance(value, bool):
                ws.write_string(r, col, "Oui" if value else "Non", style)
            elif isinstance(value, int | float):
                ws.write_number(r, col, value, style)
            else:
                ws.write_string(r, col, str(value), style)
    last = top + max(len(rows), 1)
    for col, options in (choices or {}).items():
        ws.data_validation(top + 1, col, last + 200, col, {"validate": "list", "source": list(options)})
    ws.freeze_panes(top + 1, 0)
    book.close()
    write_output(path, buffer.getvalue())
    return path
