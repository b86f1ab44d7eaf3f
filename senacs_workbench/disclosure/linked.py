"""Questions linked by a relation of the codebook, protected together (attack A16).

The codebook declares identities between questions (``Codebook.relations``): the budget is
the sum of its eight funding sources, the four age shares add up to 100 %. A reader of a
release knows them: where the budget of a territory and seven of its sources are published,
the eighth source is their difference. Protected one question at a time, each pattern is safe
alone and the pair is not.

:func:`protect_linked` protects the questions of one such *equality* relation (``sum_to_total``,
``sum_to_constant``) in one linear system: each question keeps its own cells, primary rules,
ledger and costs (:func:`.protect.prepare`), and the joint system stacks the questions as the
"answers" of one table (rows ``a * G + g``, as for the answers of a categorical question),
with one linking row per inner cell that every witness must respect:

- ``sum_to_total``: the change of the total equals the sum of the changes of its parts;
- ``sum_to_constant``: the changes of the parts sum to zero.

Holding the identity *exactly* on the changes is the strongest reader's model (a reader who
assumes the identity holds to the euro), so it protects against any tolerance the codebook
declares. A witness for a hidden funding source must then move the budget or another source at
the same cells, and hides the cheapest of them. The dominated-union check, which concerns one
question's own relations, runs afterwards on each question with the joint pattern.

``bounded_by`` relations (a part ≤ its whole) are inequalities: the engine does not hold them;
the independent audit at the publish gate checks them and withholds a question they expose.
The questions of a relation must share one layout (the same views): where an earlier release
joined another view to one of them only, they are protected apart (see ``protect_group``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from senacs_workbench.core.codebook import Question, Relation, RelationKind
from senacs_workbench.disclosure.cells import PUBLISHABLE, ReleaseSpec
from senacs_workbench.disclosure.ledger import Ledger
from senacs_workbench.disclosure.primary import PrimaryResult
from senacs_workbench.disclosure.protect import (
    PreparedQuestion,
    ProtectionResult,
    finish,
    joint_spec,
    prepare,
    union_spec,
)
from senacs_workbench.disclosure.relations import SecretSystem
from senacs_workbench.disclosure.rules import RuleSet, load_rules
from senacs_workbench.disclosure.secondary import SecondaryResult, secondary_suppression
from senacs_workbench.disclosure.tabulate import Tabulation

__all__ = ["LINKED_KINDS", "linked_relations", "protect_linked"]

LINKED_KINDS = (RelationKind.SUM_TO_TOTAL, RelationKind.SUM_TO_CONSTANT)
"""The relations the engine holds in its witnesses (equalities)."""


def linked_relations(relations: Sequence[Relation], questions: Sequence[Question]) -> list[Relation]:
    """The equality relations among ``relations`` whose questions are all in ``questions``
    (numeric, tabulated), no question in two of them."""
    numeric = {q.id for q in questions if q.type.is_numeric}
    chosen: list[Relation] = []
    taken: set[str] = set()
    for relation in relations:
        members = set(relation.questions)
        if relation.kind in LINKED_KINDS and members <= numeric and not members & taken:
            chosen.append(relation)
            taken |= members
    return chosen


def _same_layout(preps: Sequence[PreparedQuestion]) -> bool:
    first = preps[0].tab.layout
    return all(
        p.tab.layout is first
        or (p.tab.layout.n_inner == first.n_inner and p.tab.layout.keys.equals(first.keys)
            and np.array_equal(p.tab.layout.inner_of, first.inner_of))
        for p in preps[1:]
    )


def _joint_tabulation(preps: Sequence[PreparedQuestion]) -> Tabulation:
    """The questions as the answers of one table (what the witness search reads of it)."""
    tab = preps[0].tab
    return replace(
        tab,
        answers=tuple(p.question.id for p in preps),
        unit_values=np.column_stack([p.tab.unit_values[:, 0] for p in preps]),
        secret=np.vstack([p.tab.secret[0] for p in preps]),
    )


def _linking(relation: Relation, preps: Sequence[PreparedQuestion]
             ) -> tuple[sp.csr_matrix, np.ndarray | None, np.ndarray | None]:
    """The identity's rows on the changes of the inner cells, and the bounds of each row's change.

    ``sum_to_total``: one row per inner cell, Δtotal − Σ Δparts. Where the identity holds
    exactly in the inner cell, the change is 0. Elsewhere (a centre's budget a few percent off
    its sources, a budget without all its sources) a reader still assumes it within its
    tolerance, centre by centre: the change keeps the cell's gap within ± the sum of its
    centres' tolerances (and 0 stays allowed, the truth being what it is).
    ``sum_to_constant``: Σ Δparts = 0 on every inner cell whose structures answered all the
    parts or none; a structure that answered some only absorbs any change of its cell."""
    layout = preps[0].tab.layout
    identity = sp.identity(layout.n_inner, format="csr")
    if relation.kind is RelationKind.SUM_TO_TOTAL:
        # the total is the relation's first question
        rows = sp.hstack([identity, *([-identity] * (len(preps) - 1))], format="csr")
        gap = rows @ np.concatenate([p.system.y for p in preps])
        total = preps[0].tab
        per_centre = np.where(total.answered, np.maximum(relation.relative_tolerance * np.abs(total.unit_values[:, 0]),
                                                         relation.absolute_tolerance), 0.0)
        tolerance = np.bincount(layout.inner_of, weights=per_centre, minlength=layout.n_inner)
        exact = np.abs(gap) < 0.5
        lo = np.where(exact, 0.0, np.minimum(0.0, -tolerance - gap))
        hi = np.where(exact, 0.0, np.maximum(0.0, tolerance - gap))
        return rows, lo, hi
    answered = np.column_stack([p.tab.answered for p in preps])
    partial = answered.any(axis=1) & ~answered.all(axis=1)
    mixed = np.bincount(layout.inner_of[partial], minlength=layout.n_inner) > 0
    rows = sp.hstack([sp.diags((~mixed).astype(float), format="csr")] * len(preps), format="csr")
    return rows[np.flatnonzero(~mixed)], None, None


def _joint_system(preps: Sequence[PreparedQuestion], relation: Relation) -> SecretSystem:
    systems = [p.system for p in preps]
    n_inner = systems[0].n_inner
    linking, linking_lo, linking_hi = _linking(relation, preps)
    k = len(systems)
    X = sp.kron(sp.identity(k, format="csr"), preps[0].tab.layout.inner_groups, format="csr")
    return SecretSystem(
        n_answers=k,
        n_inner=n_inner,
        X=X,
        Xc=X.tocsc(),
        y=np.concatenate([s.y for s in systems]),
        lo=np.concatenate([s.lo for s in systems]),
        hi=np.concatenate([s.hi for s in systems]),
        linking=linking,
        var_inner=np.tile(np.arange(n_inner), k),
        inner_respondents=np.max(np.vstack([s.inner_respondents for s in systems]), axis=0),
        singleton_inner=np.any(np.vstack([s.singleton_inner for s in systems]), axis=0),
        integral=False,
        linked_total=0 if relation.kind is RelationKind.SUM_TO_TOTAL else -1,
        linking_lo=linking_lo,
        linking_hi=linking_hi,
    )


def _joint_primary(preps: Sequence[PreparedQuestion]) -> PrimaryResult:
    def stack(name: str) -> np.ndarray:
        return np.vstack([getattr(p.prim, name) for p in preps])

    return PrimaryResult(
        status=stack("status"), upper=stack("upper"), lower=stack("lower"), need=stack("need"),
        req_up=stack("req_up"), req_down=stack("req_down"), reason=stack("reason"), quantile_status={},
    )


TOTAL_COST_FACTOR = 3.0
"""A relation's total (the budget) costs this many times its usual cost to hide: it is the
figure readers look for first; a witness moves another part with the hidden one where it can
(measured on the national 2025 synthetic year: the budget's hidden value 17.1 % → 13.2 %)."""


def _joint_cost(preps: Sequence[PreparedQuestion], relation: Relation) -> np.ndarray:
    """The questions' own suppression costs, the total's raised (:data:`TOTAL_COST_FACTOR`)."""
    costs = [p.cost.copy() for p in preps]
    if relation.kind is RelationKind.SUM_TO_TOTAL:
        costs[0] *= TOTAL_COST_FACTOR
    return np.concatenate(costs)


def _rows(flags: list[np.ndarray | None], preps: Sequence[PreparedQuestion]) -> np.ndarray:
    return np.concatenate([
        np.zeros(p.tab.secret.size, dtype=bool) if f is None else f for f, p in zip(flags, preps, strict=True)
    ])


def protect_linked(
    frames: Mapping[str, pd.DataFrame],
    questions: Sequence[Question],
    relation: Relation,
    year: int,
    specs: Mapping[str, ReleaseSpec] | None = None,
    rules: RuleSet | None = None,
    ledgers: Mapping[str, Ledger | None] | None = None,
    *,
    previous: Mapping[str, pd.DataFrame | None] | None = None,
    joint_output: bool = False,
) -> dict[str, ProtectionResult]:
    """Protect the questions of ``relation`` together; ``frames[q]`` is question ``q``'s
    microdata, ``questions`` their codebook entries (in any order), ``specs[q]`` the views
    released for ``q`` (default: every committee view). Returns one result per question, as
    :func:`.protect.protect` would, with a joint suppression pattern. The questions are
    tabulated on the union of their views (a view released for one only is hidden, internal,
    for the others)."""
    if relation.kind not in LINKED_KINDS:
        raise ValueError(f"relation {relation.id}: only equalities are protected jointly")
    rules = rules or load_rules()
    ledgers = ledgers or {}
    previous = previous or {}
    by_id = {q.id: q for q in questions}
    own = {qid: (specs or {}).get(qid) or ReleaseSpec() for qid in relation.questions}
    # every view of every question, the views released earlier included (see joint_spec)
    views = union_spec(*(joint_spec(own[qid], frames[qid], ledgers.get(qid), year, qid) for qid in own))
    preps = [
        prepare(frames[qid], by_id[qid], year, own[qid], rules, ledgers.get(qid), previous=previous.get(qid),
                view_spec=views)
        for qid in relation.questions
    ]
    if not _same_layout(preps):
        # views joined to one question only (an earlier release): protected apart, the
        # publish gate's audit of the union decides
        apart = {}
        for p in preps:
            result = finish(p, secondary_suppression(p.tab, p.system, p.prim, rules, p.cost, p.forced_pub,
                                                     p.forced_sup, p.movable), joint_output=joint_output)
            result.diagnostics.append(f"Questions liées ({relation.id}) protégées séparément : leurs vues diffèrent ; "
                                      "l'audit de publication vérifie leur combinaison.")
            apart[p.question.id] = result
        return apart
    G = preps[0].tab.layout.n_groups
    joint = secondary_suppression(
        _joint_tabulation(preps), _joint_system(preps, relation), _joint_primary(preps), rules,
        _joint_cost(preps, relation), _rows([p.forced_pub for p in preps], preps),
        _rows([p.forced_sup for p in preps], preps), _rows([p.movable for p in preps], preps), unions=False,
    )
    results: dict[str, ProtectionResult] = {}
    for a, prep in enumerate(preps):
        hidden = joint.status[a * G:(a + 1) * G] != PUBLISHABLE
        forced = hidden if prep.forced_sup is None else hidden | prep.forced_sup
        alone = secondary_suppression(prep.tab, prep.system, prep.prim, rules, prep.cost, prep.forced_pub, forced,
                                      witnesses=False)
        diagnostics = [{**item, "row": int(item["row"]) - a * G}  # type: ignore[call-overload]
                       for item in joint.unprotected if int(item["row"]) // G == a]  # type: ignore[call-overload]
        sec = SecondaryResult(status=alone.status, unprotected=[*diagnostics, *alone.unprotected],
                              lp_solves=joint.lp_solves if a == 0 else 0, witnesses=joint.witnesses if a == 0 else 0)
        result = finish(prep, sec, joint_output=joint_output)
        result.stats["linked"] = relation.id
        results[prep.question.id] = result
    return results
