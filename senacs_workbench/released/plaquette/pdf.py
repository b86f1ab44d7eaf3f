"""HTML → PDF (A4) with headless chromium through Playwright: one browser for many documents.

Chromium embeds (subsets of) every font it uses; the stylesheet names Liberation Sans and
DejaVu Sans, installed system-wide (fonts-liberation2, fonts-dejavu-core). The browser is
Debian's ``/usr/bin/chromium`` (``$SENACS_CHROMIUM`` overrides it); nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from senacs_workbench.core.errors import SenacsError

DEFAULT_CHROMIUM = "/usr/bin/chromium"


class PdfError(SenacsError):
    """The PDF cannot be produced (no browser, rendering failure)."""


def chromium_path() -> str:
    path = os.environ.get("SENACS_CHROMIUM") or DEFAULT_CHROMIUM
    if Path(path).exists():
        return path
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise PdfError(
        f"Navigateur chromium introuvable ({path}) : installez-le (apt-get install chromium) ou indiquez son chemin "
        "dans la variable SENACS_CHROMIUM."
    )


LAUNCH_ATTEMPTS = 3
LAUNCH_TIMEOUT_MS = 120_000


class PdfPrinter:
    """A headless chromium kept open across documents (use as a context manager).

    Offline always: a document is self-contained, nothing may be fetched while printing. Scripts
    are off unless ``javascript`` (a campaign report draws its plotly charts with them), and
    ``viewport`` sets the width documents are laid out at before printing.
    """

    def __init__(self, *, javascript: bool = False, viewport: dict[str, int] | None = None) -> None:
        self._javascript = javascript
        self._viewport = viewport
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._launch()
            # offline: a document is self-contained, nothing may be fetched while printing
            options: dict[str, Any] = {"viewport": self._viewport} if self._viewport else {}
            self._context = self._browser.new_context(offline=True, java_script_enabled=self._javascript, **options)
        except Exception:
            self._playwright.stop()
            raise
        return self

    def _launch(self) -> Any:
        """Start chromium, waiting up to :data:`LAUNCH_TIMEOUT_MS` and trying :data:`LAUNCH_ATTEMPTS` times:
        on a loaded machine a browser that is slow to start is waited for, never a failed document."""
        from playwright.sync_api import Error as PlaywrightError

        for attempt in range(1, LAUNCH_ATTEMPTS + 1):
            try:
                return self._playwright.chromium.launch(
                    executable_path=chromium_path(), timeout=LAUNCH_TIMEOUT_MS,
                    args=["--no-sandbox", "--disable-gpu", "--font-render-hinting=none"])
            except PlaywrightError:
                if attempt == LAUNCH_ATTEMPTS:
                    raise
                time.sleep(attempt)
        raise AssertionError("unreachable")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._page is not None:
            self._page.close()
        if self._context is not None:
            self._context.close()
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._page = self._context = self._browser = self._playwright = None

    def pdf(self, html: str, *, ready: str | None = None, margin: dict[str, str] | None = None,
            timeout_ms: int = 120_000) -> bytes:
        """Print ``html`` (self-contained: no network access is allowed) to A4 PDF bytes.

        ``ready``: a JavaScript function (as text) that returns true once the page is drawn;
        printing waits for it. ``margin``: page margins when the document sets none (``@page``).
        """
        if self._context is None:
            raise PdfError("Le navigateur n'est pas démarré (utiliser PdfPrinter comme gestionnaire de contexte).")
        page = self._context.new_page()
        try:
            page.set_content(html, wait_until="load", timeout=timeout_ms)
            return self._print(page, ready, margin, timeout_ms)
        finally:
            page.close()

    def pdf_file(self, path: Path, *, ready: str | None = None, margin: dict[str, str] | None = None,
                 timeout_ms: int = 120_000) -> bytes:
        """Print the HTML file ``path`` (and the local files it loads, e.g. a script beside it) to A4 PDF bytes.

        Files are printed in one page, reused: a large script loaded by every file (plotly.js) is
        compiled once, where :meth:`pdf` would transfer and compile it again for each document.
        """
        if self._context is None:
            raise PdfError("Le navigateur n'est pas démarré (utiliser PdfPrinter comme gestionnaire de contexte).")
        if self._page is None:
            self._page = self._context.new_page()
        try:
            self._page.emulate_media(media="screen")
            self._page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            return self._print(self._page, ready, margin, timeout_ms)
        except Exception:
            self._page.close()
            self._page = None
            raise

    @staticmethod
    def _print(page: Any, ready: str | None, margin: dict[str, str] | None, timeout_ms: int) -> bytes:
        if ready is not None:
            page.wait_for_function(ready, timeout=timeout_ms)
        page.emulate_media(media="print")
        options: dict[str, Any] = {"margin": margin} if margin else {}
        data: bytes = page.pdf(format="A4", print_background=True, prefer_css_page_size=True, outline=True,
                               tagged=True, **options)
        return data
