"""The publish gate's independent audit of the union of releases (issue 16, attack A16–A18).

After the engine has protected each question, :func:`union_withheld` runs
:func:`senacs_workbench.release_audit.audit_union` on the new draft's cells (in their published
form: values blanked unless status V) together with every cell this workspace already released
for the year (the ledger) and every bundle added for comparison for that year
(``published/comparisons/*/<year>/v*/``). Every draft question it rejects is withheld whole;
since withholding a question changes the union, it runs again on the remaining questions until
nothing more is rejected.

Every question of the draft is audited (``every_question``, the default): a single question's
pattern can leak through what only the union shows, e.g. a cell hidden here and published by a
comparison bundle, or a margin the engine's model misses; and the engine protects the equality
groups of linked questions together (:mod:`senacs_workbench.disclosure.linked`), this gate being
the check that does not share its model, and the only one for the inequalities (``bounded_by``)
the engine does not hold. On the demo's national years (scale 1 and 0.02) the whole year takes
about 12 s on the 2-core machine, the relation groups alone about 3 s (measured December 2026,
see ``docs/release-audit.md``). ``every_question=False`` keeps the earlier scope: the questions
linked by a declared relation (and those they are linked to), and those whose sums have a
negative contribution or a cell a person decided to publish (status R, ``senacs secret
decide``). The union audit checks each published cell of status R against the decisions file,
which it reads itself (:func:`senacs_workbench.release_audit.read_review_publications`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.release_audit import audit_union, read_review_publications
from senacs_workbench.released.bundle_contract import COMPARISONS, released_versions, table_name

CONTRACT = ("year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category", "value", "n",
            "status")
COMMITTEE_LEVELS = ("national", "region", "departement")
REVIEW_FILE = "review-decisions.json"
"""The decisions on status R cells (written by ``senacs secret decide``), beside the bundle's reasons."""


def published_form(cells: pd.DataFrame) -> pd.DataFrame:
    """The engine's cells as a reader sees them: committee levels, values blanked unless V."""
    frame = cells.loc[cells["level"].isin(COMMITTEE_LEVELS), list(CONTRACT)].copy()
    frame["value"] = frame["value"].astype("float64").where(frame["status"].eq("V"))
    frame["status"] = np.where(frame["status"].eq("V"), "V", "D")
    return frame


def comparison_tables(workspace: Workspace, year: int) -> list[pd.DataFrame]:
    root = workspace.published / COMPARISONS
    if not root.exists():
        return []
    tables = []
    for territory in sorted(p for p in root.iterdir() if p.is_dir()):
        for folder in released_versions(territory, year):
            path = folder / table_name(year)
            if path.exists():
                tables.append(pd.read_parquet(path))
    return tables


def linked_questions(year: int, questions: Sequence[str]) -> list[str]:
    asked = set(questions)
    linked = {q for r in load_codebook(year).relations if asked & set(r.questions) for q in r.questions}
    return sorted(linked & asked)


def negative_questions(wide: pd.DataFrame, questions: Sequence[str]) -> list[str]:
    """The numeric questions among ``questions`` with a negative answer in ``wide``."""
    return sorted(q for q in questions if q in wide.columns
                  and (pd.to_numeric(wide[q], errors="coerce") < 0).any())


def audited_questions(year: int, wide: pd.DataFrame, asked: Sequence[str], every_question: bool,
                      decided: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The draft questions the gate audits: all of them, or (the earlier scope) the linked ones,
    the negative ones and those with a cell ``decided`` « publier »."""
    if every_question:
        return sorted(set(asked))
    return sorted(set(linked_questions(year, asked)) | set(negative_questions(wide, asked)) | set(decided))


def union_withheld(workspace: Workspace, year: int, wide: pd.DataFrame, drafts: Sequence[pd.DataFrame],
                   released: pd.DataFrame | None, *, every_question: bool = True) -> tuple[list[str], dict[str, Any]]:
    """Draft questions the union audit rejects (to withhold) and a summary for the manifest."""
    draft = pd.concat([published_form(d) for d in drafts], ignore_index=True) if drafts else None
    if draft is None or draft.empty:
        return [], {}
    asked = sorted(set(draft["variable"]))
    reviewed = read_review_publications(workspace.restricted / "publication" / str(year) / REVIEW_FILE, year)
    decided = set(reviewed["variable"]) & set(asked)  # a person decided to publish some of their cells
    audited = audited_questions(year, wide, asked, every_question, decided)
    if not audited:
        return [], {"union_audited_variables": []}
    others = [t for t in [released, *comparison_tables(workspace, year)] if t is not None and len(t)]
    codebook = load_codebook(year)
    withheld: list[str] = []
    summary: dict[str, Any] = {"union_audited_variables": audited, "union_rounds": 0, "union_seconds": 0.0}
    while True:
        kept = draft[draft["variable"].isin(audited) & ~draft["variable"].isin(withheld)]
        result = audit_union([kept, *others], wide, codebook, variables=[v for v in audited if v not in withheld],
                             exact=False, reviewed=reviewed)
        summary["union_rounds"] += 1
        summary["union_seconds"] = round(summary["union_seconds"] + result.seconds, 1)
        summary["union_exact_sensitive"] = len(result.exact_cells)
        rejected = [v for v in result.rejected_variables if v in set(kept["variable"])]
        if not rejected:
            break
        withheld += rejected
    if withheld:
        summary["union_withheld_variables"] = sorted(withheld)
    return sorted(withheld), summary
