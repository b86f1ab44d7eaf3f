"""The protection jobs of a release: one per question, one per group of linked questions.

A release protects every tabulated question of a year. Questions linked by a relation of
the codebook (the budget and its funding sources, the four age shares, the volunteers and the
counts bounded by them: :func:`senacs_workbench.disclosure.linked.linked_groups`) are protected
together, in one job; every other question alone. Each job's results are audited per question by the engine's
audit (its own relations), and come back in the order of the questions asked, whatever the
grouping, so that the publish and authorised-release steps stay per question.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from senacs_workbench.core.codebook import Question, load_codebook
from senacs_workbench.disclosure.cells import ReleaseSpec

if TYPE_CHECKING:  # the engine's modules are imported by the jobs that run them
    from senacs_workbench.disclosure.ledger import Ledger
    from senacs_workbench.disclosure.linked import LinkedGroup
    from senacs_workbench.disclosure.protect import ProtectionResult
    from senacs_workbench.disclosure.rules import RuleSet

R = TypeVar("R")


@dataclass(frozen=True)
class QuestionJob:
    """What the engine needs to protect one question (restricted zone: true microdata)."""

    data: pd.DataFrame
    question: Question
    year: int
    spec: ReleaseSpec
    ledger: Ledger | None = None
    previous: pd.DataFrame | None = None
    reviewed: dict[tuple[str, str, str, str, str], bool] | None = None
    """A person's decisions on the question's status R cells (True publish), current ones only
    (:mod:`.review_decisions`)."""


@dataclass(frozen=True)
class ProtectedQuestion:
    """One question's cells (true values, statuses) and its audit; when the ledger refused it
    (:class:`~senacs_workbench.disclosure.ledger.LedgerConflict`), no cells, the engine's
    French message and the conflicting cells' keys instead."""

    question_id: str
    cells: pd.DataFrame
    audit: dict[str, Any]
    audit_ok: bool
    rules_hash: str
    refusal: str | None = None
    conflict: pd.DataFrame | None = None


@dataclass(frozen=True)
class _Unit:
    """One job of the worker pool: one question, or the questions of one linked group."""

    jobs: tuple[QuestionJob, ...]
    group: LinkedGroup | None  # None: one question alone
    rules: RuleSet  # the engine and the audit's thresholds read the same one
    joint_output: bool = False
    complete_epci_departements: frozenset[str] | None = None  # see the engine's audit


def _audited(question_id: str, result: ProtectionResult, unit: _Unit) -> ProtectedQuestion:
    from senacs_workbench.disclosure.audit import audit

    report = audit(result.cells, result.protection, rules=unit.rules,
                   complete_epci_departements=unit.complete_epci_departements)
    return ProtectedQuestion(question_id, result.cells, report.summary(), report.ok, result.rules_hash)


def _protect_unit(unit: _Unit) -> list[ProtectedQuestion]:
    from senacs_workbench.disclosure.ledger import LedgerConflict
    from senacs_workbench.disclosure.linked import protect_linked
    from senacs_workbench.disclosure.protect import protect

    if unit.group is None:
        job = unit.jobs[0]
        try:
            result = protect(job.data, job.question, job.year, spec=job.spec, rules=unit.rules, ledger=job.ledger,
                             previous=job.previous, joint_output=unit.joint_output, reviewed=job.reviewed)
        except LedgerConflict as conflict:
            return [ProtectedQuestion(job.question.id, pd.DataFrame(), {}, False, "", str(conflict), conflict.cells)]
        return [_audited(job.question.id, result, unit)]
    try:
        results = protect_linked(
            {j.question.id: j.data for j in unit.jobs}, [j.question for j in unit.jobs], unit.group,
            unit.jobs[0].year, {j.question.id: j.spec for j in unit.jobs}, unit.rules,
            ledgers={j.question.id: j.ledger for j in unit.jobs},
            previous={j.question.id: j.previous for j in unit.jobs}, joint_output=unit.joint_output,
            reviewed={j.question.id: j.reviewed for j in unit.jobs},
        )
    except LedgerConflict:
        # one question of the group cannot be released as the ledger requires: each is
        # protected alone (that one refused and withheld), the union audit judges the others
        return [item for job in unit.jobs for item in _protect_unit(replace(unit, jobs=(job,), group=None))]
    return [_audited(j.question.id, results[j.question.id], unit) for j in unit.jobs]


def run_jobs(function: Callable[[Any], R], jobs: Sequence[Any], workers: int | None = None) -> list[R]:
    """``function`` over ``jobs``, in worker processes when there are several (at most 4, and
    the machine's cores), in order."""
    workers = workers or min(len(jobs), os.cpu_count() or 1, 4)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(function, jobs))
    return [function(job) for job in jobs]


def protect_questions(jobs: Sequence[QuestionJob], workers: int | None = None, *, joint_output: bool = False,
                      complete_epci_departements: frozenset[str] | None = None) -> list[ProtectedQuestion]:
    """Protect and audit every job's question, linked questions together; results in the
    order of ``jobs``. ``joint_output`` as for the engine's ``protect``,
    ``complete_epci_departements`` as for its ``audit`` (an authorised release sees the
    committee cells it joins)."""
    if not jobs:
        return []
    from senacs_workbench.disclosure.linked import linked_groups
    from senacs_workbench.disclosure.rules import load_rules

    rules = load_rules()
    by_id = {job.question.id: job for job in jobs}
    groups = linked_groups(load_codebook(jobs[0].year).relations, [job.question for job in jobs])
    grouped = {qid for group in groups for qid in group.questions}
    # the linked groups first: the longest jobs, so that no worker ends alone with one
    units = [_Unit(tuple(by_id[q] for q in g.questions), g, rules, joint_output, complete_epci_departements)
             for g in groups]
    units += [_Unit((job,), None, rules, joint_output, complete_epci_departements)
              for job in jobs if job.question.id not in grouped]
    done = {item.question_id: item for out in run_jobs(_protect_unit, units, workers) for item in out}
    return [done[job.question.id] for job in jobs]
