"""Each dashboard renders in a real browser, and every selector updates its charts and table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from dashboard_browser import chart_titles, options, select, wait_text
from released_bundles import theme_variables

from senacs_workbench.core.codebook import load_codebook

pytestmark = pytest.mark.slow


def test_overview_renders_cards_charts_table_and_downloads(overview_page) -> None:
    page = overview_page
    assert page.locator("body[data-voila]").count() == 1 or page.locator("#rendered_cells").count() == 1
    assert "Tableau de bord SENACS" in page.locator("h1").first.text_content()
    cards = page.locator(".senacs-card")
    assert cards.count() >= 4
    assert "taux de réponse" in page.locator(".senacs-cards").text_content()
    # every chart names its territories with n and the response rate
    comparison = page.locator(".senacs-chart-comparison svg").first.text_content()
    assert "n = " in comparison.replace("\xa0", " ") and "taux de réponse" in comparison
    assert "France entière" in comparison
    breakdown = page.locator(".senacs-chart-breakdown svg").first.text_content()
    assert "taux de réponse" in breakdown
    table = page.locator("table.senacs-aggregates")
    assert table.count() == 1
    headers = table.locator("th").all_text_contents()
    assert headers[:5] == ["Niveau", "Code", "Territoire", "Ventilation", "Modalité"]
    assert "Taux de réponse" in headers and "Répondants" in headers
    # the national workspace's dashboard opens on the nation; a small département has suppressed cells
    assert "France entière" in page.locator(".senacs-cards-title").text_content()
    select(page, "level", label="Département")
    select(page, "territory", label="Landes (40)")
    wait_text(page, "table.senacs-aggregates caption", "Landes")
    assert page.locator("td.senacs-s").count() > 0, "suppressed cells are shown as « s »"
    assert "secret statistique" in page.locator(".senacs-table").text_content()
    # no source code, no traceback
    body = page.locator("body").text_content()
    assert "tableau_de_bord()" not in body and "Traceback" not in body
    assert page.locator(".jp-CodeMirrorEditor, .cm-editor").count() == 0
    assert "from senacs_workbench" not in page.content(), "strip_sources: no code reaches the page"
    assert page.errors == []


def test_trends_renders_every_released_campaign(trends_page) -> None:
    page = trends_page
    chart = page.locator(".senacs-chart-trend svg").first.text_content()
    for year in ("2022", "2023", "2024"):
        assert year in chart
    assert "taux de réponse" in chart
    headers = page.locator("table.senacs-aggregates th").all_text_contents()
    assert headers[:4] == ["Campagne", "Niveau", "Code", "Territoire"]
    assert "Taux de réponse" in headers


def test_overview_selectors_update_charts_and_table(overview_page) -> None:
    page = overview_page
    # territory
    select(page, "level", label="Département")
    select(page, "territory", label="Landes (40)")
    wait_text(page, ".senacs-chart-comparison .gtitle", "Landes")
    wait_text(page, "table.senacs-aggregates", "Landes")
    comparison = chart_titles(page, ".senacs-chart-comparison")
    assert "Nouvelle-Aquitaine" in comparison and "France entière" in comparison
    rows = page.locator("table.senacs-aggregates tbody tr td:nth-child(3)").all_text_contents()
    assert {"Landes", "Nouvelle-Aquitaine", "France"} <= set(rows)
    # question
    select(page, "section", label="Toutes les rubriques")
    select(page, "question", label="Budget total")
    wait_text(page, ".senacs-chart-comparison .gtitle", "Budget total")
    wait_text(page, "table.senacs-aggregates caption", "Budget total")
    assert "Moyenne" in page.locator("table.senacs-aggregates thead").text_content()
    # year
    select(page, "year", label="2022")
    wait_text(page, ".senacs-chart-comparison .gtitle", "Campagne 2022")
    wait_text(page, "table.senacs-aggregates caption", "campagne 2022")
    assert "campagne 2022" in page.locator(".senacs-cards-title").text_content()
    # the year's theme questions are offered only in their campaign
    offered = options(page, "question")
    assert load_codebook(2022).question(theme_variables(2022)[0]).label in offered
    assert load_codebook(2024).question(theme_variables(2024)[0]).label not in offered
    # breakdown
    select(page, "breakdown", label="Mode de gestion")
    wait_text(page, ".senacs-chart-breakdown .gtitle", "mode de gestion")
    assert "Mode de gestion" in page.locator("table.senacs-aggregates").text_content()
    # région level: the région against the nation
    select(page, "level", label="Région")
    select(page, "territory", label="Île-de-France (11)")
    wait_text(page, ".senacs-chart-comparison .gtitle", "Île-de-France")
    select(page, "level", label="Nation")
    wait_text(page, ".senacs-chart-comparison .gtitle", "France entière comparé à lui-même")


def test_trends_selectors_update_chart_and_table(trends_page) -> None:
    page = trends_page
    select(page, "level", label="Département")
    select(page, "territory", label="Gironde (33)")
    wait_text(page, ".senacs-chart-trend .legend", "Gironde")
    wait_text(page, "table.senacs-aggregates", "Gironde")
    select(page, "question", label="Budget total")
    select(page, "statistic", label="Médiane")
    wait_text(page, ".senacs-chart-trend .gtitle", "Médiane — Budget total")
    wait_text(page, "table.senacs-aggregates thead", "Médiane")
    select(page, "question", label="Statut des locaux")
    select(page, "answer", label="Propriétaire")
    wait_text(page, ".senacs-chart-trend .gtitle", "Part « Propriétaire »")
    wait_text(page, "table.senacs-aggregates thead", "Part « Propriétaire »")


def test_download_the_table_shown_as_csv_and_xlsx(overview_page, tmp_path: Path) -> None:
    page = overview_page
    select(page, "year", label="2024")
    select(page, "level", label="Département")
    select(page, "territory", label="Landes (40)")
    select(page, "section", label="Toutes les rubriques")
    select(page, "question", label="Budget total")
    wait_text(page, "table.senacs-aggregates caption", "Landes")
    page.wait_for_selector("a.senacs-download-csv[download='senacs_2024_budget_total_departement_40.csv']")
    shown_rows = page.locator("table.senacs-aggregates tbody tr").count()
    with page.expect_download() as download_info:
        page.locator("a.senacs-download-csv").click()
    csv_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(csv_path)
    assert csv_path.name == "senacs_2024_budget_total_departement_40.csv"
    raw = csv_path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][:5] == ["Niveau", "Code", "Territoire", "Ventilation", "Modalité"]
    assert "Taux de réponse (%)" in rows[1]
    body = [r for r in rows[2:] if r and r[0] in ("département", "région", "national")]
    assert len(body) == shown_rows
    assert any("s" in r for r in body), "suppressed cells are « s » in the CSV"
    assert any("," in cell for r in body for cell in r[5:]), "decimal comma"
    assert "secret statistique" in rows[-1][0]
    with page.expect_download() as download_info:
        page.locator("a.senacs-download-xlsx").click()
    xlsx_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(xlsx_path)
    sheet = openpyxl.load_workbook(xlsx_path).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=3 + shown_rows)]
    assert values[0][2] == "Landes"
    assert any(v == "s" for row in values for v in row)
    rate_column = [c.value for c in sheet[3]].index("Taux de réponse")
    assert sheet.cell(row=4, column=rate_column + 1).number_format == "0.0%"
