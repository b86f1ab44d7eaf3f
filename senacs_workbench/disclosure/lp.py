"""The disclosure engine's one way to HiGHS: linear and mixed-integer programs on the public
``highspy`` package.

A :class:`Program` is ``min c·x`` subject to ``row_lower ≤ A x ≤ row_upper`` and
``lower ≤ x ≤ upper`` (infinite bounds allowed), ``x[j]`` integral where ``integrality[j]``;
a :class:`Solver` holds one HiGHS instance: load a program, solve it, change the objective and
solve again from the previous basis (the audit's min/max of one variable after another), or
load the next program into the same instance (the engine's many small witness programs, where
the per-call overhead of ``scipy.optimize.linprog``/``milp`` would dominate). A
:class:`Result` says how the solve ended (:class:`Outcome`) and, when optimal, gives the
solution and the objective value.

Both the suppression engine (:mod:`.secondary`) and its own audit (:mod:`.audit`) use it: it
holds no disclosure logic, only the solver calls, so sharing it does not couple the audit to
the engine's choices. The *independent* release audit (``senacs_workbench.release_audit``)
does not use it on purpose: it must share no code with the engine it checks (an import
contract forbids it), so it calls HiGHS (``highspy``, and scipy's ``linprog``) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import highspy
import numpy as np
import scipy.sparse as sp


class Outcome(Enum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    UNBOUNDED_OR_INFEASIBLE = "unbounded_or_infeasible"
    """HiGHS's presolve proved one of the two without telling which."""
    STOPPED = "stopped"
    """A time or iteration limit, numerical trouble or an error: no trusted solution."""


_OUTCOMES = {
    highspy.HighsModelStatus.kOptimal: Outcome.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Outcome.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Outcome.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Outcome.UNBOUNDED_OR_INFEASIBLE,
}


@dataclass(frozen=True)
class Result:
    """The outcome of a solve; ``x`` and ``objective`` only when it is optimal."""

    outcome: Outcome
    x: np.ndarray | None = None
    objective: float | None = None

    @property
    def optimal(self) -> bool:
        return self.outcome is Outcome.OPTIMAL


@dataclass(frozen=True)
class Program:
    """``min cost·x``, ``row_lower ≤ matrix x ≤ row_upper``, ``lower ≤ x ≤ upper``; ``x[j]``
    integral where ``integrality[j]`` is true (None: a linear program)."""

    cost: np.ndarray
    matrix: sp.spmatrix | sp.sparray
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray | None = None

    @classmethod
    def from_equalities(
        cls,
        cost: np.ndarray,
        a_eq: sp.spmatrix | sp.sparray,
        b_eq: np.ndarray,
        a_ub: sp.spmatrix | sp.sparray,
        b_ub: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        integrality: np.ndarray | None = None,
    ) -> Program:
        """The program with ``a_eq x = b_eq`` and ``a_ub x ≤ b_ub`` (either may have no rows)."""
        matrix = sp.vstack([sp.csr_matrix(a_eq), sp.csr_matrix(a_ub)], format="csc")
        b_eq, b_ub = np.asarray(b_eq, dtype=float), np.asarray(b_ub, dtype=float)
        return cls(
            cost,
            matrix,
            np.concatenate([b_eq, np.full(len(b_ub), -np.inf)]),
            np.concatenate([b_eq, b_ub]),
            lower,
            upper,
            integrality,
        )


class _QuietHighs(highspy.Highs):  # type: ignore[misc, unused-ignore]  # Any in highspy 1.12 (no type information)
    """``highspy.Highs`` without its callbacks: the engine uses none, and registering them at
    construction, before ``output_flag`` can be set, prints HiGHS's banner on the standard
    output (once per process: every publication worker, every notebook)."""

    def enableCallbacks(self) -> None:
        """Leave the callbacks off."""


def _bound(values: np.ndarray, infinity: float) -> np.ndarray:
    """``values`` with every non-finite one (±inf, NaN: no bound) replaced by ``infinity``,
    HiGHS's own (negated for lower bounds)."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, infinity)


class Solver:
    """One HiGHS instance, silent; its programs replaced by :meth:`load`, their objective by
    :meth:`set_cost` / :meth:`set_costs` (HiGHS then restarts from the previous basis).

    ``presolve``: off pays on small, already reduced programs solved many times. ``time_limit``
    (seconds): a MIP stopped by it ends as :attr:`Outcome.STOPPED` even with an incumbent
    (deterministic callers keep no partial result). ``mip_rel_gap``: None is HiGHS's default.
    """

    def __init__(self, *, presolve: bool = True, time_limit: float | None = None, mip_rel_gap: float | None = None):
        self._h = _QuietHighs()  # type: ignore[no-untyped-call, unused-ignore]  # unannotated in some highspy versions
        self._h.setOptionValue("output_flag", False)
        if not presolve:
            self._h.setOptionValue("presolve", "off")
        if time_limit is not None:
            self._h.setOptionValue("time_limit", float(time_limit))
        if mip_rel_gap is not None:
            self.set_mip_rel_gap(mip_rel_gap)
        self._n = 0

    def set_mip_rel_gap(self, gap: float) -> None:
        """Stop a MIP once its incumbent is within ``gap`` (relative) of the best bound."""
        self._h.setOptionValue("mip_rel_gap", float(gap))

    def load(self, program: Program) -> None:
        """Replace the instance's program by ``program``."""
        matrix = program.matrix.tocsc()  # no copy when it is one already
        if not matrix.has_sorted_indices:
            matrix = matrix.sorted_indices()
        m, n = matrix.shape
        inf = highspy.kHighsInf
        integrality = (
            np.zeros(n, dtype=np.int32)
            if program.integrality is None
            else np.asarray(program.integrality, dtype=bool).astype(np.int32)
        )
        status = self._h.passModel(
            n,
            m,
            matrix.nnz,
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            np.asarray(program.cost, dtype=float),
            _bound(program.lower, -inf),
            _bound(program.upper, inf),
            _bound(program.row_lower, -inf),
            _bound(program.row_upper, inf),
            matrix.indptr.astype(np.int32),
            matrix.indices.astype(np.int32),
            matrix.data.astype(float),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise ValueError(f"HiGHS refused the program ({n} variables, {m} rows)")
        self._n = n

    def set_cost(self, j: int, value: float) -> None:
        """Change the objective coefficient of variable ``j``."""
        self._h.changeColCost(int(j), float(value))

    def set_costs(self, cost: np.ndarray) -> None:
        """Replace the whole objective."""
        self._h.changeColsCost(self._n, np.arange(self._n, dtype=np.int32), np.asarray(cost, dtype=float))

    def run(self) -> Result:
        """Solve the loaded program."""
        self._h.run()
        outcome = _OUTCOMES.get(self._h.getModelStatus(), Outcome.STOPPED)
        if outcome is not Outcome.OPTIMAL:
            return Result(outcome)
        x = np.asarray(self._h.getSolution().col_value, dtype=float)
        return Result(outcome, x, float(self._h.getObjectiveValue()))

    def solve(self, program: Program) -> Result:
        """Load ``program`` and solve it."""
        self.load(program)
        return self.run()


def solve(
    program: Program, *, presolve: bool = True, time_limit: float | None = None, mip_rel_gap: float | None = None
) -> Result:
    """Solve one program on a fresh instance."""
    return Solver(presolve=presolve, time_limit=time_limit, mip_rel_gap=mip_rel_gap).solve(program)
