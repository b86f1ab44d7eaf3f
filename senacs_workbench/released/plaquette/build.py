"""Build plaquettes: released bundles → HTML + PDF drafts, one kaleido server and one browser for all.

A build writes, under ``<reports>/committee/plaquettes/<year>/<slug>/`` (slug: ``FR``, ``R75``,
``24``): ``plaquette.html``, ``plaquette.pdf`` and ``record.json`` (the PDF's sha256, the
bundle it was built from, whether the édito is still the placeholder, and an empty list of
approvals: a new build always starts as a draft, so building again after approval invalidates
the approvals). This module reads the
published zone only; the audited, workspace-level entry points are in :mod:`.workflow`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from senacs_workbench.released.plaquette.accessible_pdf import finish
from senacs_workbench.released.plaquette.charts import ChartRenderer, describe_chart
from senacs_workbench.released.plaquette.content import PlaquetteContent, assemble, parse, slug_of
from senacs_workbench.released.plaquette.pdf import PdfPrinter
from senacs_workbench.released.plaquette.render import document_title, render_html

RECORD = "record.json"
HTML_NAME = "plaquette.html"
PDF_NAME = "plaquette.pdf"


@dataclass(frozen=True)
class BuildResult:
    territory: str
    year: int
    html: Path
    pdf: Path
    pdf_hash: str
    seconds: float = 0.0


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def draft_folder(reports_dir: Path, territory: str, year: int) -> Path:
    return Path(reports_dir) / "committee" / "plaquettes" / str(year) / slug_of(parse(territory))


def read_record(folder: Path) -> dict[str, Any] | None:
    path = folder / RECORD
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def write_record(folder: Path, record: dict[str, Any]) -> None:
    write_bytes_atomic(folder / RECORD, json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode())


class PlaquetteBuilder:
    """Holds the kaleido server and the browser; builds any number of plaquettes."""

    def __init__(self) -> None:
        self._charts = ChartRenderer()
        self._printer = PdfPrinter()

    def __enter__(self) -> PlaquetteBuilder:
        self._charts.__enter__()
        try:
            self._printer.__enter__()
        except BaseException:
            self._charts.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._printer.__exit__(exc_type, exc, tb)
        finally:
            self._charts.__exit__(exc_type, exc, tb)

    def html(self, content: PlaquetteContent) -> str:
        every = [chart for s in content.sections.values() for chart in s.charts]
        charts = {chart.key: self._charts.data_uri(chart) for chart in every}
        return render_html(content, charts, alternatives={chart.key: describe_chart(chart) for chart in every})

    def build(self, published_dir: Path | str, reports_dir: Path | str, territory: str, year: int, *,
              structures: pd.DataFrame | None = None, user: str = "") -> BuildResult:
        started = dt.datetime.now(dt.UTC)
        content = assemble(published_dir, territory, year, structures)
        html = self.html(content)
        # PDF/UA: chromium tags the structure; the footer and rules become artifacts, the XMP says PDF/UA-1
        pdf = finish(self._printer.pdf(html), title=document_title(content))
        folder = draft_folder(Path(reports_dir), territory, year)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(pdf).hexdigest()
        # the record goes first, without approvals: a half-written build is never "approved"
        record = {
            "territory": content.slug,
            "territory_name": content.title,
            "level": content.territory.level,
            "code": content.territory.code,
            "year": year,
            "bundle_version": content.bundle_version,
            "pdf_sha256": digest,
            "html_sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
            "built_at": started.isoformat(timespec="seconds"),
            "built_by": user,
            "edito_placeholder": content.edito.placeholder,
            "approvals": [],
        }
        write_record(folder, record)
        write_bytes_atomic(folder / HTML_NAME, html.encode("utf-8"))
        write_bytes_atomic(folder / PDF_NAME, pdf)
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        return BuildResult(content.slug, year, folder / HTML_NAME, folder / PDF_NAME, digest, seconds)
