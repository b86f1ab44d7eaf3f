"""Helpers of the dashboard browser tests (a module of its own: ``conftest`` names clash across test folders)."""

from __future__ import annotations

from typing import Any

RENDER_TIMEOUT_MS = 90_000


def open_dashboard(page: Any, url: str, *, charts: int = 1) -> None:
    """Load a dashboard and wait until its widgets and ``charts`` plotly charts are drawn."""
    page.set_default_timeout(30_000)
    page.goto(url, timeout=RENDER_TIMEOUT_MS)
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
