"""French display of one statistic's value (``1 234 €``, ``12,5 %``, ``s`` when suppressed)."""

from __future__ import annotations

import math

from senacs_workbench.core.codebook import Question, QuestionType
from senacs_workbench.core.formatting import NBSP, format_euros, format_number, format_percent
from senacs_workbench.released.published import SUPPRESSED_MARK

RATIO_STATISTICS = frozenset({"response_rate", "share"})
COUNT_STATISTICS = frozenset({"structures", "respondents", "count"})


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, statistic: str, question: Question | None, status: str = "V") -> str:
    """The text shown for one cell: ``s`` unless its status is ``V``, ``–`` when empty."""
    if status != "V":
        return SUPPRESSED_MARK
    if is_missing(value):
        return "–"
    assert value is not None
    if statistic in RATIO_STATISTICS:
        return format_percent(value)
    if statistic in COUNT_STATISTICS:
        return format_number(value)
    if question is None:
        return format_number(value, 1)
    if question.type is QuestionType.AMOUNT:
        return format_euros(value)
    if question.type is QuestionType.PERCENT:
        return f"{format_number(value, 1)}{NBSP}%"
    decimals = 0 if statistic == "sum" and question.type is QuestionType.COUNT else 1
    text = format_number(value, decimals)
    return f"{text}{NBSP}{question.unit}" if question.unit and question.type is QuestionType.DECIMAL else text


def n_and_rate(n: int | float | None, rate: float | None, rate_status: str = "V") -> str:
    """``n = 14 · taux de réponse 87,5 %``: shown beside every figure."""
    n_text = "–" if is_missing(n) else format_number(n)
    rate_text = SUPPRESSED_MARK if rate_status != "V" else format_percent(rate)
    return f"n{NBSP}={NBSP}{n_text} · taux de réponse {rate_text}"
