"""The viewer's selection and the selectors that set it (ipywidgets dropdowns).

Every option offered comes from the released cells (:class:`~.data.Catalog`) or from the
packaged codebook and territory names; a selector can only choose among released things.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from senacs_workbench.core.codebook import BREAKDOWNS, DERIVED_BREAKDOWNS
from senacs_workbench.released.dashboard.data import Catalog, TerritoryKey, answers_of, pick, territory_label

LEVEL_OPTIONS = (("Nation", "national"), ("Région", "region"), ("Département", "departement"))
ALL_SECTIONS = "__toutes__"
STATISTIC_OPTIONS = (("Moyenne", "mean"), ("Médiane", "median"), ("Total", "sum"))
HEADLINE_QUESTIONS = ("personnes_touchees", "budget_total", "salaries", "etp")
"""The dashboards open on the first of these that is released: a headline figure, drawn as a chart."""


@dataclass(frozen=True)
class Selection:
    year: int
    territory: TerritoryKey
    variable: str
    breakdown: str
    answer: str = ""
    statistic: str = "mean"


def _dropdown(description: str, name: str, width: str = "300px") -> widgets.Dropdown:
    dropdown = widgets.Dropdown(description=description, layout=widgets.Layout(width=width),
                                style={"description_width": "90px"})
    dropdown.add_class(f"senacs-select-{name}")
    return dropdown


def _set_options(dropdown: widgets.Dropdown, options: Sequence[tuple[str, object]], keep: object = None) -> None:
    values = [v for _, v in options]
    target = keep if keep in values else (values[0] if values else None)
    if list(dropdown.options) != list(options):
        dropdown.options = options
    if dropdown.value != target:
        dropdown.value = target


class Selectors:
    """Year (optional), level, territory, section, question, breakdown, answer and statistic dropdowns."""

    def __init__(self, catalog: Catalog, *, with_year: bool = True, with_breakdown: bool = True,
                 with_answer: bool = False, with_statistic: bool = False) -> None:
        self.catalog = catalog
        self.year = _dropdown("Campagne", "year", "200px")
        self.level = _dropdown("Niveau", "level", "220px")
        self.territory = _dropdown("Territoire", "territory", "340px")
        self.section = _dropdown("Rubrique", "section", "420px")
        self.question = _dropdown("Question", "question", "520px")
        self.breakdown = _dropdown("Ventilation", "breakdown", "340px")
        self.answer = _dropdown("Réponse", "answer", "340px")
        self.statistic = _dropdown("Statistique", "statistic", "240px")
        self.with_year, self.with_breakdown = with_year, with_breakdown
        self.with_answer, self.with_statistic = with_answer, with_statistic
        self._listeners: list[Callable[[], None]] = []
        self._depth = 1
        years = catalog.years
        _set_options(self.year, [(str(y), y) for y in reversed(years)])
        _set_options(self.level, [(label, lv) for label, lv in LEVEL_OPTIONS
                                  if any(k[0] == lv for k in catalog.territories())], keep=catalog.home[0])
        self._refresh_territories()
        if catalog.home in [v for _, v in self.territory.options]:
            self.territory.value = catalog.home
        self._refresh_sections()
        self._refresh_questions()
        headline = self._headline()
        if headline is not None:
            self.question.value = headline
        self._refresh_breakdowns()
        self._refresh_answers()
        _set_options(self.statistic, list(STATISTIC_OPTIONS))
        self.year.observe(self._on_year, names="value")
        self.level.observe(self._on_level, names="value")
        self.section.observe(self._on_section, names="value")
        self.question.observe(self._on_question, names="value")
        for dropdown in (self.territory, self.breakdown, self.answer, self.statistic):
            dropdown.observe(self._changed, names="value")
        self._depth = 0

    def _headline(self) -> str | None:
        """The first headline question offered whose home figure is published (else the first offered)."""
        offered = [q for q in HEADLINE_QUESTIONS if q in [v for _, v in self.question.options]]
        home = self.catalog.home
        for variable in offered:
            cells = self.catalog.cells(self._year_of(variable), variable, [home])
            if pick(cells, home, "mean")[2] == "V":
                return variable
        return offered[0] if offered else None

    # -- options -----------------------------------------------------------------------------
    def _years(self) -> list[int]:
        return [self.year.value] if self.with_year and self.year.value is not None else self.catalog.years

    def _refresh_territories(self) -> None:
        year = self.year.value if self.with_year else None
        keys = [k for k in self.catalog.territories(year) if k[0] == self.level.value]
        _set_options(self.territory, [(territory_label(k), k) for k in keys], keep=self.territory.value)

    def _questions(self) -> list[tuple[str, str, str]]:
        """(section id, section label, question id) of the questions released in the years in view."""
        seen: dict[str, tuple[str, str, str]] = {}
        for year in sorted(self._years(), reverse=True):
            codebook = self.catalog.codebook(year)
            for variable in self.catalog.variables(year):
                if variable not in seen:
                    question = codebook.question(variable)
                    seen[variable] = (question.section, codebook.sections.get(question.section, question.section),
                                      variable)
        latest = self.catalog.codebook(max(self._years()))
        order = {q.id: i for i, q in enumerate(latest.questions)}
        return sorted(seen.values(), key=lambda t: (t[0] == "theme", order.get(t[2], 10_000), t[2]))

    def _refresh_sections(self) -> None:
        sections: dict[str, str] = {}
        for section, label, _ in self._questions():
            sections.setdefault(section, label)
        options = [("Toutes les rubriques", ALL_SECTIONS), *((label, s) for s, label in sections.items())]
        _set_options(self.section, options, keep=self.section.value)

    def _refresh_questions(self) -> None:
        options = []
        for section, _, variable in self._questions():
            if self.section.value in (ALL_SECTIONS, section):
                options.append((self.catalog.question(variable, self._year_of(variable)).label, variable))
        _set_options(self.question, options, keep=self.question.value)

    def _year_of(self, variable: str) -> int:
        years = [y for y in self.catalog.years_of(variable) if y in self._years()]
        return max(years) if years else max(self.catalog.years_of(variable))

    def _refresh_breakdowns(self) -> None:
        options = [("Ensemble des structures", "")]
        if self.question.value is not None:
            year = self._year_of(self.question.value)
            released = set(self.catalog.cells(year, self.question.value).breakdown.unique()) - {""}
            codebook = self.catalog.codebook(year)
            # a question broken down by itself says nothing: it is not offered
            options += [(codebook.question(b).label, b) for b in BREAKDOWNS
                        if b in released and b in codebook and b != self.question.value]
            options += [(codebook.question(b).label, b) for b in DERIVED_BREAKDOWNS
                        if b in released and b != self.question.value]
        keep = self.breakdown.value if self.breakdown.value is not None else (options[1][1] if len(options) > 1 else "")
        _set_options(self.breakdown, options, keep=keep)

    def _refresh_answers(self) -> None:
        options: list[tuple[str, object]] = []
        if self.question.value is not None:
            year = self._year_of(self.question.value)
            question = self.catalog.question(self.question.value, year)
            cells = self.catalog.cells(year, self.question.value)
            answers = answers_of(cells, question)
            options = [(question.category_label(a), a) for a in answers]
        _set_options(self.answer, options, keep=self.answer.value)

    # -- events ------------------------------------------------------------------------------
    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self, _change: object = None) -> None:
        if self._depth:
            return
        for listener in self._listeners:
            listener()

    def _quietly(self, *steps: Callable[[], None]) -> None:
        """Refresh dependent selectors in order, then notify once (cascading events are ignored)."""
        if self._depth:
            return
        self._depth += 1
        try:
            for step in steps:
                step()
        finally:
            self._depth -= 1
        self._changed()

    def _on_year(self, _change: object) -> None:
        self._quietly(self._refresh_territories, self._refresh_sections, self._refresh_questions,
                      self._refresh_breakdowns, self._refresh_answers)

    def _on_level(self, _change: object) -> None:
        self._quietly(self._refresh_territories)

    def _on_section(self, _change: object) -> None:
        self._quietly(self._refresh_questions, self._refresh_breakdowns, self._refresh_answers)

    def _on_question(self, _change: object) -> None:
        self._quietly(self._refresh_breakdowns, self._refresh_answers)

    # -- state -------------------------------------------------------------------------------
    def selection(self) -> Selection | None:
        if self.territory.value is None or self.question.value is None:
            return None
        year = self.year.value if self.with_year else max(self.catalog.years_of(self.question.value))
        return Selection(year=year, territory=self.territory.value, variable=self.question.value,
                         breakdown=self.breakdown.value or "", answer=self.answer.value or "",
                         statistic=self.statistic.value or "mean")

    def widgets(self) -> widgets.Widget:
        first = [self.year] if self.with_year else []
        row1 = widgets.HBox([*first, self.level, self.territory])
        extra = [self.breakdown] if self.with_breakdown else []
        extra += [self.answer] if self.with_answer else []
        extra += [self.statistic] if self.with_statistic else []
        row2 = widgets.HBox([self.section, self.question])
        rows = [row1, row2] + ([widgets.HBox(extra)] if extra else [])
        return widgets.VBox(rows)
