"""French number formats for everything users read (``1 234 567 €``, ``12,5 %``)."""

from __future__ import annotations

import math

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234567.8`` → ``1 234 568`` (narrow no-break space between thousands, decimal comma)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def format_percent(value: float | None, decimals: int = 1) -> str:
    """``0.125`` → ``12,5 %`` (value is a ratio)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{format_number(value * 100, decimals)}{NBSP}%"


def format_euros(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{format_number(value)}{NBSP}€"
