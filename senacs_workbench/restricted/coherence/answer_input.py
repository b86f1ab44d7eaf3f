"""One answer typed by a person (a correction, a form field): parsed and validated as at import.

Parsing reuses the import's French parsers (:mod:`senacs_workbench.restricted.importing.values`); the
checks are those of the import's validation (range, whole numbers, categories, dates, required
answers), with the same French rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from senacs_workbench.core.codebook import Question, QuestionType
from senacs_workbench.restricted.coherence.values import canonical_text, display_value
from senacs_workbench.restricted.importing.values import ValueProblem, is_no_answer, question_parser


class AnswerProblem(ValueError):
    """A value that cannot be accepted; its message is the French rule."""


@dataclass(frozen=True)
class ParsedAnswer:
    """The canonical stored form: ``value`` text (None = no answer) and ``value_num``."""

    value: str | None
    value_num: float | None

    @property
    def missing(self) -> bool:
        return self.value is None


def _bound(question: Question, bound: float | str | None) -> str:
    return display_value(question, bound) if bound is not None else ""


def parse_answer(question: Question, raw: Any, *, allow_empty: bool = True) -> ParsedAnswer:
    """Parse and validate ``raw`` (text as typed, or a native number/date) for ``question``."""
    if raw is None or is_no_answer(raw) or (isinstance(raw, str) and not raw.strip()):
        if question.required or not allow_empty:
            raise AnswerProblem("réponse obligatoire : elle ne peut pas être effacée")
        return ParsedAnswer(None, None)
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    try:
        value = question_parser(question)(raw)
    except ValueProblem as problem:
        raise AnswerProblem(str(problem)) from None
    kind = question.type
    if kind.is_numeric:
        number = float(value)
        low = None if question.minimum is None else float(question.minimum)
        high = None if question.maximum is None else float(question.maximum)
        if (low is not None and number < low) or (high is not None and number > high):
            lo = _bound(question, low) if low is not None else "−∞"
            hi = _bound(question, high) if high is not None else "+∞"
            raise AnswerProblem(f"valeur hors de l'intervalle autorisé [{lo} ; {hi}]")
        if kind is QuestionType.COUNT and not number.is_integer():
            raise AnswerProblem("nombre entier attendu")
        return ParsedAnswer(canonical_text(question, number), number)
    if kind is QuestionType.DATE:
        if question.minimum is not None and str(value) < str(question.minimum):
            raise AnswerProblem(f"date antérieure au {display_value(question, question.minimum)}")
        if question.maximum is not None and str(value) > str(question.maximum):
            raise AnswerProblem(f"date postérieure au {display_value(question, question.maximum)}")
    text = str(value)
    if kind is QuestionType.TEXT and not text:
        return ParsedAnswer(None, None)
    return ParsedAnswer(text, None)
