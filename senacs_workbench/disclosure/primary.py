"""Primary rules: which cells are sensitive by themselves, and how much protection they need.

Applied to the additive secret cells (sums, counts of answers) and to quantiles. Derived
statistics (means, shares) follow their sum or count later; structure and respondent counts
are never sensitive (they depend only on the public directory of structures and are
published anyway as every cell's ``n``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from senacs_workbench.core.codebook import QuestionType
from senacs_workbench.disclosure.cells import DOMINANCE, FREQUENCY, PUBLISHABLE, REVIEW
from senacs_workbench.disclosure.rules import RuleSet
from senacs_workbench.disclosure.tabulate import Tabulation

# What a primary cell needs from the attacker's interval.
NEED_NONE = 0
NEED_EITHER = 1  # not exactly derivable: reach at least the margin above OR below
NEED_UP = 2
NEED_DOWN = 3
NEED_BOTH = 4


ReviewKey = tuple[str, str, str, str, str]
"""A reviewed cell within one question: (answer, level, territory, breakdown, category)."""
ReviewDecisions = Mapping[ReviewKey, bool]
"""A person's decision on status R cells: True publish, False suppress (see
:mod:`senacs_workbench.restricted.publication.review_decisions`)."""


@dataclass
class PrimaryResult:
    status: np.ndarray  # answers × groups, status codes of the secret cells
    upper: np.ndarray  # reported protection levels (audit contract)
    lower: np.ndarray
    need: np.ndarray  # NEED_* code
    req_up: np.ndarray  # internal requirement (≥ safety margin)
    req_down: np.ndarray
    reason: np.ndarray  # short reason code per cell ('' when safe)
    quantile_status: dict[str, np.ndarray]

    @property
    def primary(self) -> np.ndarray:
        primary: np.ndarray = self.need != NEED_NONE
        return primary


def _bound(value: float | str | None) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _room(tab: Tabulation, x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far a sum can move up and down within the codebook's public bounds (min × n … max × n)."""
    hi, lo = _bound(tab.question.maximum), _bound(tab.question.minimum)
    room_up = np.maximum(hi * n - x, 0.0) if hi is not None else np.full(x.shape, np.inf)
    room_down = np.maximum(x - lo * n, 0.0) if lo is not None else np.full(x.shape, np.inf)
    return room_up, room_down


def _decided_publish(tab: Tabulation, answer: str, reviewed: ReviewDecisions | None) -> np.ndarray:
    """Mask of the groups whose cell for ``answer`` a person decided to publish."""
    mask = np.zeros(tab.layout.n_groups, dtype=bool)
    if not reviewed:
        return mask
    keys = tab.layout.keys
    rows = zip(keys["level"], keys["territory"], keys["breakdown"], keys["category"], strict=True)
    for g, (level, territory, breakdown, category) in enumerate(rows):
        mask[g] = reviewed.get((answer, str(level), str(territory), str(breakdown), str(category)), False)
    return mask


def apply_primary_rules(tab: Tabulation, rules: RuleSet, reviewed: ReviewDecisions | None = None) -> PrimaryResult:
    """The primary status and protection of every secret cell of ``tab``.

    ``reviewed``: a person's decisions on cells of status R (review). A cell decided « publier »
    is not primary (status V) unless another rule makes it sensitive (the frequency rule comes
    first, so it still applies); « masquer » or no decision leave it R, a primary suppression."""
    shape = tab.secret.shape
    status = np.full(shape, PUBLISHABLE, dtype=object)
    upper = np.zeros(shape)
    lower = np.zeros(shape)
    need = np.zeros(shape, dtype=np.int8)
    req_up = np.zeros(shape)
    req_down = np.zeros(shape)
    reason = np.full(shape, "", dtype=object)
    resp = tab.respondents
    k = rules.min_contributors

    if tab.is_numeric:
        x = tab.secret[0]
        n = resp
        margin = np.maximum(rules.margin_sum_min, rules.margin_sum_ratio * np.abs(x))
        freq = (n > 0) & (n < k)
        neg = tab.has_negative & ~freq & ~_decided_publish(tab, "", reviewed)
        dom_up = np.zeros_like(x)
        if rules.dominance_applies(tab.question):
            top = tab.top1 + (tab.top2 if rules.dominance_n == 2 else 0.0)
            nonneg = ~tab.has_negative & (x > 0)
            dom = nonneg & (top > rules.dominance_k / 100.0 * x)
            dom_up = np.where(dom, 100.0 / rules.dominance_k * top - x, 0.0)
            rest = x - tab.top1 - tab.top2
            pp = nonneg & (rest < rules.p_percent / 100.0 * tab.top1)
            p_up = np.where(pp, rules.p_percent / 100.0 * tab.top1 - rest, 0.0)
            dom_up = np.maximum(dom_up, p_up)
            dom_up = np.where(nonneg & (n > 0), dom_up, 0.0)
        magn = (dom_up > 0) & ~neg
        # frequency (with the concentration protection when larger)
        st = status[0]
        st[freq] = FREQUENCY
        reason[0][freq] = "frequency"
        st[magn & ~freq] = DOMINANCE
        reason[0][magn & ~freq] = "dominance"
        st[neg] = rules.negative_status
        reason[0][neg] = "negative"
        up = np.where(magn, dom_up, rules.frequency_protection_ratio * np.abs(x))
        upper[0] = np.where(freq | magn | neg, up, 0.0)
        lower[0] = np.where(magn & rules.symmetric, np.minimum(up, np.maximum(x, 0.0)), upper[0])
        lower[0] = np.where(freq | magn | neg, lower[0], 0.0)
        need[0] = np.where(magn, NEED_BOTH if rules.symmetric else NEED_UP, need[0])
        need[0] = np.where((freq | neg) & ~magn, NEED_EITHER, need[0])
        req_up[0] = np.where(need[0] > 0, np.maximum(upper[0], margin), 0.0)
        req_down[0] = np.where(need[0] > 0, np.maximum(lower[0], margin), 0.0)
        # The codebook's answer bounds are public: a sum lies in min × n … max × n. A dominance
        # or p % level reaching past them asks for what no table can give (a share of 94 % alone
        # in its cell cannot be protected up to 110 %); it is capped there, as the lower level
        # already is at 0 for non-negative sums. Frequency cells (either side) are left alone.
        room_up, room_down = _room(tab, x, n)
        upper[0] = np.where(magn, np.minimum(upper[0], room_up), upper[0])
        lower[0] = np.where(magn, np.minimum(lower[0], room_down), lower[0])
        req_up[0] = np.where(magn, np.minimum(req_up[0], room_up), req_up[0])
        req_down[0] = np.where(magn, np.minimum(req_down[0], room_down), req_down[0])
        qstatus = {}
        for stat, ok in tab.quantile_ok.items():
            qs = np.full(len(n), PUBLISHABLE, dtype=object)
            qs[(n > 0) & ~ok] = FREQUENCY
            qstatus[stat] = qs
        return PrimaryResult(status, upper, lower, need, req_up, req_down, reason, qstatus)

    # categorical: counts of answers
    if tab.question.public and rules.public_exempt:
        return PrimaryResult(status, upper, lower, need, req_up, req_down, reason, {})
    counts = tab.secret
    freq = (counts > 0) & (counts < k)
    group_status = FREQUENCY if rules.group_action == "suppress" else REVIEW
    small = (resp > 0) & (resp <= rules.group_max_respondents) & rules.group_enabled
    all_same = small[None, :] & (counts == resp[None, :])
    # "none gave answer a" is a group disclosure too: for the options of a multiple-choice
    # question, and (none_scope: all_answers) for every categorical question — a zero count
    # in a small group says which answers its few respondents did not give, and when zeros
    # were never suppressed as A, status A itself meant "at least one" (attack A15)
    scope_ok = rules.group_none_all_answers or tab.question.type is QuestionType.MULTIPLE_CHOICE
    none_same = small[None, :] & (counts == 0) & (rules.group_include_none and scope_ok)
    status[freq] = FREQUENCY
    reason[freq] = "frequency"
    if group_status == REVIEW and reviewed:
        published = np.stack([_decided_publish(tab, answer, reviewed) for answer in tab.answers])
        all_same &= ~published
        none_same &= ~published
    status[(all_same | none_same) & ~freq] = group_status
    reason[(all_same | none_same) & ~freq] = "group"
    ratio = rules.frequency_protection_ratio
    upper[freq] = ratio * counts[freq]
    lower[freq] = ratio * counts[freq]
    need[freq] = NEED_EITHER
    # group disclosure needs a definite direction: "all" must not be pinned at the top,
    # "none" must not be pinned at zero
    need[all_same] = NEED_DOWN
    lower[all_same] = np.maximum(lower[all_same], 1.0)
    need[none_same] = NEED_UP
    upper[none_same] = np.maximum(upper[none_same], 1.0)
    m = rules.margin_count
    req_up = np.where(need > 0, np.maximum(upper, m), 0.0)
    req_down = np.where(need > 0, np.maximum(lower, m), 0.0)
    return PrimaryResult(status, upper, lower, need, req_up, req_down, reason, {})
