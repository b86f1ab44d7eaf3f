"""PDF exports of a campaign's HTML reports, through the plaquette's chromium (:class:`PdfPrinter`).

A report's HTML draws its charts with plotly.js, so it is printed with scripts on, offline,
laid out at the printable width of an A4 page, once every chart is drawn. One browser prints
every report of a campaign, from a private temporary folder holding one plotly.min.js and a
copy of each report loading it (:func:`share_plotly`): chromium compiles plotly.js once instead
of receiving and compiling ~4.8 MB per report (measured on the demo's centre reports: about
1.2 s a report instead of 4.6 s). A PDF sits beside its HTML (``<run_id>.pdf``) and is printed
again only when the HTML is newer.
"""

from __future__ import annotations

import html as htmllib
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from senacs_workbench.core.atomic import write_bytes_atomic
from senacs_workbench.released.plaquette.accessible_pdf import finish
from senacs_workbench.released.plaquette.pdf import PdfPrinter
from senacs_workbench.restricted.campaign.execute import PLOTLY_JS, plotly_js, share_plotly

CHARTS_DRAWN = ("() => document.readyState === 'complete' && [...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('.main-svg'))")
"""True once every plotly chart of the page has its SVG."""
A4_VIEWPORT = {"width": 680, "height": 960}
"""CSS pixels of an A4 page's printable width (210 mm less 2 × 15 mm at 96 dpi): charts are drawn to fit it."""
MARGIN = {"top": "15mm", "bottom": "15mm", "left": "15mm", "right": "15mm"}


@dataclass(frozen=True)
class PdfOutcome:
    html: Path
    pdf: Path | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.pdf is not None


def pdf_path(html: Path) -> Path:
    return html.with_suffix(".pdf")


def up_to_date(html: Path) -> bool:
    target = pdf_path(html)
    return target.is_file() and target.stat().st_mtime_ns >= html.stat().st_mtime_ns


def report_title(html: Path) -> str:
    """The report's ``<title>`` (the PDF's title), else its file name."""
    found = re.search(r"<title>(.*?)</title>", html.read_text(encoding="utf-8"), flags=re.S)
    return htmllib.unescape(found.group(1)).strip() if found else html.stem


def report_pdf(printer: PdfPrinter, html: Path, scratch: Path) -> Path:
    """Print the report ``html`` to ``<run_id>.pdf`` beside it; ``scratch``: a private folder holding plotly.min.js."""
    copy = scratch / html.name  # a name of its own: never a cached earlier report
    copy.write_text(share_plotly(html.read_text(encoding="utf-8")), encoding="utf-8")
    try:
        data = printer.pdf_file(copy, ready=CHARTS_DRAWN, margin=MARGIN)
    finally:
        copy.unlink()
    data = finish(data, title=report_title(html))  # PDF/UA: page furniture as artifacts, identification, title
    target = pdf_path(html)
    write_bytes_atomic(target, data, mode=stat.S_IMODE(html.stat().st_mode))  # owner-only if its HTML is
    return target


def export_pdfs(pages: Iterable[Path], *, force: bool = False) -> list[PdfOutcome]:
    """A PDF of each HTML report in ``pages`` (skipped when up to date unless ``force``), one browser for all."""
    pages = list(pages)
    todo = [html for html in pages if force or not up_to_date(html)]
    outcomes = [PdfOutcome(html, pdf_path(html)) for html in pages if html not in todo]
    if not todo:
        return outcomes
    try:
        printer = PdfPrinter(javascript=True, viewport=A4_VIEWPORT).__enter__()
    except Exception as exc:
        return outcomes + [PdfOutcome(html, None, f"navigateur indisponible : {exc}") for html in todo]
    try:
        with tempfile.TemporaryDirectory(prefix="senacs-pdf-") as scratch:  # 0700: reports may be a centre's
            (Path(scratch) / PLOTLY_JS).write_text(plotly_js(), encoding="utf-8")
            for html in todo:
                try:
                    outcomes.append(PdfOutcome(html, report_pdf(printer, html, Path(scratch))))
                except Exception as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    outcomes.append(PdfOutcome(html, None, f"{type(exc).__name__}: {first}"))
    finally:
        printer.__exit__(None, None, None)
    return outcomes
