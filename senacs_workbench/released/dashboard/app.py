"""The two committee dashboards: wiring selectors to cards, charts, table and downloads.

``tableau_de_bord()``: one campaign, a territory against its région and the nation.
``tendances()``: one question across every released campaign.

Both display themselves and return their root widget. Errors reach the viewer as a French
message, never as a traceback.

Accessibility (RGAA / WCAG 2.1 AA, docs/accessibilite.md): every selector is labelled, the focus
is visible, each chart is followed by its text alternative and a link to its data table, and a
polite live region announces what the updated view now shows after each selection.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import display

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.released.dashboard import charts
from senacs_workbench.released.dashboard.cards import cards_html, key_figures
from senacs_workbench.released.dashboard.data import (
    Catalog,
    DashboardError,
    comparison_set,
    load_catalog,
    pick,
    territory_label,
)
from senacs_workbench.released.dashboard.downloads import download_links_html, file_stem
from senacs_workbench.released.dashboard.state import Selection, Selectors
from senacs_workbench.released.dashboard.table import shown_table, table_html, trend_table
from senacs_workbench.released.published import BundleError

LOG = logging.getLogger("senacs_workbench.released.dashboard")
GENERIC_ERROR = "Cette vue ne peut pas être affichée. Signalez-le au préparateur du comité."
STYLE = (
    "<style>.senacs-error{color:#a40e26;font-weight:600}"
    ".senacs-note{color:#57606a;font-size:0.85em}"
    ".senacs-dashboard :focus-visible,.senacs-dashboard select:focus,.senacs-dashboard a:focus,"
    ".senacs-dashboard [tabindex]:focus{outline:3px solid #0b4f9c !important;outline-offset:2px}"
    ".senacs-chart-alt{font-size:0.85em;color:#24292f;max-width:60em}"
    ".senacs-chart-alt summary{cursor:pointer;color:#0b4f9c}"
    ".senacs-live{font-size:0.85em;color:#24292f}"
    # a chart wider than the screen widens the page (scrolled with the keyboard like any page) instead of
    # scrolling inside a box the keyboard cannot reach
    ".senacs-dashboard .jp-RenderedPlotly{overflow:visible !important}</style>"
)
TABLE_ANCHOR = "senacs-donnees"


def _message(text: str, css: str = "senacs-error") -> widgets.HTML:
    return widgets.HTML(f'<p class="{css}">{html.escape(text)}</p>')


def chart_alternative_html(figure: go.Figure) -> str:
    """The chart's French text alternative (message and figures), and a link to its data table."""
    text = charts.description(figure)
    return (f'<details class="senacs-chart-alt"><summary>Description textuelle du graphique</summary>'
            f'<p>{html.escape(text)}</p></details>'
            f'<p class="senacs-chart-alt"><a href="#{TABLE_ANCHOR}">Voir les données du graphique dans le '
            f"tableau</a></p>")


def live_html(text: str) -> str:
    """The live region's content: what the view shows after an update (read out by screen readers)."""
    return (f'<div class="senacs-live" role="status" aria-live="polite" aria-atomic="true">'
            f"Vue mise à jour : {html.escape(text)}</div>")


def _guarded(render: Callable[[], None], status: widgets.HTML, stamp: RenderStamp) -> Callable[[], None]:
    def run() -> None:
        try:
            render()
            status.value = ""
        except SenacsError as error:
            status.value = _message(str(error)).value
        except Exception:  # never a traceback in front of the committee
            LOG.exception("dashboard update failed")
            status.value = _message(GENERIC_ERROR).value
        stamp.bump()

    return run


class RenderStamp:
    """An invisible marker counting completed renders (lets tests and benchmarks wait for an update)."""

    def __init__(self) -> None:
        self.count = 0
        self.widget = widgets.HTML('<span class="senacs-rendered" data-count="0"></span>')

    def bump(self) -> None:
        self.count += 1
        self.widget.value = f'<span class="senacs-rendered" data-count="{self.count}"></span>'


PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def _show_figure(output: widgets.Output, figure: go.Figure) -> None:
    """Replace the output's figure: the plain plotly mimetype (JSON only, no plotly.js, no widget state)."""
    bundle = {PLOTLY_MIME: {**json.loads(pio.to_json(figure, validate=False)), "config": PLOTLY_CONFIG}}
    output.clear_output(wait=True)
    with output:
        display(bundle, raw=True)


def _catalog(published_dir: Path | str | None) -> Catalog | widgets.HTML:
    try:
        return load_catalog(published_dir)
    except BundleError:  # its message names files on the server: logged, not shown
        LOG.exception("released bundle refused")
        return _message("Un jeu de tableaux publié a été modifié depuis sa validation, ou n'est pas approuvé par "
                        "le comité : il n'est pas affiché. Prévenez le préparateur.")
    except SenacsError as error:
        return _message(str(error))


class _Dashboard:
    """What both dashboards share: render the current selection, or say there is none."""

    selectors: Selectors

    def render(self, selection: Selection) -> None:
        raise NotImplementedError

    def _render(self) -> None:
        selection = self.selectors.selection()
        if selection is None:
            raise DashboardError("Aucune donnée publiée pour cette sélection.")
        self.render(selection)


class Overview(_Dashboard):
    """One campaign: cards, comparison chart, breakdown chart, table and downloads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.selectors = Selectors(catalog, with_year=True, with_breakdown=True)
        self.cards = widgets.HTML()
        self.cards.add_class("senacs-cards-box")
        self.comparison = widgets.Output()
        self.comparison.add_class("senacs-chart-comparison")
        self.breakdown = widgets.Output()
        self.breakdown.add_class("senacs-chart-breakdown")
        self.comparison_alt = widgets.HTML()
        self.breakdown_alt = widgets.HTML()
        self.live = widgets.HTML(live_html("chargement"))
        self.table = widgets.HTML()
        self.table.add_class("senacs-table-box")
        self.downloads = widgets.HTML()
        self.sources = widgets.HTML()
        self.sources.add_class("senacs-sources")
        self.status = widgets.HTML()
        self.stamp = RenderStamp()
        self.update = _guarded(self._render, self.status, self.stamp)
        self.selectors.on_change(self.update)
        self.root = widgets.VBox([
            widgets.HTML(STYLE), self.selectors.widgets(), self.live, self.status, self.cards,
            widgets.HBox([widgets.VBox([self.comparison, self.comparison_alt]),
                          widgets.VBox([self.breakdown, self.breakdown_alt])],
                         layout=widgets.Layout(flex_flow="row wrap")),
            self.sources, self.table, self.downloads, self.stamp.widget,
        ])
        self.root.add_class("senacs-dashboard")
        self.update()

    def render(self, selection: Selection) -> None:
        year, key, variable = selection.year, selection.territory, selection.variable
        question = self.catalog.question(variable, year)
        keys = self.catalog.chart_keys(key, year)
        cells = self.catalog.cells(year, variable, keys)
        if cells.empty:
            raise DashboardError("Aucune donnée publiée pour cette sélection.")
        comparison = charts.comparison_figure(cells, question, keys, year)
        _show_figure(self.comparison, comparison)
        self.comparison_alt.value = chart_alternative_html(comparison)
        self.cards.value = cards_html(key_figures(cells, key, question), key, question, year)
        if selection.breakdown:
            codebook = self.catalog.codebook(year)
            breakdown = charts.breakdown_figure(
                cells, question, key, selection.breakdown, codebook.question(selection.breakdown), year)
            _show_figure(self.breakdown, breakdown)
            self.breakdown_alt.value = chart_alternative_html(breakdown)
        else:
            self.breakdown.clear_output()
            self.breakdown_alt.value = ""
        note = self.catalog.source_note(year, keys)
        self.sources.value = _message(note, "senacs-note").value if note else ""
        table = shown_table(self.catalog, year, variable, keys, selection.breakdown)
        title = f"{question.label} ({variable}) — {territory_label(key)} — campagne {year}"
        self.table.value = table_html(table, question, title, anchor=TABLE_ANCHOR)
        self.downloads.value = download_links_html(table, title, file_stem("senacs", year, variable, *key))
        self.live.value = live_html(title)


class Trends(_Dashboard):
    """One question across every released campaign, for a territory, its région and the nation."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.selectors = Selectors(catalog, with_year=False, with_breakdown=False, with_answer=True,
                                   with_statistic=True)
        self.chart = widgets.Output()
        self.chart.add_class("senacs-chart-trend")
        self.chart_alt = widgets.HTML()
        self.live = widgets.HTML(live_html("chargement"))
        self.table = widgets.HTML()
        self.table.add_class("senacs-table-box")
        self.downloads = widgets.HTML()
        self.status = widgets.HTML()
        self.stamp = RenderStamp()
        self.update = _guarded(self._render, self.status, self.stamp)
        self.selectors.on_change(self.update)
        note = _message("Les structures répondantes changent d'une campagne à l'autre : une évolution peut "
                        "refléter un changement de répondants autant qu'un changement des pratiques.",
                        "senacs-note")
        self.root = widgets.VBox([widgets.HTML(STYLE), self.selectors.widgets(), self.live, self.status, self.chart,
                                  self.chart_alt, note,
                                  self.table, self.downloads, self.stamp.widget])
        self.root.add_class("senacs-dashboard")
        self.update()

    def render(self, selection: Selection) -> None:
        key, variable = selection.territory, selection.variable
        question = self.catalog.question(variable)
        categorical = question.type.is_categorical
        self.selectors.answer.layout.display = None if categorical else "none"
        self.selectors.statistic.layout.display = "none" if categorical else None
        statistic = "share" if categorical else selection.statistic
        answer = selection.answer if categorical else ""
        keys = comparison_set(key)
        points = []
        for year in self.catalog.years_of(variable):
            cells = self.catalog.cells(year, variable, keys)
            for k in keys:
                value, n, status = pick(cells, k, statistic, answer=answer)
                rate, _, rate_status = pick(cells, k, "response_rate")
                if status or rate_status:
                    points.append((year, k, value, n, status, rate, rate_status))
        if not points:
            raise DashboardError("Aucune donnée publiée pour cette sélection.")
        frame = charts.trend_frame(points)
        figure = charts.trend_figure(frame, question, statistic, answer)
        _show_figure(self.chart, figure)
        self.chart_alt.value = chart_alternative_html(figure)
        table = trend_table(frame, question, statistic, answer)
        what = charts.STATISTIC_TITLES.get(statistic, statistic)
        if answer:
            what = f"{what} « {question.category_label(answer)} »"
        title = f"{question.label} ({variable}) — {what} — {territory_label(key)}, campagnes {frame.year.min()}–" \
                f"{frame.year.max()}"
        self.table.value = table_html(table, question, title, anchor=TABLE_ANCHOR)
        self.downloads.value = download_links_html(table, title,
                                                   file_stem("senacs_tendances", variable, answer or statistic, *key))
        self.live.value = live_html(title)


def _run(factory: Callable[[Catalog], Overview | Trends], published_dir: Path | str | None) -> widgets.Widget:
    catalog = _catalog(published_dir)
    if isinstance(catalog, widgets.HTML):
        display(catalog)
        return catalog
    try:
        root = factory(catalog).root
    except SenacsError as error:
        root = _message(str(error))
    except Exception:
        LOG.exception("dashboard start failed")
        root = _message(GENERIC_ERROR)
    display(root)
    return root


def tableau_de_bord(published_dir: Path | str | None = None) -> widgets.Widget:
    """The overview dashboard (one campaign); reads ``$SENACS_PUBLISHED_DIR`` unless given a folder."""
    return _run(Overview, published_dir)


def tendances(published_dir: Path | str | None = None) -> widgets.Widget:
    """The trends dashboard (every released campaign)."""
    return _run(Trends, published_dir)


__all__ = ["Overview", "Trends", "tableau_de_bord", "tendances"]
