"""LEAK TEST: sentinels planted in the restricted zone never reach the browser, across every selector value.

The sentinel structure (:data:`released_bundles.SENTINEL_NAME`, budget
:data:`released_bundles.SENTINEL_BUDGET`) exists in a CSV under ``restricted/`` and as the true
value of suppressed cells handed to ``write_draft``. Every websocket frame (received and sent),
every HTTP response body from the dashboard server and the DOM after each selection are searched,
data: URIs (the downloads) decoded and unzipped.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import zipfile
from typing import Any

import pytest
from dashboard_browser import RENDER_TIMEOUT_MS, choose, open_dashboard, options
from leak_detector import leaks
from released_bundles import SENTINEL_BUDGET, SENTINEL_NAME, SENTINEL_PATTERN, sentinel_cells

from senacs_workbench.apps.serve import DashboardServer
from senacs_workbench.core.workspace import Workspace

pytestmark = pytest.mark.slow


class Capture:
    """Everything the page receives or sends: websocket frames and HTTP response bodies."""

    def __init__(self, page: Any, origin: str) -> None:
        self.frames: list[str | bytes] = []
        self.bodies: list[bytes] = []
        page.on("websocket", self._websocket)
        page.on("response", lambda response: self._response(response, origin))

    def _websocket(self, ws: Any) -> None:
        ws.on("framereceived", lambda payload: self.frames.append(payload))
        ws.on("framesent", lambda payload: self.frames.append(payload))

    def _response(self, response: Any, origin: str) -> None:
        if response.url.startswith(origin) and "/static/" not in response.url and "labextensions" not in response.url:
            with contextlib.suppress(Exception):  # redirects and aborted requests have no body
                self.bodies.append(response.body())

    def leaks(self, pattern: re.Pattern[str] = SENTINEL_PATTERN) -> list[str]:
        return [leak for payload in (*self.frames, *self.bodies) for leak in leaks(payload, pattern)]


def test_the_detector_finds_planted_sentinels(released_workspace: Workspace) -> None:
    """Positive controls: the sentinels are really in the restricted zone, and the detector sees every form."""
    restricted_csv = (released_workspace.restricted / "incoming" / "senacs_2024.csv").read_text(encoding="utf-8")
    assert SENTINEL_NAME in restricted_csv and str(SENTINEL_BUDGET) in restricted_csv
    planted = sentinel_cells(2024)
    assert not planted.empty and (planted.status != "V").all()
    for form in ("987654321", "987 654 321 €", "987\u202f654\u202f321", "9876543210.0", SENTINEL_NAME.lower()):
        assert leaks(form), form
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<t>{SENTINEL_NAME}</t>")
    assert leaks(f'<a href="data:application/zip;base64,{base64.b64encode(buffer.getvalue()).decode()}">')
    assert not leaks("1 234 567 €, 98 765 432, 654 321")
    published = b"".join(p.read_bytes() for p in released_workspace.published.rglob("*") if p.is_file())
    assert str(SENTINEL_BUDGET).encode() not in published and SENTINEL_NAME.encode() not in published


def _check_dom(page: Any, where: str) -> None:
    found = leaks(page.content())
    assert found == [], f"sentinel in the DOM after {where}: {found}"


def test_no_sentinel_in_the_overview_across_every_selector(browser: Any, dashboard_server: DashboardServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    url = dashboard_server.urls["tableau_de_bord"]
    capture = Capture(page, url.rstrip("/"))
    open_dashboard(page, dashboard_server, "tableau_de_bord", charts=2)
    _check_dom(page, "loading")
    try:
        for year in options(page, "year"):
            choose(page, "year", year)
            _check_dom(page, f"year {year}")
            # the sentinel's cells: département 40, budget, by structure type, in every campaign
            choose(page, "level", "Département")
            choose(page, "territory", "Landes (40)")
            choose(page, "section", "Toutes les rubriques")
            choose(page, "question", "Budget total")
            choose(page, "breakdown", "Type de structure")
            _check_dom(page, f"Landes budget {year}")
            assert "s" in page.locator("td.senacs-s").all_text_contents()
        for level in options(page, "level"):
            choose(page, "level", level)
            for territory in options(page, "territory"):
                choose(page, "territory", territory)
                _check_dom(page, f"territory {territory}")
        choose(page, "level", "Département")
        choose(page, "territory", "Landes (40)")
        for breakdown in options(page, "breakdown"):
            choose(page, "breakdown", breakdown)
            _check_dom(page, f"breakdown {breakdown}")
        for section in options(page, "section")[1:]:  # every question once, under its own section
            choose(page, "section", section)
            for question in options(page, "question"):
                choose(page, "question", question)
                _check_dom(page, f"question {question}")
        page.wait_for_timeout(500)
        assert len(capture.frames) > 100, "the websocket frames were captured"
        assert any("Landes" in (f if isinstance(f, str) else f.decode("utf-8", "replace")) for f in capture.frames)
        assert any("data:text/csv" in (f if isinstance(f, str) else f.decode("utf-8", "replace"))
                   for f in capture.frames), "downloads travel in the frames and are decoded"
        assert capture.leaks() == []
    finally:
        context.close()


def test_no_sentinel_in_the_trends_across_every_selector(browser: Any, dashboard_server: DashboardServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    url = dashboard_server.urls["tendances"]
    capture = Capture(page, url.rstrip("/"))
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    open_dashboard(page, dashboard_server, "tendances")
    try:
        choose(page, "level", "Département")
        choose(page, "territory", "Landes (40)")
        choose(page, "question", "Budget total")
        for statistic in options(page, "statistic"):
            choose(page, "statistic", statistic)
            _check_dom(page, f"statistic {statistic}")
        for level in options(page, "level"):
            choose(page, "level", level)
            for territory in options(page, "territory"):
                choose(page, "territory", territory)
                _check_dom(page, f"territory {territory}")
        choose(page, "level", "Département")
        choose(page, "territory", "Landes (40)")
        for question in options(page, "question"):
            choose(page, "question", question)
            for answer in options(page, "answer"):
                if page.locator(".senacs-select-answer").is_visible():
                    choose(page, "answer", answer)
            _check_dom(page, f"question {question}")
        page.wait_for_timeout(500)
        assert len(capture.frames) > 50
        assert capture.leaks() == []
    finally:
        context.close()
