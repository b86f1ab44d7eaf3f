"""Shared vocabulary of the disclosure-control engine, its audit and the publication step.

A *cell table* is a pandas DataFrame with exactly :data:`CELL_COLUMNS` (the published
bundle's contract, see DESIGN.md). Inside the restricted zone ``value`` holds the true value
of every cell, whatever its status; the publication step blanks ``value`` where ``status``
is not ``V`` before anything is written to the published zone.

*Microdata* for one variable and year is a DataFrame with one row per structure invited
that year, with the columns of :data:`MICRODATA_COLUMNS` plus one column per breakdown
(the breakdown's category code, always present since identity questions are required), and
``value``: a float for numeric questions, a category code (``oui``/``non`` for yes/no, codes
joined by ``|`` for multiple choice) for categorical questions, and missing (NaN/None) when
the structure did not answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from senacs_workbench.core.codebook import BREAKDOWNS

CELL_COLUMNS: Final = (
    "year",
    "variable",
    "statistic",
    "answer",
    "level",
    "territory",
    "breakdown",
    "category",
    "value",
    "n",
    "status",
)

MICRODATA_COLUMNS: Final = ("structure_id", "region", "departement", "value")
"""Always present; ``epci`` and ``commune`` are added for infra-départemental releases."""

# Statuses (European standard used by INSEE).
PUBLISHABLE: Final = "V"
FREQUENCY: Final = "A"
DOMINANCE: Final = "B"
SECONDARY: Final = "D"
REVIEW: Final = "R"
STATUSES: Final = (PUBLISHABLE, FREQUENCY, DOMINANCE, SECONDARY, REVIEW)

# Statistics.
STRUCTURES: Final = "structures"
RESPONDENTS: Final = "respondents"
RESPONSE_RATE: Final = "response_rate"
COUNT: Final = "count"
SHARE: Final = "share"
SUM: Final = "sum"
MEAN: Final = "mean"
MEDIAN: Final = "median"
Q1: Final = "q1"
Q3: Final = "q3"
STATISTICS: Final = (STRUCTURES, RESPONDENTS, RESPONSE_RATE, COUNT, SHARE, SUM, MEAN, MEDIAN, Q1, Q3)
ADDITIVE_STATISTICS: Final = (STRUCTURES, RESPONDENTS, COUNT, SUM)
"""Statistics that add up across the hierarchy and across a breakdown's categories."""

NATIONAL_CODE: Final = "FR"
COMMITTEE_LEVELS: Final = ("national", "region", "departement")
INFRA_LEVELS: Final = ("epci", "commune")


@dataclass(frozen=True)
class ReleaseSpec:
    """The set of views released together for one variable and year.

    ``breakdowns`` cross the committee levels (national, région, département);
    ``infra_breakdowns`` cross the infra-départemental levels (EPCI, commune), which are
    usually released as totals only (or by a public identity variable such as QPV).
    """

    levels: tuple[str, ...] = COMMITTEE_LEVELS
    breakdowns: tuple[str, ...] = field(default=BREAKDOWNS)
    infra_breakdowns: tuple[str, ...] = ()

    def breakdowns_at(self, level: str) -> tuple[str, ...]:
        """The breakdowns crossed at ``level``."""
        return self.infra_breakdowns if level in INFRA_LEVELS else self.breakdowns

    @property
    def all_breakdowns(self) -> tuple[str, ...]:
        return (*self.breakdowns, *(b for b in self.infra_breakdowns if b not in self.breakdowns))

    def contains(self, levels: Sequence[str], breakdowns: Sequence[str]) -> np.ndarray:
        """Mask of the (level, breakdown) pairs that belong to this release."""
        return np.fromiter(
            (lv in self.levels and (b == "" or b in self.breakdowns_at(lv))
             for lv, b in zip(levels, breakdowns, strict=True)),
            dtype=bool, count=len(levels),
        )
