"""Accessibility of the dashboards in the real browser (RGAA / WCAG 2.1 AA), checked with axe-core.

The states checked are those the rendering tests visit: the opening view, a small département
with suppressed cells, a numeric question broken down, and the trends of a numeric and a
categorical question. A keyboard-only walk selects a territory, a question and a breakdown, then
reaches the table. Reuses the session's dashboard server (no server of its own).
"""

from __future__ import annotations

from typing import Any

import pytest
from accessibility_support import blocking_violations
from dashboard_browser import choose, render_count

pytestmark = pytest.mark.slow


def _check(page: Any, state: str) -> None:
    """axe at the default width, then at a narrow one (wide tables and charts scroll there: reflow)."""
    found = blocking_violations(page)
    size = page.viewport_size
    page.set_viewport_size({"width": 480, "height": 800})
    try:
        page.wait_for_timeout(300)
        found += [f"480 px : {v}" for v in blocking_violations(page)]
    finally:
        page.set_viewport_size(size)
    assert found == [], f"{state}: " + "\n".join(found)


def test_overview_has_no_serious_violation_and_opens_on_a_headline_chart(overview_page: Any) -> None:
    page = overview_page
    assert page.evaluate("document.documentElement.lang") == "fr"
    # the opening view: a headline figure with both charts, each followed by its text alternative
    title = page.locator(".senacs-cards-title").text_content()
    assert "Type de structure" not in title, title
    assert page.locator(".senacs-chart-breakdown .js-plotly-plot").count() == 1
    alternatives = page.locator("details.senacs-chart-alt p").all_text_contents()
    assert len(alternatives) == 2 and all("Valeurs :" in text for text in alternatives), alternatives
    _check(page, "ouverture")
    choose(page, "level", "Département")
    choose(page, "territory", "Landes (40)")
    choose(page, "question", "Budget total")
    choose(page, "breakdown", "Type de structure")
    assert page.locator("td.senacs-s").count() > 0
    live = page.locator("[aria-live]").first.text_content()
    assert "Landes" in live and "Budget total" in live, live
    alternatives = " ".join(page.locator("details.senacs-chart-alt p").all_text_contents())
    assert "secret statistique" in alternatives
    _check(page, "Landes, budget total par type de structure")


def test_trends_have_no_serious_violation(trends_page: Any) -> None:
    page = trends_page
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert "Valeurs :" in page.locator("details.senacs-chart-alt p").first.text_content()
    _check(page, "tendances, ouverture")
    choose(page, "question", "Statut des locaux")
    _check(page, "tendances, question à modalités")


def _tab_to(page: Any, css: str, limit: int = 60) -> None:
    """Press Tab until the focused element is inside ``css``; its focus must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(css) => !!document.activeElement?.closest(css)", css):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("none", ""), f"focus not visible on {css}"
            return
    raise AssertionError(f"{css} cannot be reached with the Tab key")


def _type_into(page: Any, name: str, text: str) -> None:
    """Focus selector ``name`` with Tab, choose by typing (no mouse), and wait for the view to update."""
    page.locator("body").focus()
    page.evaluate("() => document.activeElement?.blur()")
    _tab_to(page, f".senacs-select-{name}")
    before, value = render_count(page), page.evaluate("() => document.activeElement.value")
    page.keyboard.type(text)
    chosen = page.evaluate("() => document.activeElement.selectedOptions[0].textContent")
    assert chosen.replace("\xa0", " ").startswith(text), chosen
    if page.evaluate("() => document.activeElement.value") != value:
        page.wait_for_function(
            "(before) => Number(document.querySelector('.senacs-rendered')?.dataset.count || 0) > before",
            arg=before, polling="raf")


def test_keyboard_only_walk_selects_territory_question_breakdown_and_reads_the_table(overview_page: Any) -> None:
    page = overview_page
    _type_into(page, "level", "Région")
    _type_into(page, "territory", "Nouvelle-Aquitaine")
    _type_into(page, "question", "Nombre de salariés")
    _type_into(page, "breakdown", "Mode de gestion")
    assert "Nouvelle-Aquitaine" in page.locator(".senacs-cards-title").text_content()
    _tab_to(page, ".senacs-table")
    table = page.evaluate("() => document.activeElement.closest('.senacs-table').textContent")
    assert "Nouvelle-Aquitaine" in table and "Mode de gestion" in table, table[:300]
    assert "Nombre de salariés" in page.evaluate("() => document.activeElement.closest('.senacs-table').getAttribute("
                                       "'aria-label')")
