"""Year-over-year protection (attack A7): what last year's release already tells.

An attacker holding last year's release and this year's one subtracts them. When the values
of a cell's structures are stable, the difference of a cell published both years is the
contribution of the few structures that changed: an entrant's budget, a leaver's answer. So,
for every cell *published last year*, the engine compares each structure's contribution to
its group in both years (last year's microdata, as released) and counts the structures whose
contribution changed (answer changed, started or stopped answering, entered or left the
group). For a categorical question
the count is per group, over all answers: with one leaver, an unchanged "non" count says the
leaver answered "oui" as surely as the changed "oui" count does.

- **unchanged** (no structure changed): this year's value is last year's published value.
  The attacker knows it, so hiding it hides little: it is the last resort of the secondary
  suppression (a thousand times its cost), used only when a sensitive cell has no other way
  to be protected (beside a zero total published last year, say);
- **changed by 1 or 2 structures** (fewer than the frequency threshold): the difference is
  theirs. The cell becomes a primary cell this year (status ``A``, reason ``temporal``); its
  protection must keep "no change" possible for counts (a +1 must not be pinned; an unchanged
  count must be able to move by one) and hide at least the frequency protection ratio of the
  change for sums;
- **changed by 3 or more**: the difference is an ordinary aggregate, nothing more to do.

And for every cell *suppressed last year* that is unchanged, publishing it this year would
publish last year's hidden value: it stays suppressed.

Limits: an unchanged cell hidden as a last resort is known to an attacker who assumes stable
answers; a cell suppressed last year whose value changed may be published this year (its
difference with last year's interval is as wide as that interval); larger changes dominated
by one structure (a budget that doubled) are not a primary rule of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from senacs_workbench.disclosure.cells import NATIONAL_CODE, PUBLISHABLE
from senacs_workbench.disclosure.ledger import KEY_COLUMNS
from senacs_workbench.disclosure.tabulate import (
    MISSING_CATEGORY,
    Tabulation,
    TabulationError,
    answer_matrix,
    numeric_values,
)

__all__ = ["TemporalConstraints", "group_membership", "temporal_constraints"]


@dataclass(frozen=True)
class TemporalConstraints:
    """Per secret row (``a * G + g``) of this year's tabulation."""

    known: np.ndarray  # published last year and unchanged: the attacker knows this year's value
    hidden: np.ndarray  # suppressed last year and unchanged: publishing it would reveal last year's
    sensitive: np.ndarray  # published last year, changed by 1..threshold-1 structures
    change: np.ndarray  # this year's secret value minus last year's (sums, counts: true values)
    changed: np.ndarray  # number of structures of the row's group whose contribution changed


def _codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    codes: np.ndarray = frame[column].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return codes


def group_membership(frame: pd.DataFrame, keys: pd.DataFrame) -> sp.csr_matrix:
    """Groups (``keys``: level, territory, breakdown, category) × structures of ``frame``.

    ``frame`` needs the columns of every level and breakdown named in ``keys``; a structure
    with a missing breakdown value belongs to that breakdown's ``non_renseigne`` category,
    as in :func:`senacs_workbench.disclosure.tabulate.build_layout`.
    """
    n = len(frame)
    index = {tuple(k): i for i, k in enumerate(keys[["level", "territory", "breakdown", "category"]].itertuples(
        index=False, name=None))}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    structures = np.arange(n)
    for (level, breakdown), _ in keys.groupby(["level", "breakdown"], sort=False):
        missing = [c for c in (level, breakdown) if c and c != "national" and c not in frame.columns]
        if missing:
            raise TabulationError(
                f"Microdonnées de l'année précédente : colonne(s) manquante(s) {', '.join(missing)}."
            )
        territory = np.full(n, NATIONAL_CODE, dtype=object) if level == "national" else _codes(frame, level)
        if breakdown:
            category = _codes(frame, breakdown)
            category = np.where(category == "", MISSING_CATEGORY, category)
        else:
            category = np.full(n, "", dtype=object)
        gid = np.fromiter(
            (index.get((level, t, breakdown, c), -1) if t else -1
             for t, c in zip(territory.tolist(), category.tolist(), strict=True)),
            dtype=np.int64,
            count=n,
        )
        ok = gid >= 0
        rows.append(gid[ok])
        cols.append(structures[ok])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(keys), n))


def _contributions(tab: Tabulation, previous: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Last year's contribution of each structure of ``previous`` to each of this year's answers,
    and whether it answered."""
    question = tab.question
    if question.type.is_numeric:
        values = numeric_values(previous, question)
        return np.where(np.isnan(values), 0.0, values)[:, None], ~np.isnan(values)
    answers, answered, matrix = answer_matrix(previous, question)
    out = np.zeros((len(previous), len(tab.answers)))
    for j, answer in enumerate(tab.answers):
        if answer in answers:
            out[:, j] = matrix[:, answers.index(answer)]
    return out, answered


def _changes(tab: Tabulation, previous: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(number of structures of the group whose contribution to any answer changed, change of
    the value) per secret row."""
    layout = tab.layout
    now_ids = np.asarray(layout.structure_ids, dtype=object)
    before_ids = _codes(previous, "structure_id")
    union = np.array(sorted(set(now_ids.tolist()) | set(before_ids.tolist())), dtype=object)
    pos = {s: i for i, s in enumerate(union.tolist())}
    now_at = np.array([pos[s] for s in now_ids.tolist()], dtype=np.int64)
    before_at = np.array([pos[s] for s in before_ids.tolist()], dtype=np.int64)
    n_union = len(union)

    def spread(columns: np.ndarray) -> sp.csr_matrix:  # structures of one year → union columns
        return sp.csr_matrix((np.ones(len(columns)), (np.arange(len(columns)), columns)),
                             shape=(len(columns), n_union))

    member_now = (layout.membership @ spread(now_at)).tocsr()
    member_before = (group_membership(previous, layout.keys) @ spread(before_at)).tocsr()
    # one column per answer, and a last one: whether the structure answered (a respondent
    # answering 0 where nobody answered last year changes no sum, but it is a new respondent)
    A = len(tab.answers)
    unit_now = np.zeros((n_union, A + 1))
    unit_now[now_at, :A] = tab.unit_values
    unit_now[now_at, A] = tab.answered
    unit_before = np.zeros((n_union, A + 1))
    contributions, answered_before = _contributions(tab, previous)
    unit_before[before_at, :A] = contributions
    unit_before[before_at, A] = answered_before
    scale = max(1.0, float(np.abs(tab.unit_values).max(initial=0.0)))
    G = layout.n_groups
    change = np.zeros((len(tab.answers), G))
    moved = sp.csr_matrix((G, n_union))
    for a in range(A + 1):
        diff = (member_now @ sp.diags(unit_now[:, a]) - member_before @ sp.diags(unit_before[:, a])).tocsr()
        diff.data[np.abs(diff.data) <= 1e-9 * scale] = 0.0
        diff.eliminate_zeros()
        if a < A:
            change[a] = np.asarray(diff.sum(axis=1)).ravel()
        moved = moved + abs(diff)
    # the structures of a group whose contribution to ANY answer changed: for a categorical
    # question, an unchanged answer row is as telling as a changed one (with one leaver and the
    # "non" count unchanged, the leaver said "oui")
    changed = np.tile(np.diff(moved.tocsr().indptr).astype(float), len(tab.answers))
    return changed, change.reshape(-1)


def temporal_constraints(
    tab: Tabulation,
    secret_keys: pd.DataFrame,
    previous: pd.DataFrame,
    previous_release: pd.DataFrame,
    min_contributors: int,
) -> TemporalConstraints:
    """Compare this year's tabulation with last year's microdata and released cells.

    ``secret_keys`` are the key columns of this year's secret rows; ``previous_release`` the
    cells released last year for this variable (key columns and ``status``).
    """
    n_rows = len(secret_keys)
    released = previous_release.drop_duplicates(subset=list(KEY_COLUMNS), keep="last")
    at = pd.MultiIndex.from_frame(released[list(KEY_COLUMNS)].astype(str)).get_indexer(
        pd.MultiIndex.from_frame(secret_keys[list(KEY_COLUMNS)].astype(str))
    )
    found = at >= 0
    status = np.full(n_rows, "", dtype=object)
    status[found] = released["status"].astype(str).to_numpy()[at[found]]
    published_before = found & (status == PUBLISHABLE)
    suppressed_before = found & (status != PUBLISHABLE)
    changed, change = _changes(tab, previous)
    unchanged = changed == 0
    return TemporalConstraints(
        known=published_before & unchanged,
        hidden=suppressed_before & unchanged,
        sensitive=published_before & (changed > 0) & (changed < min_contributors),
        change=change,
        changed=changed,
    )
