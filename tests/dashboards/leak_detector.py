"""Find the restricted-zone sentinels in anything a browser received: text, JSON, data: URIs, XLSX/ZIP files."""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from collections.abc import Iterator

from released_bundles import SENTINEL_PATTERN

DATA_URI = re.compile(r"data:[\w/.+-]+(?:;[\w=-]+)*;base64,([A-Za-z0-9+/=]+)")


def _expanded(data: bytes) -> Iterator[str]:
    yield data.decode("utf-8", errors="replace")
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield archive.read(member).decode("utf-8", errors="replace")
        except zipfile.BadZipFile:
            pass


def texts(payload: str | bytes) -> Iterator[str]:
    """The payload as text, plus every data: URI in it decoded (and unzipped when it is an XLSX/ZIP)."""
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
    yield text
    for match in DATA_URI.finditer(text):
        try:
            yield from _expanded(base64.b64decode(match.group(1)))
        except (binascii.Error, ValueError):
            continue


def leaks(payload: str | bytes, pattern: re.Pattern[str] = SENTINEL_PATTERN) -> list[str]:
    """Every match of ``pattern`` (by default the planted sentinels) in the payload and what it carries."""
    found = []
    for text in texts(payload):
        found += [m.group(0) for m in pattern.finditer(text.replace("\\u202f", " ").replace("\\u00a0", " "))]
    return found
