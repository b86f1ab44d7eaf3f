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
from engine_helpers import linked_attack, linked_failures, structures

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
    base = structures(rng, DEPARTEMENTS)
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
    """Every hidden sum of every question: true value, attacker's [lo, hi], required protection;
    each part ≤ the bound, centre by centre."""
    n_s = len(frames[BOUND])
    identity, zero = sp.identity(n_s, format="csr"), sp.csr_matrix((n_s, n_s))
    rows = sp.vstack([sp.hstack([-identity, identity, zero]), sp.hstack([-identity, zero, identity])], format="csr")
    return linked_attack(frames, results, list(GROUP.questions), YEAR, rows, equal=False)


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
    leaks = linked_failures(bounded_attack(frames, apart))
    # the engine that ignored bounded_by relations: the premise of the attack (the young
    # volunteers' hidden cells cut from above, the volunteers' from below)
    assert set(leaks["variable"]) & set(PARTS)


def test_protected_together_no_hidden_cell_is_recoverable(frames: dict[str, pd.DataFrame]) -> None:
    codebook = load_codebook(YEAR)
    together = protect_linked(frames, [codebook.question(q) for q in GROUP.questions], GROUP, YEAR,
                              {q: SPEC for q in GROUP.questions})
    intervals = bounded_attack(frames, together)
    assert len(intervals) > 0
    leaks = linked_failures(intervals)
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
