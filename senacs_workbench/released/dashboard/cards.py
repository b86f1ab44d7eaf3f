"""Key-figure cards of the selected territory: structures, respondents, response rate, main figures.

Each card shows its value (``s`` when suppressed) with its n and the response rate.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from senacs_workbench.core.codebook import Question
from senacs_workbench.released.dashboard.data import TerritoryKey, answers_of, pick, territory_label
from senacs_workbench.released.dashboard.values import format_value, n_and_rate

NUMERIC_CARDS = (("mean", "Moyenne"), ("median", "Médiane"), ("sum", "Total"))


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    detail: str


def key_figures(cells: pd.DataFrame, key: TerritoryKey, question: Question) -> list[Card]:
    """The cards of one territory (whole territory, no breakdown)."""
    structures, _, s_status = pick(cells, key, "structures")
    respondents, n, r_status = pick(cells, key, "respondents")
    rate, _, rate_status = pick(cells, key, "response_rate")
    detail = n_and_rate(n, rate, rate_status)
    cards = [
        Card("Structures", format_value(structures, "structures", question, s_status or "V"),
             "structures de la campagne dans le territoire"),
        Card("Répondants", format_value(respondents, "respondents", question, r_status or "V"), detail),
        Card("Taux de réponse", format_value(rate, "response_rate", question, rate_status or "V"), detail),
    ]
    if question.type.is_numeric:
        for statistic, title in NUMERIC_CARDS:
            value, cell_n, status = pick(cells, key, statistic)
            if status:
                cards.append(Card(title, format_value(value, statistic, question, status), n_and_rate(cell_n, rate,
                                                                                                      rate_status)))
    else:
        answers = answers_of(cells, question)
        for answer in answers[:4]:
            value, cell_n, status = pick(cells, key, "share", answer=answer)
            cards.append(Card(f"Part « {question.category_label(answer)} »",
                              format_value(value, "share", question, status or "V"),
                              n_and_rate(cell_n, rate, rate_status)))
    return cards


CARD_STYLE = (
    "display:inline-block;vertical-align:top;min-width:170px;margin:4px 8px 4px 0;padding:8px 12px;"
    "border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa"
)


def cards_html(cards: list[Card], key: TerritoryKey, question: Question, year: int | None) -> str:
    campaign = f" — campagne {year}" if year is not None else ""
    items = "".join(
        f'<div class="senacs-card" style="{CARD_STYLE}">'
        f'<div style="font-size:0.85em;color:#57606a">{html.escape(card.title)}</div>'
        f'<div class="senacs-card-value" style="font-size:1.6em;font-weight:600">{html.escape(card.value)}</div>'
        f'<div style="font-size:0.75em;color:#57606a">{html.escape(card.detail)}</div></div>'
        for card in cards
    )
    heading = f"{question.label} — {territory_label(key)}{campaign}"
    return (f'<div class="senacs-cards"><h3 class="senacs-cards-title">{html.escape(heading)}</h3>{items}</div>')
