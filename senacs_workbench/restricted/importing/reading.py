"""Read an export file (CSV or XLSX) into a table of raw cells, with its rows' numbers as a
spreadsheet shows them (the numbers every message quotes as « ligne »).

CSV: UTF-8, UTF-8 with BOM or Windows-1252 (a strict UTF-8 decode, then a strict cp1252 one
checked for implausible characters); ``;``, ``,`` or tab separator sniffed on the header line.
XLSX (and XLS/ODS): read with python-calamine; the sheet « Export SENACS » if present, else the
first one. In both, title rows above the header are skipped: the header is the first row
holding one of ``header_keys`` (folded names of the key column).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.restricted.importing.issues import ImportIssue, ImportRejected, file_error
from senacs_workbench.restricted.importing.text import fold

EXPORT_SHEET = "Export SENACS"
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
HEADER_SEARCH_ROWS = 30
SEPARATORS = (";", ",", "\t")
SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
MAX_RAGGED_ISSUES = 200

# Characters a French export may plausibly contain beyond ASCII, when decoded as cp1252.
_PLAUSIBLE = set(
    "àâäáãåçéèêëíìîïñóòôöõúùûüýÿæœÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸÆŒ"
    "«»°²³€’‘“”–—…·×\u00a0ªº§µ"
)


@dataclass
class RawTable:
    """The cells of an export below its header row, as read (strings, or native XLSX values)."""

    file: str
    columns: list[str]
    """Header cells, stripped; positions match the frame's integer column labels."""
    frame: pd.DataFrame
    """object cells; column ``i`` is the file's column ``columns[i]``; '' or None when empty."""
    lines: np.ndarray
    """For each row of ``frame``, its row number as a spreadsheet shows it (« ligne » in messages):
    the sheet's row for XLSX, the record's ordinal (blank lines counted) for CSV."""
    header_line: int
    kind: str
    """``csv`` or ``xlsx``."""
    encoding: str | None = None
    separator: str | None = None
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, header_keys: Collection[str], data: bytes | None = None) -> RawTable:
    """Read ``path`` (or its already-read bytes ``data``); raise :class:`ImportRejected` in French."""
    name = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise file_error(name, f"fichier introuvable ({path})") from None
        except OSError as exc:
            raise file_error(name, f"fichier illisible ({exc.strerror})") from None
    if not data.strip():
        raise file_error(name, "le fichier est vide")
    keys = {fold(k) for k in header_keys}
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)) or path.suffix.lower() in SPREADSHEET_SUFFIXES:
        return _read_spreadsheet(name, data, keys)
    return _read_csv(name, data, keys)


# ---------------------------------------------------------------------------- CSV


def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: (text, encoding label). UTF-8 (with or without BOM) or Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise file_error(
            name,
            "encodage UTF-16/UTF-32 non pris en charge : enregistrez le fichier en CSV UTF-8 "
            "(ou Windows-1252) depuis votre tableur",
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise file_error(
                name,
                f"le fichier annonce l'encodage UTF-8 (BOM) mais contient un octet invalide "
                f"(position {exc.start}) : fichier endommagé ou encodage mélangé",
                line=data[: exc.start].count(b"\n") + 1,
            ) from None
    if b"\x00" in data:
        raise file_error(
            name,
            "encodage non reconnu (octets nuls : fichier binaire ou UTF-16 sans BOM) ; "
            "attendu : CSV en UTF-8 ou Windows-1252",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise file_error(
            name,
            f"encodage non reconnu : ni UTF-8 ni Windows-1252 (octet 0x{data[exc.start]:02X} invalide) ; "
            "enregistrez le fichier en CSV UTF-8",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    non_ascii = [c for c in text if ord(c) > 127]
    odd = [c for c in non_ascii if c not in _PLAUSIBLE]
    # an accented capital right after a lower-case letter ("ðÒÉ×ÅÔ") is not French text
    odd += [c for p, c in itertools.pairwise(text) if ord(c) > 127 and c.isupper() and p.isalpha() and p.islower()]
    controls = [c for c in text if ord(c) < 32 and c not in "\t\r\n"]
    if controls or len(odd) > max(2, len(non_ascii) // 50):
        raise file_error(
            name,
            "encodage non reconnu : le fichier n'est ni en UTF-8 ni en Windows-1252 (caractères "
            "incohérents une fois décodé) ; enregistrez-le en CSV UTF-8",
        )
    return text, "windows-1252"


def _sniff_separator(text: str, keys: set[str]) -> str:
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    candidates = [line for line in lines if any(k and k in fold(line) for k in keys)]
    line = candidates[0] if candidates else next((ln for ln in lines if ln.strip()), "")
    counts = {sep: _count_outside_quotes(line, sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ";"


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            count += 1
    return count


def _is_header(cells: list[str], keys: set[str]) -> bool:
    return any(isinstance(c, str) and c.strip() and fold(c) in keys for c in cells)


def _read_csv(name: str, data: bytes, keys: set[str]) -> RawTable:
    text, encoding = decode_text(name, data)
    separator = _sniff_separator(text, keys)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    # Rows are numbered as a spreadsheet shows the file: one row per record (a quoted cell may
    # span several lines of text), blank lines included, header row = 1 when it comes first.
    records: list[tuple[int, list[str]]] = []
    row = 0
    try:
        for row, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                records.append((row, record))
    except csv.Error as exc:
        raise file_error(
            name,
            f"structure CSV invalide ({exc}) : guillemet non refermé ou fichier tronqué",
            line=row + 1,
        ) from None
    if not records:
        raise file_error(name, "le fichier est vide")
    header_index = next(
        (i for i, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]) if _is_header(cells, keys)), 0
    )
    header_line, header = records[header_index]
    while header and not header[-1].strip():
        header = header[:-1]
    width = len(header)
    body = records[header_index + 1 :]
    issues: list[ImportIssue] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    for position, (line, cells) in enumerate(body):
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        if len(cells) != width:
            last = position == len(body) - 1
            truncated = last and len(cells) < width
            cause = "ligne incomplète : le fichier semble tronqué" if truncated else "ligne mal formée"
            rule = f"{len(cells)} valeur(s) au lieu de {width} (séparateur « {SEPARATOR_NAMES[separator]} ») — {cause}"
            if len(issues) < MAX_RAGGED_ISSUES:
                issues.append(ImportIssue(file=name, line=line, rule=rule))
            continue
        rows.append(cells)
        lines.append(line)
    if issues:
        raise ImportRejected(name, issues)
    frame = pd.DataFrame(rows, columns=range(width), dtype=object) if rows else pd.DataFrame(
        columns=range(width), dtype=object
    )
    return RawTable(
        file=name,
        columns=[h.strip() for h in header],
        frame=frame,
        lines=np.asarray(lines, dtype=np.int64),
        header_line=header_line,
        kind="csv",
        encoding=encoding,
        separator=separator,
    )


# ---------------------------------------------------------------------------- spreadsheets


def _read_spreadsheet(name: str, data: bytes, keys: set[str]) -> RawTable:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = list(workbook.sheet_names)
        if not sheet_names:
            raise file_error(name, "le classeur ne contient aucune feuille")
        sheet_name = EXPORT_SHEET if EXPORT_SHEET in sheet_names else sheet_names[0]
        cells: list[list[Any]] = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except PasswordError:
        raise file_error(name, "le classeur est protégé par un mot de passe : enregistrez-le sans protection") from None
    except (CalamineError, ValueError, OSError) as exc:
        raise file_error(
            name,
            f"classeur illisible : l'archive XLSX est incomplète ou endommagée (fichier tronqué ?) [{exc}]",
        ) from None
    numbered = [(i + 1, row) for i, row in enumerate(cells) if any(_filled(c) for c in row)]
    if not numbered:
        raise file_error(name, f"la feuille « {sheet_name} » est vide")
    header_index = next(
        (i for i, (_, row) in enumerate(numbered[:HEADER_SEARCH_ROWS]) if _is_header(row, keys)), 0
    )
    header_line, header_row = numbered[header_index]
    header = ["" if not _filled(c) else _header_text(c) for c in header_row]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    issues: list[ImportIssue] = []
    rows: list[list[object]] = []
    lines: list[int] = []
    for line, row in numbered[header_index + 1 :]:
        extra = [c for c in row[width:] if _filled(c)]
        if extra:
            issues.append(
                ImportIssue(
                    file=name,
                    line=line,
                    value=str(extra[0]),
                    rule="valeur située à droite de la dernière colonne nommée (colonne sans en-tête)",
                )
            )
            continue
        padded = list(row[:width]) + [""] * (width - len(row))
        rows.append(padded)
        lines.append(line)
    if issues:
        raise ImportRejected(name, issues[:MAX_RAGGED_ISSUES])
    frame = pd.DataFrame(rows, columns=range(width), dtype=object) if rows else pd.DataFrame(
        columns=range(width), dtype=object
    )
    table = RawTable(
        file=name,
        columns=header,
        frame=frame,
        lines=np.asarray(lines, dtype=np.int64),
        header_line=header_line,
        kind="xlsx",
    )
    if sheet_name != EXPORT_SHEET and len(sheet_names) > 1:
        table.notes.append(f"feuille lue : « {sheet_name} » (pas de feuille « {EXPORT_SHEET} »)")
    return table


def _filled(cell: object) -> bool:
    return not (cell is None or (isinstance(cell, str) and not cell.strip()))


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
