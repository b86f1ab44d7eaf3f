"""Helpers of the dashboard browser tests (a module of its own: ``conftest`` names clash across test folders)."""

from __future__ import annotations

import warnings
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from senacs_workbench.apps.serve import DashboardServer

RENDER_TIMEOUT_MS = 90_000
READY_TIMEOUT_S = 240
"""Longest wait for a dashboard's preheated kernel to be replaced (a cold kernel start and run, on a loaded machine)."""
READY_QUIET_S = 0.5


def open_dashboard(page: Any, server: DashboardServer, name: str, *, charts: int = 1, query: str = "") -> None:
    """Load dashboard ``name`` (with ``query``) and wait until its widgets and ``charts`` plotly charts are drawn.

    Each page takes the preheated kernel of its dashboard, and Voilà replaces it in the background
    (pool of one kernel): a page opened before the replacement has run the notebook gets its HTML
    only once a cold kernel has started and run it. So the navigation first waits until the
    dashboard can serve a page at once (:meth:`DashboardServer.wait_ready`, which never requests
    the page itself); if the navigation still times out, it waits again and navigates once more.
    """
    url = server.urls[name]
    if query:
        url = url.rstrip("/") + "/?" + query
    page.set_default_timeout(30_000)
    for attempt in (1, 2):
        server.wait_ready(READY_TIMEOUT_S, names=[name], quiet=READY_QUIET_S)
        try:
            page.goto(url, timeout=RENDER_TIMEOUT_MS)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            warnings.warn(f"{name}: navigation timed out after {RENDER_TIMEOUT_MS // 1000} s although the dashboard "
                          "was ready; navigating again once it is ready", stacklevel=2)
    page.wait_for_selector(".senacs-dashboard", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .gtitle').length >= {charts}",
                           timeout=RENDER_TIMEOUT_MS)


def chart_titles(page: Any, css: str) -> str:
    return " ".join(page.locator(f"{css} .gtitle").all_text_contents())


def select(page: Any, name: str, *, label: str | None = None, index: int | None = None) -> None:
    """Choose an option of the ``name`` selector (year, level, territory, section, question, breakdown…)."""
    dropdown = page.locator(f".senacs-select-{name} select")
    if label is not None:
        dropdown.select_option(label=label)
    else:
        dropdown.select_option(index=index)


def options(page: Any, name: str) -> list[str]:
    return [t.replace("\xa0", " ") for t in page.locator(f".senacs-select-{name} select option").all_text_contents()]


def wait_text(page: Any, css: str, text: str) -> None:
    """Wait until an element matching ``css`` contains ``text`` (charts and tables update asynchronously)."""
    page.wait_for_function(
        "([css, text]) => [...document.querySelectorAll(css)].some(e => e.textContent.includes(text))",
        arg=[css, text], polling="raf",
    )


def render_count(page: Any) -> int:
    """Completed renders of the dashboard on ``page`` (an invisible counter the dashboards keep)."""
    value = page.locator(".senacs-rendered").first.get_attribute("data-count")
    return int(value or 0)


def choose(page: Any, name: str, label: str) -> bool:
    """Select ``label`` in selector ``name`` and wait until the dashboard has re-rendered; False if unchanged."""
    dropdown = page.locator(f".senacs-select-{name} select")
    if dropdown.input_value().replace("\xa0", " ") == label:
        return False
    before = render_count(page)
    dropdown.select_option(label=label)
    page.wait_for_function(
        "(before) => Number(document.querySelector('.senacs-rendered')?.dataset.count || 0) > before",
        arg=before, polling="raf",
    )
    return True
