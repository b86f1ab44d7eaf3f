"""The SENACS questionnaire codebook, versioned by campaign year.

The codebook is packaged data: ``data/codebook/core.yaml`` (the stable core block, with
``since``/``until`` years for questions that appear or disappear) and
``data/codebook/themes.yaml`` (one theme block per campaign year). ``load_codebook(year)``
returns the questionnaire of one campaign: its key columns, provenance columns and questions.

The codebook also declares the *relations* between questions that the questionnaire implies
(``relations:`` in ``core.yaml``): a total and its parts (the budget and its funding sources),
parts that add up to a constant (age shares, 100 %), a part bounded by its whole (full-time
equivalents by headcount). They are the one source of truth for two readers: the coherence
rules check each centre against them (``relation:`` in the rules catalogue), and disclosure
control treats them as knowledge every reader of a release has (attack A16: the budget minus
its published sources gives a hidden source back). Each carries the tolerance that really
holds for a centre: an identity true within 5 % is an interval relation, not an equality.

Data year = campaign year - 1 (the spring 2024 campaign collects 2023 data); the workbench
always speaks in campaign years.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from senacs_workbench.core.errors import InputError, UnknownQuestion


class QuestionType(enum.StrEnum):
    COUNT = "count"
    AMOUNT = "amount"
    DECIMAL = "decimal"
    PERCENT = "percent"
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DATE = "date"
    TEXT = "text"

    @property
    def is_numeric(self) -> bool:
        return self in NUMERIC_TYPES

    @property
    def is_categorical(self) -> bool:
        return self in CATEGORICAL_TYPES


NUMERIC_TYPES = frozenset(
    {QuestionType.COUNT, QuestionType.AMOUNT, QuestionType.DECIMAL, QuestionType.PERCENT}
)
CATEGORICAL_TYPES = frozenset(
    {QuestionType.YES_NO, QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE}
)

IDENTITY_SECTION = "identite"
"""The identity block (name, commune, type, management mode…), known before any answer: a
structure that answered no question outside it did not respond to the campaign."""

YES = "oui"
NO = "non"
MULTIPLE_CHOICE_SEPARATOR = "|"
"""Canonical separator of the codes of a multiple-choice answer, as stored."""

YES_NO_CATEGORIES: tuple[Category, ...]  # defined below, after Category


@dataclass(frozen=True)
class Category:
    code: str
    label: str


YES_NO_CATEGORIES = (Category(YES, "Oui"), Category(NO, "Non"))


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire."""

    id: str
    label: str
    help: str
    section: str
    type: QuestionType
    unit: str = ""
    minimum: float | str | None = None
    maximum: float | str | None = None
    categories: tuple[Category, ...] = ()
    public: bool = False
    required: bool = False
    theme: str | None = None

    @property
    def is_identity(self) -> bool:
        """Whether the question belongs to the identity block (answering it is not responding)."""
        return self.section == IDENTITY_SECTION

    @property
    def answer_codes(self) -> tuple[str, ...]:
        """Codes that a categorical answer may take (``oui``/``non`` for yes/no)."""
        if self.type is QuestionType.YES_NO:
            return tuple(c.code for c in YES_NO_CATEGORIES)
        return tuple(c.code for c in self.categories)

    def category_label(self, code: str) -> str:
        cats = YES_NO_CATEGORIES if self.type is QuestionType.YES_NO else self.categories
        for cat in cats:
            if cat.code == code:
                return cat.label
        return code


class RelationKind(enum.StrEnum):
    SUM_TO_TOTAL = "sum_to_total"
    """``total`` = Σ ``parts`` (within the tolerance of the total)."""
    SUM_TO_CONSTANT = "sum_to_constant"
    """Σ ``parts`` = ``constant`` (shares that add up to 100 %), within the tolerance."""
    BOUNDED_BY = "bounded_by"
    """The one part ≤ ``bound`` (a sub-count and its count), plus the tolerance."""


@dataclass(frozen=True)
class Relation:
    """An identity between questions that holds for every centre (within its tolerance)."""

    id: str
    kind: RelationKind
    label: str
    parts: tuple[str, ...]
    total: str | None = None
    bound: str | None = None
    constant: float | None = None
    relative_tolerance: float = 0.0
    absolute_tolerance: float = 0.0

    @property
    def questions(self) -> tuple[str, ...]:
        """Every question the relation involves (the total or bound first)."""
        head = self.total or self.bound
        return (head, *self.parts) if head else self.parts

    @property
    def is_exact(self) -> bool:
        return self.relative_tolerance == 0.0 and self.absolute_tolerance == 0.0

    def tolerance(self, reference: float) -> float:
        """Allowed gap for one centre whose total (or constant, or bound) is ``reference``."""
        return max(self.relative_tolerance * abs(reference), self.absolute_tolerance)


@dataclass(frozen=True)
class KeyColumn:
    id: str
    label: str
    help: str


@dataclass(frozen=True)
class Provenance:
    """How an export says who entered the answers (charter 2.2)."""

    column: str
    label: str
    help: str
    section_prefix: str
    values: tuple[Category, ...]

    def section_column(self, section: str) -> str:
        return f"{self.section_prefix}{section}"


@dataclass(frozen=True)
class Codebook:
    """The questionnaire of one campaign year."""

    year: int
    keys: tuple[KeyColumn, ...]
    provenance: Provenance
    sections: dict[str, str]
    questions: tuple[Question, ...]
    theme_id: str
    theme_label: str
    relations: tuple[Relation, ...] = ()
    """The declared relations whose questions are all asked this year."""
    _by_id: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._by_id

    def question(self, question_id: str) -> Question:
        """A question of the questionnaire, or a breakdown derived from public identity data
        (:data:`DERIVED_BREAKDOWNS`, e.g. the constant panel): not asked, but released."""
        try:
            return self._by_id[question_id]
        except KeyError:
            if question_id in DERIVED_BREAKDOWNS:
                return DERIVED_BREAKDOWNS[question_id]
            raise UnknownQuestion(
                f"La question « {question_id} » n'existe pas dans le questionnaire {self.year}.",
                question=question_id,
                year=self.year,
            ) from None

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    @property
    def respondent_questions(self) -> tuple[str, ...]:
        """The questions outside the identity block: a structure that answered one of them is a
        respondent of the campaign (the one statement of that rule)."""
        return tuple(q.id for q in self.questions if not q.is_identity)

    def respondents(self, frame: pd.DataFrame) -> pd.Series:
        """Whether each row of ``frame`` (one column per question; absent columns count as
        unanswered) answered at least one question outside the identity block."""
        answered = [q for q in self.respondent_questions if q in frame.columns]
        if not answered:
            return pd.Series(False, index=frame.index)
        return frame[answered].notna().any(axis=1)

    def in_section(self, section: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.section == section)

    @property
    def theme_questions(self) -> tuple[Question, ...]:
        return self.in_section("theme")


_DATA = "senacs_workbench.data.codebook"


@functools.cache
def _raw(name: str) -> dict[str, Any]:
    text = resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def available_years() -> tuple[int, ...]:
    """Campaign years for which the package ships a codebook."""
    return tuple(sorted(int(y) for y in _raw("themes.yaml")["themes"]))


def _question(raw: dict[str, Any], section: str | None = None, theme: str | None = None) -> Question:
    if "magnitude" in raw:
        # Where dominance and p % apply is the disclosure rule set's decision (dominance.exempt),
        # not the questionnaire's: a second source of truth would drift.
        raise CodebookError(
            f"Question « {raw['id']} » : le champ « magnitude » n'existe plus ; la règle de dominance "
            "s'applique à toute question quantitative sauf exemption du jeu de règles."
        )
    return Question(
        id=raw["id"],
        label=raw["label"],
        help=raw["help"],
        section=section or raw["section"],
        type=QuestionType(raw["type"]),
        unit=str(raw.get("unit", "")),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        categories=tuple(Category(str(c["code"]), str(c["label"])) for c in raw.get("categories", [])),
        public=bool(raw.get("public", False)),
        required=bool(raw.get("required", False)),
        theme=theme,
    )


class CodebookError(InputError):
    """The packaged codebook is malformed (a developer's error, reported in French)."""


def _relation(raw: dict[str, Any]) -> Relation:
    where = f"codebook, relation « {raw.get('id', '?')} »"
    try:
        kind = RelationKind(raw["kind"])
    except (KeyError, ValueError):
        raise CodebookError(f"{where} : type de relation inconnu ({raw.get('kind')!r}).") from None
    tolerance = raw.get("tolerance") or {}
    relation = Relation(
        id=str(raw["id"]),
        kind=kind,
        label=str(raw.get("label", "")),
        parts=tuple(str(p) for p in raw.get("parts") or ([raw["part"]] if "part" in raw else [])),
        total=raw.get("total"),
        bound=raw.get("bound"),
        constant=None if raw.get("constant") is None else float(raw["constant"]),
        relative_tolerance=float(tolerance.get("relative", 0.0)),
        absolute_tolerance=float(tolerance.get("absolute", 0.0)),
    )
    wanted = {
        RelationKind.SUM_TO_TOTAL: relation.total is not None and len(relation.parts) >= 2,
        RelationKind.SUM_TO_CONSTANT: relation.constant is not None and len(relation.parts) >= 2,
        RelationKind.BOUNDED_BY: relation.bound is not None and len(relation.parts) == 1,
    }
    if not wanted[kind]:
        raise CodebookError(f"{where} : champs incomplets pour une relation « {kind.value} ».")
    return relation


@functools.cache
def declared_relations() -> tuple[Relation, ...]:
    """Every relation the codebook declares (any year); :attr:`Codebook.relations` keeps a year's."""
    relations = tuple(_relation(r) for r in _raw("core.yaml").get("relations") or ())
    ids = [r.id for r in relations]
    if len(ids) != len(set(ids)):
        raise CodebookError("codebook : identifiant de relation en double.")
    return relations


def relation(relation_id: str) -> Relation:
    """A declared relation by id."""
    for item in declared_relations():
        if item.id == relation_id:
            return item
    raise CodebookError(f"Relation inconnue dans le questionnaire : « {relation_id} ».")


@functools.cache
def load_codebook(year: int) -> Codebook:
    """The codebook of campaign ``year`` (core questions in force that year + its theme)."""
    core = _raw("core.yaml")
    themes = _raw("themes.yaml")["themes"]
    if year not in themes:
        known = ", ".join(str(y) for y in available_years())
        raise InputError(f"Aucun questionnaire pour la campagne {year} (campagnes connues : {known}).", year=year)
    questions = [
        _question(q)
        for q in core["questions"]
        if q.get("since", 0) <= year <= q.get("until", 9999)
    ]
    theme = themes[year]
    questions += [_question(q, section="theme", theme=theme["id"]) for q in theme["questions"]]
    asked = {q.id for q in questions}
    prov = core["provenance"]
    sections = dict(core["sections"])
    sections["theme"] = f"Thème de l'année : {theme['label']}"
    return Codebook(
        year=year,
        keys=tuple(KeyColumn(k["id"], k["label"], k["help"]) for k in core["keys"]),
        provenance=Provenance(
            column=prov["column"],
            label=prov["label"],
            help=prov["help"],
            section_prefix=prov["section_prefix"],
            values=tuple(Category(v["code"], v["label"]) for v in prov["values"]),
        ),
        sections=sections,
        questions=tuple(questions),
        theme_id=theme["id"],
        theme_label=theme["label"],
        relations=tuple(r for r in declared_relations() if all(q in asked for q in r.questions)),
    )


BREAKDOWNS: tuple[str, ...] = ("type_structure", "mode_gestion", "type_territoire", "qpv")

PANEL_BREAKDOWN = "panel_constant"
PANEL_IN = "panel"
PANEL_OUT = "hors_panel"
DERIVED_BREAKDOWNS: dict[str, Question] = {
    PANEL_BREAKDOWN: Question(
        id=PANEL_BREAKDOWN,
        label="Panel constant",
        help=("Structure présente à chaque campagne de la période du panel (workspace.yaml, panel_years) : "
              "les évolutions calculées sur ce seul panel ne doivent rien aux entrées et sorties de structures."),
        section=IDENTITY_SECTION,
        type=QuestionType.SINGLE_CHOICE,
        categories=(Category(PANEL_IN, "Présentes chaque année du panel"),
                    Category(PANEL_OUT, "Entrées ou sorties pendant la période")),
        public=True,
    ),
}
"""Breakdowns derived from public identity data (not questions of the questionnaire); their
categories are computed at publication (:mod:`senacs_workbench.restricted.constant_panel`)."""
"""Identity questions that releases cross every table by."""
