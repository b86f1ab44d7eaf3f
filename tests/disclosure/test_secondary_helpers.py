"""The secondary engine's sparse shortcuts give what scipy's slicing gives."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from senacs_workbench.disclosure.secondary import _column_combination, _rows_coo


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
