"""The global linear system of one variable and year, as an attacker sees it.

Unknowns are the *inner-cell values*: for each inner cell (the finest partition of the
structures by département, EPCI/commune when released, and every breakdown category) the
sum of the answers (numeric questions) or the count of each answer (categorical questions).
Every additive secret cell (a sum, a count of an answer) is the sum of the inner cells of
its group, so the model matrix ``X`` (cells × unknowns) encodes at once every relation
between the released views: breakdown margins (total = Σ categories), the hierarchy
(national = Σ régions, région = Σ départements), the answer margins (Σ counts = respondents
for yes/no and single-choice questions, as linking equations), EPCI and communes, including
EPCI that straddle départements (non-nested groupings), and the structural zeros of empty
combinations.

Multiple choice: the counts of a cell sum to its respondents only when each of them ticked
exactly one option. The attacker cannot know it in general, but the independent audit keeps
every answer margin that the true values satisfy (it detects them from the data): a cell
where it holds is treated as if Σ counts = respondents were public. Those cells' margins are
kept here too (``answer_margins``), so that the engine's witnesses respect them.

The attacker is assumed to know the public identity of every structure (so every inner cell's
structures and respondents), the codebook bounds of numeric answers, and that counts lie
between 0 and the respondents of their inner cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from senacs_workbench.core.codebook import QuestionType
from senacs_workbench.disclosure.tabulate import Tabulation


@dataclass(frozen=True)
class SecretSystem:
    n_answers: int
    n_inner: int
    X: sp.csr_matrix  # (answers × groups) rows, (answers × inner) columns; row a*G+g
    Xc: sp.csc_matrix  # same, column-compressed
    y: np.ndarray  # true unknowns
    lo: np.ndarray  # attacker's bounds on the unknowns
    hi: np.ndarray
    linking: sp.csr_matrix | None  # rows: Σ_a d[a, i] = 0 (answer margins), or None
    var_inner: np.ndarray  # inner index of each unknown
    inner_respondents: np.ndarray
    singleton_inner: np.ndarray  # bool per inner cell: sole respondent of some group
    integral: bool  # counts (integers) or sums
    # multiple choice: the groups whose counts happen to sum to their respondents (every
    # respondent ticked one option), and their margins as rows Σ_a Σ_{i in g} d[a, i] = 0
    margin_groups: np.ndarray | None = None  # bool per group
    answer_margins: sp.csr_matrix | None = None
    # questions linked by a relation of the codebook, stacked as answers (see .linked): the
    # answer index of the relation's total (sum_to_total), -1 when the parts sum to a constant,
    # None for one question's own system
    linked_total: int | None = None
    # bounds of the linking rows' changes (default: every row held at 0); linked questions whose
    # identity holds within a tolerance, not exactly, on some inner cells (see .linked)
    linking_lo: np.ndarray | None = None
    linking_hi: np.ndarray | None = None
    # questions linked by inequalities (``bounded_by``): a question may move alone within the
    # linking rows' bounds, so witnesses are sought over every question at once (no pairs)
    linked_inequality: bool = False

    @property
    def n_vars(self) -> int:
        return self.n_answers * self.n_inner


def _numeric_bounds(tab: Tabulation) -> tuple[float, float]:
    q = tab.question
    lo = float(q.minimum) if isinstance(q.minimum, int | float) else -np.inf
    hi = float(q.maximum) if isinstance(q.maximum, int | float) else np.inf
    vals = tab.unit_values[tab.answered, 0]
    if len(vals):
        lo = min(lo, float(vals.min()))
        hi = max(hi, float(vals.max()))
    return lo, hi


def build_system(tab: Tabulation) -> SecretSystem:
    layout = tab.layout
    n_inner = layout.n_inner
    n_answers = len(tab.answers)
    onehot = sp.csr_matrix(
        (np.ones(len(layout.inner_of)), (layout.inner_of, np.arange(len(layout.inner_of)))),
        shape=(n_inner, len(layout.inner_of)),
    )
    inner_resp = onehot @ tab.answered.astype(float)
    inner_vals = np.asarray(onehot @ tab.unit_values)  # inner × answers
    y = inner_vals.T.reshape(-1)
    X = sp.kron(sp.identity(n_answers, format="csr"), layout.inner_groups, format="csr")
    var_inner = np.tile(np.arange(n_inner), n_answers)
    r = inner_resp[var_inner]
    if tab.is_numeric:
        ulo, uhi = _numeric_bounds(tab)
        with np.errstate(invalid="ignore"):
            lo = np.where(r > 0, ulo * r, 0.0)
            hi = np.where(r > 0, uhi * r, 0.0)
        integral = False  # sums: the LP relaxation (integrality matters for small counts only)
    else:
        lo = np.zeros_like(y)
        hi = r.astype(float)
        integral = True
    linking = None
    if tab.question.type in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE) and n_answers > 1:
        linking = sp.hstack([sp.identity(n_inner, format="csr")] * n_answers, format="csr")
    margin_groups = answer_margins = None
    if tab.question.type is QuestionType.MULTIPLE_CHOICE:
        # the groups whose counts sum to their respondents (the audit keeps that margin)
        counts = tab.secret.sum(axis=0)
        margin_groups = (tab.respondents > 0) & (np.abs(counts - tab.respondents) < 0.5)
        if margin_groups.any():
            answer_margins = sp.hstack([layout.inner_groups[margin_groups]] * n_answers, format="csr")
        else:
            margin_groups = None
    # inner cells whose structure is the sole respondent of some group
    group_resp = tab.respondents
    single_groups = np.flatnonzero(group_resp == 1)
    singleton_inner = np.zeros(n_inner, dtype=bool)
    if len(single_groups):
        sub = layout.inner_groups[single_groups]
        cols = sub.indices
        singleton_inner[cols[inner_resp[cols] == 1]] = True
    return SecretSystem(
        n_answers=n_answers,
        n_inner=n_inner,
        X=X,
        Xc=X.tocsc(),
        y=y,
        lo=lo,
        hi=hi,
        linking=linking,
        var_inner=var_inner,
        inner_respondents=inner_resp,
        singleton_inner=singleton_inner,
        integral=integral,
        margin_groups=margin_groups,
        answer_margins=answer_margins,
    )
