"""Questions linked by a relation of the codebook, protected together (attack A16).

The codebook declares identities between questions (``Codebook.relations``): the budget is
the sum of its eight funding sources, the four age shares add up to 100 %. A reader of a
release knows them: where the budget of a territory and seven of its sources are published,
the eighth source is their difference. Protected one question at a time, each pattern is safe
alone and the pair is not.

:func:`protect_linked` protects the questions of one group (:class:`LinkedGroup`: an equality,
``sum_to_total`` or ``sum_to_constant``, or the inequalities sharing one bound, below) in one
linear system: each question keeps its own cells, primary rules,
ledger and costs (:func:`.protect.prepare`), and the joint system stacks the questions as the
"answers" of one table (rows ``a * G + g``, as for the answers of a categorical question),
with one linking row per inner cell that every witness must respect:

- ``sum_to_total``: the change of the total equals the sum of the changes of its parts;
- ``sum_to_constant``: the changes of the parts sum to zero.

Holding the identity *exactly* on the changes is the strongest reader's model (a reader who
assumes the identity holds to the euro), so it protects against any tolerance the codebook
declares; where the identity does not hold exactly in an inner cell, its gap stays within the
centres' tolerances, and a relation binds only the structures that answered it whole (see
:func:`_linking`). A witness for a hidden funding source must then move the budget or another source at
the same cells, and hides the cheapest of them. The dominated-union check, which concerns one
question's own relations, runs afterwards on each question with the joint pattern.

**Apart first, then together** (:data:`APART_FIRST`, off by default for its cost; issue 16's
cost of linking: at most 10 % more hidden value than the questions protected one at a time).
Each question is first protected alone, with the
witnesses of a single question (régional cells balanced country-wide); the joint search then
starts from those patterns as *hints*: hidden cells its witnesses move for free. Where a
question's own witness already respects the relation, the joint witness costs nothing; where it
does not, the joint search adds the cells the relation needs (a second question at the same
places). Hints that no joint witness moves are published again: every witness holds them at
their true value, so nothing they protect depends on them. On the national 2025 synthetic
year, the budget group hides 7.95 % of its value against 7.20 % apart (12.9 % before), the two
``bounded_by`` groups 7.4 % against 7.0 % and 6.9 % against 6.5 % (were 9.7 % and 9.6 %).

``bounded_by`` relations (a part ≤ its whole: young volunteers ≤ volunteers) are inequalities.
A reader knows them too: where the volunteers of a cell are published, a hidden count of its
young volunteers cannot be above them, which may cut a sensitive cell's upper protection. The
relations that share one bound form one group (:class:`LinkedGroup`: the bound, then its
parts), protected in one system whose linking rows are inequalities on the changes of every
inner cell: Δpart − Δbound ≤ the cell's slack (bound − part, never below 0). Since a question
may then move alone within its slack, the witnesses of such a group are sought over every
question at once, without the pair witnesses of the equalities.

The questions of a group must share one layout (the same views): where an earlier release
joined another view to one of them only, they are protected apart (see :func:`protect_linked`);
the independent audit at the publish gate checks every relation on the union of releases and
withholds a question they expose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from senacs_workbench.core.codebook import Question, Relation, RelationKind
from senacs_workbench.disclosure.cells import PUBLISHABLE, ReleaseSpec
from senacs_workbench.disclosure.ledger import Ledger
from senacs_workbench.disclosure.primary import PrimaryResult, ReviewDecisions
from senacs_workbench.disclosure.protect import (
    PreparedQuestion,
    ProtectionResult,
    finish,
    joint_spec,
    prepare,
    suppression_cost,
    union_spec,
)
from senacs_workbench.disclosure.relations import SecretSystem
from senacs_workbench.disclosure.rules import RuleSet, load_rules
from senacs_workbench.disclosure.secondary import SecondaryResult, secondary_suppression
from senacs_workbench.disclosure.tabulate import Layout, Tabulation

__all__ = ["LINKED_KINDS", "LinkedGroup", "linked_groups", "protect_linked"]

LINKED_KINDS = (RelationKind.SUM_TO_TOTAL, RelationKind.SUM_TO_CONSTANT)
"""The equalities: each protected alone as one group."""


@dataclass(frozen=True)
class LinkedGroup:
    """Questions protected together and the relations that link them: one equality, or the
    ``bounded_by`` relations that share one bound."""

    relations: tuple[Relation, ...]

    @classmethod
    def of(cls, relation: Relation) -> LinkedGroup:
        return cls((relation,))

    @property
    def id(self) -> str:
        return "+".join(r.id for r in self.relations)

    @property
    def is_inequality(self) -> bool:
        return self.relations[0].kind is RelationKind.BOUNDED_BY

    @property
    def questions(self) -> tuple[str, ...]:
        """The total or bound first, then the parts, each once."""
        return tuple(dict.fromkeys(q for r in self.relations for q in r.questions))


def linked_groups(relations: Sequence[Relation], questions: Sequence[Question]) -> list[LinkedGroup]:
    """The groups of ``relations`` whose questions are all in ``questions`` (numeric,
    tabulated), no question in two groups: each equality alone, in the codebook's order, then
    the ``bounded_by`` relations grouped by their bound."""
    numeric = {q.id for q in questions if q.type.is_numeric}
    groups: list[LinkedGroup] = []
    taken: set[str] = set()
    for relation in relations:
        members = set(relation.questions)
        if relation.kind in LINKED_KINDS and members <= numeric and not members & taken:
            groups.append(LinkedGroup.of(relation))
            taken |= members
    by_bound: dict[str, list[Relation]] = {}
    for relation in relations:
        if relation.kind is not RelationKind.BOUNDED_BY or not set(relation.questions) <= numeric:
            continue
        if relation.parts[0] in taken or (relation.bound in taken and relation.bound not in by_bound):
            continue
        by_bound.setdefault(str(relation.bound), []).append(relation)
        taken |= set(relation.questions)
    groups += [LinkedGroup(tuple(rels)) for rels in by_bound.values()]
    return groups


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


def _per_inner(layout: Layout, per_structure: npt.ArrayLike) -> np.ndarray:
    """A per-structure array summed over each inner cell."""
    return np.bincount(layout.inner_of, weights=np.asarray(per_structure, dtype=float), minlength=layout.n_inner)


def _bounded_linking(group: LinkedGroup, preps: Sequence[PreparedQuestion]
                     ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """One row per relation and inner cell, Δpart − Δbound, bounded above by the cell's slack
    (bound − part within the relation's tolerance; 0 where the truth has none, so that a
    witness never widens a gap the data already has) and free below. The relation binds the
    structures that answered both questions: an inner cell with a structure that answered the
    part and not the bound is free (a reader sees it in the respondents, as the audit does)."""
    layout = preps[0].tab.layout
    n_inner = layout.n_inner
    index = {p.question.id: a for a, p in enumerate(preps)}
    identity = sp.identity(n_inner, format="csr")
    zero = sp.csr_matrix((n_inner, n_inner))
    blocks, slacks = [], []
    for relation in group.relations:
        part, bound = index[relation.parts[0]], index[str(relation.bound)]
        blocks.append(sp.hstack([identity if a == part else -identity if a == bound else zero
                                 for a in range(len(preps))], format="csr"))
        respondents = _per_inner(layout, preps[part].tab.answered)
        y_part, y_bound = preps[part].system.y, preps[bound].system.y
        slack = ((1.0 + relation.relative_tolerance) * y_bound + relation.absolute_tolerance * respondents - y_part)
        # a structure that answered the part and not the bound is not bound by it
        alone = preps[part].tab.answered & ~preps[bound].tab.answered
        free = _per_inner(layout, alone) > 0
        slacks.append(np.where(free, np.inf, np.maximum(slack, 0.0)))
    hi = np.concatenate(slacks)
    return sp.vstack(blocks, format="csr"), np.full(len(hi), -np.inf), hi


def _linking(group: LinkedGroup, preps: Sequence[PreparedQuestion]
             ) -> tuple[sp.csr_matrix, np.ndarray | None, np.ndarray | None]:
    """The identity's rows on the changes of the inner cells, and the bounds of each row's change.

    ``sum_to_total``: one row per inner cell, Δtotal − Σ Δparts. Where the identity holds
    exactly in the inner cell, the change is 0. Elsewhere (a centre's budget a few percent off
    its sources) a reader still assumes it within its tolerance, centre by centre: the change
    keeps the cell's gap within ± the sum of its centres' tolerances (and 0 stays allowed, the
    truth being what it is).
    ``sum_to_constant``: Σ Δparts = 0 on every inner cell.
    Either way, the relation binds the structures that answered all its questions: an inner
    cell with a structure that answered some only (a budget without its sources, which a
    reader sees in the published respondents) is free — the independent audit, likewise,
    applies no relation at a key with such a structure.
    ``bounded_by``: see :func:`_bounded_linking`."""
    if group.is_inequality:
        return _bounded_linking(group, preps)
    relation = group.relations[0]
    layout = preps[0].tab.layout
    identity = sp.identity(layout.n_inner, format="csr")
    answered = np.column_stack([p.tab.answered for p in preps])
    partial = answered.any(axis=1) & ~answered.all(axis=1)
    mixed = _per_inner(layout, partial) > 0
    if relation.kind is RelationKind.SUM_TO_TOTAL:
        # the total is the relation's first question
        rows = sp.hstack([identity, *([-identity] * (len(preps) - 1))], format="csr")
        gap = rows @ np.concatenate([p.system.y for p in preps])
        total = preps[0].tab
        per_centre = np.where(total.answered, np.maximum(relation.relative_tolerance * np.abs(total.unit_values[:, 0]),
                                                         relation.absolute_tolerance), 0.0)
        tolerance = _per_inner(layout, per_centre)
        exact = np.abs(gap) < 0.5
        lo = np.where(exact, 0.0, np.minimum(0.0, -tolerance - gap))
        hi = np.where(exact, 0.0, np.maximum(0.0, tolerance - gap))
        return rows, np.where(mixed, -np.inf, lo), np.where(mixed, np.inf, hi)
    rows = sp.hstack([sp.diags((~mixed).astype(float), format="csr")] * len(preps), format="csr")
    return rows[np.flatnonzero(~mixed)], None, None


def _joint_system(preps: Sequence[PreparedQuestion], group: LinkedGroup) -> SecretSystem:
    systems = [p.system for p in preps]
    n_inner = systems[0].n_inner
    linking, linking_lo, linking_hi = _linking(group, preps)
    # the total or the bound is the group's first question; parts summing to a constant: −1
    head = -1 if group.relations[0].kind is RelationKind.SUM_TO_CONSTANT else 0
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
        linked_total=head,
        linking_lo=linking_lo,
        linking_hi=linking_hi,
        linked_inequality=group.is_inequality,
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

APART_FIRST = False
"""Whether a group's questions are protected apart first, their patterns the joint search's
hints (see the module's docs). Off: it brings the cost of linking under 10 % on the national
year, but the publication of a national year at the demo's scale 0.02 takes 72–80 s instead of
58 s (the apart passes, and the union audit of the new pattern: 21 s → 32 s), which took the
test suite from 14.6 to 24 minutes. Making it cheap enough is issue 16's next step."""

JOINT_COST_SCALE = 20.0
"""The joint search prices the cells of every question of the group on one scale: 1 + |value| /
(this × the mean |value| of all their cells), so a witness hides as few new cells as it can,
the smaller first, whichever question they belong to (each question's own scale made a small
source's cell as dear as the budget's). Budget group, national 2025: 8.08 % of the value
hidden with each question's scale, 8.01 % with the common mean, 7.97 % with 20 × it (and with
100 ×: the count of cells decides); measured before the régional hints were ranked."""


def _joint_cost(preps: Sequence[PreparedQuestion], group: LinkedGroup) -> np.ndarray:
    """The questions' own suppression costs (with :data:`APART_FIRST`: on one scale,
    :data:`JOINT_COST_SCALE`), the total's raised (:data:`TOTAL_COST_FACTOR`)."""
    if APART_FIRST:
        values = [p.tab.secret.reshape(-1) for p in preps]
        magnitudes = np.abs(np.concatenate(values))
        common = float(magnitudes[magnitudes > 0].mean()) if (magnitudes > 0).any() else 1.0
        costs = [suppression_cost(p.tab, p.rules, v, JOINT_COST_SCALE * common)
                 for p, v in zip(preps, values, strict=True)]
    else:
        costs = [p.cost.copy() for p in preps]
    if group.relations[0].kind is RelationKind.SUM_TO_TOTAL:
        costs[0] *= TOTAL_COST_FACTOR
    return np.concatenate(costs)


def _rows(flags: list[np.ndarray | None], preps: Sequence[PreparedQuestion]) -> np.ndarray:
    return np.concatenate([
        np.zeros(p.tab.secret.size, dtype=bool) if f is None else f for f, p in zip(flags, preps, strict=True)
    ])


def protect_linked(
    frames: Mapping[str, pd.DataFrame],
    questions: Sequence[Question],
    relation: Relation | LinkedGroup,
    year: int,
    specs: Mapping[str, ReleaseSpec] | None = None,
    rules: RuleSet | None = None,
    ledgers: Mapping[str, Ledger | None] | None = None,
    *,
    previous: Mapping[str, pd.DataFrame | None] | None = None,
    joint_output: bool = False,
    reviewed: Mapping[str, ReviewDecisions | None] | None = None,
) -> dict[str, ProtectionResult]:
    """Protect the questions of ``relation`` (one relation, or a :class:`LinkedGroup`) together;
    ``frames[q]`` is question ``q``'s
    microdata, ``questions`` their codebook entries (in any order), ``specs[q]`` the views
    released for ``q`` (default: every committee view). Returns one result per question, as
    :func:`.protect.protect` would, with a joint suppression pattern. The questions are
    tabulated on the union of their views (a view released for one only is hidden, internal,
    for the others)."""
    group = relation if isinstance(relation, LinkedGroup) else LinkedGroup.of(relation)
    rules = rules or load_rules()
    ledgers = ledgers or {}
    previous = previous or {}
    by_id = {q.id: q for q in questions}
    own = {qid: (specs or {}).get(qid) or ReleaseSpec() for qid in group.questions}
    # every view of every question, the views released earlier included (see joint_spec)
    views = union_spec(*(joint_spec(own[qid], frames[qid], ledgers.get(qid), year, qid) for qid in own))
    preps = [
        prepare(frames[qid], by_id[qid], year, own[qid], rules, ledgers.get(qid), previous=previous.get(qid),
                view_spec=views, reviewed=(reviewed or {}).get(qid))
        for qid in group.questions
    ]
    if not _same_layout(preps):
        # views joined to one question only (an earlier release): protected apart, the
        # publish gate's audit of the union decides
        apart = {}
        for p in preps:
            result = finish(p, secondary_suppression(p.tab, p.system, p.prim, rules, p.cost, p.forced_pub,
                                                     p.forced_sup, p.movable), joint_output=joint_output)
            result.diagnostics.append(f"Questions liées ({group.id}) protégées séparément : leurs vues diffèrent ; "
                                      "l'audit de publication vérifie leur combinaison.")
            apart[p.question.id] = result
        return apart
    G = preps[0].tab.layout.n_groups
    # each question protected alone first (with the witnesses of single questions, régional
    # ones country-wide): its pattern is the joint search's hint, cells it moves for free, so
    # that the relation adds only the cells it needs and the hints no joint witness uses are
    # published again (see the module's docs)
    own_patterns = [secondary_suppression(p.tab, p.system, p.prim, rules, p.cost, p.forced_pub, p.forced_sup, p.movable,
                                   unions=False).status != PUBLISHABLE for p in preps] if APART_FIRST else None
    joint = secondary_suppression(
        _joint_tabulation(preps), _joint_system(preps, group), _joint_primary(preps), rules,
        _joint_cost(preps, group), _rows([p.forced_pub for p in preps], preps),
        _rows([p.forced_sup for p in preps], preps), _rows([p.movable for p in preps], preps), unions=False,
        hints=None if own_patterns is None else np.concatenate(own_patterns),
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
        result.stats["linked"] = group.id
        results[prep.question.id] = result
    return results
