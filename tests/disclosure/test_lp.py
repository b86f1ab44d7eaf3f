"""The engine's HiGHS wrapper (``disclosure/lp.py``): optimum, infeasible, unbounded, bounds and
equalities honoured, integrality, one instance reused for successive programs and objectives."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from senacs_workbench.disclosure import lp

ONE_ROW = sp.csc_matrix(np.array([[1.0, 1.0]]))
UNIT_LO, UNIT_HI = np.zeros(2), np.ones(2)


def _sum_at_most(cap: float, cost: tuple[float, float] = (-1.0, -1.0), ints: np.ndarray | None = None) -> lp.Program:
    """min cost·(x, y), x + y ≤ cap, 0 ≤ x, y ≤ 1."""
    return lp.Program(np.array(cost), ONE_ROW, np.array([-np.inf]), np.array([cap]), UNIT_LO, UNIT_HI, ints)


def test_optimum_solution_and_objective():
    res = lp.solve(_sum_at_most(1.5, cost=(-1.0, -2.0)))
    assert res.optimal and res.outcome is lp.Outcome.OPTIMAL
    assert res.x is not None and np.allclose(res.x, [0.5, 1.0])
    assert res.objective == pytest.approx(-2.5)


def test_column_bounds_and_row_ranges_are_honoured():
    # max x + y with x in [0.25, 0.75], y in [-2, 0.5] and 0 ≤ x − y ≤ 0.1: y ≥ x − 0.1
    a = sp.csc_matrix(np.array([[1.0, -1.0]]))
    res = lp.solve(lp.Program(np.array([-1.0, -1.0]), a, np.array([0.0]), np.array([0.1]),
                              np.array([0.25, -2.0]), np.array([0.75, 0.5])))
    assert res.x is not None
    assert res.x[0] == pytest.approx(0.6) and res.x[1] == pytest.approx(0.5)
    # and from below: min x + y within the same set puts y at x − 0.1 with x at its lower bound
    res = lp.solve(lp.Program(np.array([1.0, 1.0]), a, np.array([0.0]), np.array([0.1]),
                              np.array([0.25, -2.0]), np.array([0.75, 0.5])))
    assert res.x is not None and np.allclose(res.x, [0.25, 0.15])


def test_equalities_and_inequalities_from_separate_blocks():
    # x + y = 1, x − y ≤ −0.5, 0 ≤ x, y ≤ 1: max x is 0.25
    program = lp.Program.from_equalities(
        np.array([-1.0, 0.0]),
        sp.csr_matrix(np.array([[1.0, 1.0]])), np.array([1.0]),
        sp.csr_matrix(np.array([[1.0, -1.0]])), np.array([-0.5]),
        UNIT_LO, UNIT_HI,
    )
    res = lp.solve(program)
    assert res.x is not None and np.allclose(res.x, [0.25, 0.75])
    # no inequality rows at all
    res = lp.solve(lp.Program.from_equalities(
        np.array([1.0, 0.0]), sp.csr_matrix(np.array([[1.0, 1.0]])), np.array([1.5]),
        sp.csr_matrix((0, 2)), np.zeros(0), UNIT_LO, UNIT_HI))
    assert res.x is not None and np.allclose(res.x, [0.5, 1.0])


def test_infeasible_program_gives_no_solution():
    res = lp.solve(lp.Program(np.zeros(2), ONE_ROW, np.array([3.0]), np.array([np.inf]), UNIT_LO, UNIT_HI))
    assert res.outcome is lp.Outcome.INFEASIBLE and res.x is None and res.objective is None and not res.optimal


def test_unbounded_program_is_reported():
    # min −x, x − y ≤ 1, x, y ≥ 0 unbounded above
    a = sp.csc_matrix(np.array([[1.0, -1.0]]))
    program = lp.Program(np.array([-1.0, 0.0]), a, np.array([-np.inf]), np.array([1.0]),
                         np.zeros(2), np.full(2, np.inf))
    for presolve in (True, False):
        res = lp.solve(program, presolve=presolve)
        assert res.outcome in (lp.Outcome.UNBOUNDED, lp.Outcome.UNBOUNDED_OR_INFEASIBLE)
        assert res.x is None
    assert lp.solve(program, presolve=False).outcome is lp.Outcome.UNBOUNDED


def test_integrality_gives_the_integer_optimum():
    assert lp.solve(_sum_at_most(1.5)).objective == pytest.approx(-1.5)
    res = lp.solve(_sum_at_most(1.5, ints=np.ones(2)), time_limit=5.0)
    assert res.x is not None and res.x.sum() == pytest.approx(1.0)
    assert np.allclose(res.x, np.round(res.x))
    # only the first variable integral: the second takes the fraction
    res = lp.solve(_sum_at_most(1.5, cost=(-2.0, -1.0), ints=np.array([True, False])))
    assert res.x is not None and np.allclose(res.x, [1.0, 0.5])


def test_one_instance_solves_successive_programs():
    """Models replaced: each answer is its own program's optimum, after an infeasible one too."""
    for solver in (lp.Solver(presolve=False), lp.Solver(time_limit=2.0)):
        assert solver.solve(_sum_at_most(1.5)).objective == pytest.approx(-1.5)
        solver.set_mip_rel_gap(1e-4)
        res = solver.solve(_sum_at_most(1.5, ints=np.ones(2)))
        assert res.x is not None and res.x.sum() == pytest.approx(1.0)
        infeasible = lp.Program(np.zeros(2), ONE_ROW, np.array([3.0]), np.array([np.inf]), UNIT_LO, UNIT_HI)
        assert solver.solve(infeasible).outcome is lp.Outcome.INFEASIBLE
        res = solver.solve(lp.Program(np.ones(2), ONE_ROW, np.array([0.5]), np.array([np.inf]), UNIT_LO, UNIT_HI))
        assert res.x is not None and res.x.sum() == pytest.approx(0.5)


def test_objective_changes_on_a_loaded_program():
    """The audit's use: load once, then min and max one variable after another."""
    # x + y + z = 2, x − y ≤ 0.5, all in [0, 1]
    program = lp.Program.from_equalities(
        np.zeros(3), sp.csr_matrix(np.ones((1, 3))), np.array([2.0]),
        sp.csr_matrix(np.array([[1.0, -1.0, 0.0]])), np.array([0.5]), np.zeros(3), np.ones(3))
    solver = lp.Solver()
    solver.load(program)
    extremes = []
    for j in range(3):
        for sign in (1.0, -1.0):
            solver.set_costs(np.zeros(3))
            solver.set_cost(j, sign)
            res = solver.run()
            assert res.x is not None and res.x.sum() == pytest.approx(2.0) and res.x[0] - res.x[1] <= 0.5 + 1e-9
            extremes.append(res.x[j])
    assert np.allclose(extremes, [0.0, 1.0, 0.25, 1.0, 0.0, 1.0])
    solver.set_costs(np.array([1.0, 1.0, -1.0]))  # the whole vector at once
    assert solver.run().objective == pytest.approx(0.0)  # z = 1, x + y = 1


def test_a_stopped_mip_keeps_no_partial_solution():
    """A time limit reached counts as no answer, even with an incumbent (deterministic callers)."""
    rng = np.random.default_rng(3)
    n = 60
    weights = rng.integers(10_000, 20_000, n).astype(float)
    program = lp.Program(-weights, sp.csc_matrix(weights.reshape(1, -1)), np.array([-np.inf]),
                         np.array([weights.sum() / 2 + 0.5]), np.zeros(n), np.ones(n), np.ones(n))
    res = lp.solve(program, time_limit=1e-9)
    assert res.outcome is lp.Outcome.STOPPED and res.x is None


def test_solving_prints_nothing():
    """HiGHS's banner would land in every worker's and notebook's output."""
    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from senacs_workbench.disclosure import lp\n"
        "one = np.ones(1)\n"
        "lp.solve(lp.Program(one, sp.csc_matrix(one), 0 * one, one, 0 * one, one))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "" and out.stderr == ""
