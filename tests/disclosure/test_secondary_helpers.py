"""The secondary engine's sparse shortcuts give what scipy's slicing gives."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from senacs_workbench.disclosure.secondary import _column_combination, _Highs, _rows_coo


def test_column_combination_and_row_entries_match_scipy_slicing():
    rng = np.random.default_rng(7)
    matrix = sp.random(40, 60, density=0.15, random_state=7, format="csc")
    rows_form = matrix.tocsr()
    for _ in range(25):
        idx = np.sort(rng.choice(60, size=int(rng.integers(0, 12)), replace=False))
        vals = rng.normal(size=len(idx))
        assert np.allclose(_column_combination(matrix, idx, vals), matrix[:, idx] @ vals)
        rows = rng.choice(40, size=int(rng.integers(0, 12)), replace=False)
        r, c, d = _rows_coo(rows_form, rows)
        rebuilt = sp.coo_matrix((d, (r, c)), shape=(len(rows), 60)).toarray()
        assert np.array_equal(rebuilt, rows_form[rows].toarray())


def test_reused_highs_instance_solves_successive_programs():
    """One instance, models replaced: each answer is its own program's optimum (or None)."""
    lp, mip = _Highs(), _Highs(mip=True)
    a = sp.csc_matrix(np.array([[1.0, 1.0]]))
    # min −x − y, x + y ≤ 1.5, 0 ≤ x, y ≤ 1
    x = lp.solve(np.array([-1.0, -1.0]), a, np.array([-np.inf]), np.array([1.5]), np.zeros(2), np.ones(2))
    assert x is not None and abs(x.sum() - 1.5) < 1e-9
    # the same with integers: the optimum is 1
    x = mip.solve(np.array([-1.0, -1.0]), a, np.array([-np.inf]), np.array([1.5]), np.zeros(2), np.ones(2), np.ones(2))
    assert x is not None and abs(x.sum() - 1.0) < 1e-9
    # infeasible: x + y ≥ 3 within the unit box
    assert lp.solve(np.zeros(2), a, np.array([3.0]), np.array([np.inf]), np.zeros(2), np.ones(2)) is None
    # and the instance still solves the next one
    x = lp.solve(np.array([1.0, 1.0]), a, np.array([0.5]), np.array([np.inf]), np.zeros(2), np.ones(2))
    assert x is not None and abs(x.sum() - 0.5) < 1e-9


def test_scipy_wrappers_give_the_same_answers_when_the_private_bindings_are_missing():
    a = sp.csc_matrix(np.array([[1.0, 1.0]]))
    args = (np.array([-1.0, -1.0]), a, np.array([-np.inf]), np.array([1.5]), np.zeros(2), np.ones(2))
    for mip, integrality, best in ((False, None, 1.5), (True, np.ones(2), 1.0)):
        direct, fallback = _Highs(mip=mip), _Highs(mip=mip)
        fallback.h = None
        x, y = direct.solve(*args, integrality), fallback.solve(*args, integrality)
        assert x is not None and y is not None
        assert abs(x.sum() - best) < 1e-9 and abs(y.sum() - best) < 1e-9
    fallback = _Highs()
    fallback.h = None
    assert fallback.solve(np.zeros(2), a, np.array([3.0]), np.array([np.inf]), np.zeros(2), np.ones(2)) is None
