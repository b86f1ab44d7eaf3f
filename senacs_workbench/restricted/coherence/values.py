"""French display and canonical text of answer values (messages, sheets, history)."""

from __future__ import annotations

import math
from typing import Any

from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, Question, QuestionType
from senacs_workbench.core.formatting import NBSP, format_euros, format_number


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, str | list | tuple) else False
    except (TypeError, ValueError):
        return False


def number_text(value: float) -> str:
    """A number in French with as few decimals as it needs (at most 2)."""
    if float(value).is_integer():
        return format_number(value)
    decimals = 1 if round(value, 1) == round(value, 2) else 2
    return format_number(value, decimals)


def display_value(question: Question | None, value: Any) -> str:
    """How a centre reads a stored value: ``1 234 €``, ``12,5 %``, ``Oui``, a category label."""
    if _is_missing(value):
        return "(sans réponse)"
    if question is None:
        return str(value)
    kind = question.type
    if kind.is_numeric:
        number = float(value)
        if kind is QuestionType.AMOUNT:
            return format_euros(number) if number.is_integer() else f"{format_number(number, 2)}{NBSP}€"
        if kind is QuestionType.PERCENT:
            return f"{number_text(number)}{NBSP}%"
        return number_text(number)
    if kind is QuestionType.YES_NO or kind is QuestionType.SINGLE_CHOICE:
        return question.category_label(str(value))
    if kind is QuestionType.MULTIPLE_CHOICE:
        return ", ".join(question.category_label(c) for c in str(value).split(MULTIPLE_CHOICE_SEPARATOR))
    if kind is QuestionType.DATE:
        text = str(value)[:10]
        parts = text.split("-")
        return f"{parts[2]}/{parts[1]}/{parts[0]}" if len(parts) == 3 else text
    return str(value)


def canonical_text(question: Question, value: Any) -> str | None:
    """The stored text form of a canonical value (numbers without useless decimals)."""
    if _is_missing(value):
        return None
    if question.type.is_numeric:
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if question.type is QuestionType.DATE:
        return str(value)[:10]
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON-ready form of a value (None for missing, float for numbers, text otherwise)."""
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    try:
        import numpy as np

        if isinstance(value, np.integer | np.floating):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return str(value)[:10] if hasattr(value, "isoformat") else str(value)
