"""The codebook's bounds of one answer: which stored values break them (issue 21).

A value that can be read but breaks the codebook's bounds (a share of 411 %, a negative
budget, 12.5 employees, a first approval dated 1950) is *stored as entered* — raw data is
never altered — but it is not a usable answer: :func:`exclude_out_of_bounds` blanks it in the
typed frame that :meth:`RawDataStore.wide` returns by default, the one read that feeds every
tabulation and analysis, and the coherence check (which reads the values as entered) raises it
as an error finding that questions the centre. One definition serves the import's report, the
read and the check, so that what is excluded and what is questioned cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import Codebook, Question, QuestionType


def out_of_bounds(question: Question, values: pd.Series) -> pd.Series:
    """A boolean mask: the answers of ``values`` (numbers, or ISO dates / datetimes) that break
    ``question``'s bounds (its minimum and maximum, and a whole number for a count)."""
    low, high = question.minimum, question.maximum
    if question.type.is_numeric:
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        known = numbers.notna()
        bad = pd.Series(False, index=values.index)
        if low is not None:
            bad |= known & (numbers < float(low))
        if high is not None:
            bad |= known & (numbers > float(high))
        if question.type is QuestionType.COUNT:
            bad |= known & (numbers % 1 != 0)
        return bad
    if question.type is QuestionType.DATE and (low is not None or high is not None):
        dates = pd.to_datetime(values, errors="coerce")
        known = dates.notna()
        bad = pd.Series(False, index=values.index)
        if low is not None:
            bad |= known & (dates < pd.Timestamp(str(low)))
        if high is not None:
            bad |= known & (dates > pd.Timestamp(str(high)))
        return bad
    return pd.Series(False, index=values.index)


def has_bounds(question: Question) -> bool:
    """Whether ``question`` has bounds that :func:`out_of_bounds` checks."""
    if question.type.is_numeric:
        return question.minimum is not None or question.maximum is not None or question.type is QuestionType.COUNT
    return question.type is QuestionType.DATE and (question.minimum is not None or question.maximum is not None)


def exclude_out_of_bounds(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """``frame`` (one typed column per question) with every out-of-bounds answer blanked
    (NaN for numbers, NaT for dates): the answers that no aggregate may count."""
    out = frame.copy()
    for column in frame.columns:
        if column not in codebook:
            continue
        question = codebook.question(column)
        if not has_bounds(question):
            continue
        bad = out_of_bounds(question, frame[column]).to_numpy(dtype=bool)
        if bad.any():
            out[column] = frame[column].mask(bad, np.nan if question.type.is_numeric else pd.NaT)
    return out
