"""Counts bounded by another count are protected together (attack A16, inequalities).

The codebook declares ``jeunes_benevoles ≤ benevoles_activite`` and ``benevoles_instances ≤
benevoles_activite`` for every centre. A reader knows it: where a département's volunteers are
published and its young volunteers hidden, the hidden count cannot exceed the published one:
a hidden cell of young volunteers that a witness moves up, where the volunteers are published
and all young, cannot move at all. The attacker here works centre by centre: one unknown per centre and
question, every published sum (or mean × n), and the two inequalities for every centre. It
minimises and maximises every hidden sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from engine_helpers import BREAKDOWN_CHOICES, members
from scipy.optimize import linprog

from senacs_workbench.core.codebook import load_codebook, relation
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.linked import LinkedGroup, linked_groups, protect_linked
from senacs_workbench.disclosure.protect import ProtectionResult, protect

YEAR = 2025
GROUP = LinkedGroup((relation("benevoles_instances_parmi_benevoles"), relation("jeunes_benevoles_parmi_benevoles")))
BOUND, PARTS = "benevoles_activite", ("benevoles_instances", "jeunes_benevoles")
SPEC = ReleaseSpec(levels=("region", "departement"))
DEPARTEMENTS = {"01": ("84", 11), "03": ("84", 8), "07": ("84", 9), "15": ("84", 5), "26": ("84", 7)}


def bounded_microdata(seed: int) -> dict[str, pd.DataFrame]:
    """Volunteers, and two sub-counts never above them. The volunteers of an EVS are all young
    (young = volunteers: no slack); among the social centres, every fourth has only young
    volunteers and dominates its cells of young volunteers, not its cells of volunteers."""
    rng = np.random.default_rng(seed)
    rows = []
    for dep, (region, n) in sorted(DEPARTEMENTS.items()):
        for _ in range(n):
            row = {"structure_id": f"S{len(rows):04d}", "region": region, "departement": dep}
            for breakdown, (categories, weights) in BREAKDOWN_CHOICES.items():
                row[breakdown] = str(rng.choice(categories, p=weights))
            rows.append(row)
    base = pd.DataFrame(rows)
    volunteers = np.round(rng.lognormal(3.5, 0.5, len(base)))
    young = np.round(volunteers * rng.uniform(0.0, 0.1, len(base)))
    centres = np.flatnonzero(base["type_structure"].eq("CS").to_numpy())
    young[centres[::4]] = volunteers[centres[::4]]
    evs = base["type_structure"].eq("EVS").to_numpy()
    young[evs] = volunteers[evs]
    boards = np.minimum(volunteers, np.round(rng.uniform(3, 12, len(base))))
    return {BOUND: base.assign(value=volunteers), PARTS[0]: base.assign(value=boards),
            PARTS[1]: base.assign(value=young)}


def bounded_attack(frames: dict[str, pd.DataFrame], results: dict[str, ProtectionResult]) -> pd.DataFrame:
    """Every hidden sum of every question: true value, attacker's [lo, hi], required protection."""
    questions = list(GROUP.questions)
    base = frames[questions[0]]
    n_s = len(base)
    truth = np.concatenate([frames[q]["value"].to_numpy(dtype=float) for q in questions])
    codebook = load_codebook(YEAR)
    hi = np.concatenate([np.full(n_s, float(codebook.question(q).maximum)) for q in questions])  # type: ignore[arg-type]
    rows, cols, vals, rhs = [], [], [], []
    for a, q in enumerate(questions):
        cells = results[q].cells
        for cell in cells[(cells["status"] == "V") & cells["statistic"].isin(["sum", "mean"])].itertuples():
            if not np.isfinite(cell.value):
                continue
            s = np.flatnonzero(members(base, cell.level, cell.territory, cell.breakdown, cell.category))
            rows += [len(rhs)] * len(s)
            cols += list(a * n_s + s)
            vals += [1.0] * len(s)
            rhs.append(float(cell.value) * (float(cell.n) if cell.statistic == "mean" else 1.0))
    A_eq = sp.csr_matrix((vals, (rows, cols)), shape=(len(rhs), len(truth)))
    # the relations, centre by centre: part − bound ≤ 0
    ub_rows = np.repeat(np.arange(2 * n_s), 2)
    ub_cols = np.concatenate([[(1 + k) * n_s + s, s] for k in range(2) for s in range(n_s)])
    A_ub = sp.csr_matrix((np.tile([1.0, -1.0], 2 * n_s), (ub_rows, ub_cols)), shape=(2 * n_s, len(truth)))
    assert np.all(A_ub @ truth <= 0) and np.allclose(A_eq @ truth, rhs)
    out = []
    for a, q in enumerate(questions):
        cells, protection = results[q].cells, results[q].protection
        levels = protection.set_index(["level", "territory", "breakdown", "category"])
        for cell in cells[(cells["statistic"] == "sum") & (cells["status"] != "V")].itertuples():
            c = np.zeros(len(truth))
            c[a * n_s + np.flatnonzero(members(base, cell.level, cell.territory, cell.breakdown, cell.category))] = 1
            bounds = []
            for sign in (1.0, -1.0):
                res = linprog(sign * c, A_ub=A_ub, b_ub=np.zeros(2 * n_s), A_eq=A_eq, b_eq=np.array(rhs),
                              bounds=np.column_stack([np.zeros_like(hi), hi]), method="highs")
                assert res.status == 0, res.message
                bounds.append(sign * res.fun)
            key = (cell.level, cell.territory, cell.breakdown, cell.category)
            up = float(levels.loc[[key], "upper"].max()) if key in levels.index else 0.0
            down = float(levels.loc[[key], "lower"].max()) if key in levels.index else 0.0
            out.append({"variable": q, "level": cell.level, "territory": cell.territory, "breakdown": cell.breakdown,
                        "category": cell.category, "value": float(c @ truth), "lo": bounds[0], "hi": bounds[1],
                        "upper": up, "lower": down})
    return pd.DataFrame(out)


def failures(intervals: pd.DataFrame) -> pd.DataFrame:
    """Hidden cells given away exactly, and sensitive cells narrowed inside their protection."""
    tol = 1e-6 * np.maximum(1.0, intervals["value"].abs())
    exact = intervals["hi"] - intervals["lo"] <= tol
    short = ((intervals["upper"] > 0) & (intervals["hi"] < intervals["value"] + intervals["upper"] - tol)) | (
        (intervals["lower"] > 0) & (intervals["lo"] > intervals["value"] - intervals["lower"] + tol))
    return intervals[exact | short]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return bounded_microdata(seed=4)


def test_the_bound_of_two_relations_groups_them() -> None:
    codebook = load_codebook(YEAR)
    groups = {g.id: g for g in linked_groups(codebook.relations, list(codebook.questions))}
    assert groups[GROUP.id].questions == (BOUND, *PARTS)
    assert groups[GROUP.id].is_inequality


def test_protected_apart_a_hidden_sub_count_is_cut_by_its_published_bound(frames: dict[str, pd.DataFrame]) -> None:
    codebook = load_codebook(YEAR)
    apart = {q: protect(frames[q], codebook.question(q), YEAR, SPEC) for q in GROUP.questions}
    leaks = failures(bounded_attack(frames, apart))
    # the engine that ignored bounded_by relations: the premise of the attack (the young
    # volunteers' hidden cells cut from above, the volunteers' from below)
    assert set(leaks["variable"]) & set(PARTS)


def test_protected_together_no_hidden_cell_is_recoverable(frames: dict[str, pd.DataFrame]) -> None:
    codebook = load_codebook(YEAR)
    together = protect_linked(frames, [codebook.question(q) for q in GROUP.questions], GROUP, YEAR,
                              {q: SPEC for q in GROUP.questions})
    intervals = bounded_attack(frames, together)
    assert len(intervals) > 0
    leaks = failures(intervals)
    assert leaks.empty, leaks.head(10).to_string()
    assert all(not r.diagnostics for r in together.values())
    assert {r.stats["linked"] for r in together.values()} == {GROUP.id}


def _lone_centre_without_bound(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames with one centre, alone in its département × management mode cell, that answered the
    young volunteers (none) and not the volunteers: the bound does not bind it."""
    base = frames[BOUND]
    cell = base.groupby(["departement", "mode_gestion"])["structure_id"].transform("size")
    lone = np.flatnonzero(cell.eq(1).to_numpy())
    assert len(lone), "the test data must have a lone centre in a département × management mode cell"
    changed = {q: f.copy() for q, f in frames.items()}
    changed[BOUND].loc[changed[BOUND].index[lone[0]], "value"] = np.nan
    changed[PARTS[0]].loc[changed[PARTS[0]].index[lone[0]], "value"] = np.nan
    changed[PARTS[1]].loc[changed[PARTS[1]].index[lone[0]], "value"] = 0.0
    return changed


def test_a_centre_that_did_not_answer_the_bound_is_not_bound_by_it(
        frames: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on the national synthetic 2025 year: the one "caf" centre of a département answered
    0 young volunteers and not its volunteers. The volunteers' cell (no respondent) is
    published as 0; a reader cannot bound the hidden young volunteers by it, and neither the
    engine nor the independent audit may: the engine called the cell impossible to protect
    and the audit rejected the whole question."""
    from senacs_workbench.release_audit import audit_union
    from senacs_workbench.release_audit import union as audit_module
    from senacs_workbench.restricted.publication.union_gate import published_form

    changed = _lone_centre_without_bound(frames)
    codebook = load_codebook(YEAR)
    together = protect_linked(changed, [codebook.question(q) for q in GROUP.questions], GROUP, YEAR,
                              {q: SPEC for q in GROUP.questions})
    assert all(not r.diagnostics for r in together.values())
    wide = changed[BOUND].drop(columns="value").assign(**{q: changed[q]["value"] for q in GROUP.questions})
    released = pd.concat([published_form(r.cells.assign(year=YEAR)) for r in together.values()], ignore_index=True)
    assert audit_union([released], wide, codebook, variables=list(GROUP.questions), exact=False).ok
    # the audit that bound every cell where the truth satisfies the relation rejects it
    monkeypatch.setattr(audit_module, "partial_respondents",
                        lambda microdata, relations, levels, breakdowns: pd.DataFrame(
                            columns=["level", "territory", "breakdown", "category"]))
    strict = audit_union([released], wide, codebook, variables=list(GROUP.questions), exact=False)
    assert PARTS[1] in strict.rejected_variables
