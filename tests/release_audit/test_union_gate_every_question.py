"""The publish gate audits every question, not only the linked ones (issue 16).

A small national year is imported and one question that no declared relation links
(``heures_benevolat``) is published. The engine is replaced by one whose model misses the
geographic margin: after its protection (and its own audit, which passed), every cell of the
question is published except one département's (a single centre's hours, all its statistics
hidden). That cell is the région's total minus its other départements: the independent union
audit must find it and the gate withhold the question, naming it. Before the gate audited every
question, only the linked questions (and those with negative answers) were audited, and this
draft was written as is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication import publish
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.restricted.publication.protection import ProtectedQuestion, QuestionJob
from senacs_workbench.restricted.publication.publish import publish_year

YEAR = 2025
QUESTION = "heures_benevolat"
OTHER = "actions_numerique"
KEY = ["answer", "level", "territory", "breakdown", "category"]


@pytest.fixture
def imported(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    paths = generate([YEAR], tmp_path / "incoming", seed=11, scale=0.02)
    import_file(national_workspace, next(p for p in paths if p.name == f"senacs_{YEAR}.csv"), YEAR)
    return national_workspace


def one_hidden_cell(cells: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``cells`` with every statistic published but those of one single-centre département."""
    sums = cells[(cells["statistic"] == "sum") & (cells["level"] == "departement") & (cells["breakdown"] == "")
                 & (cells["n"] == 1) & (cells["value"] > 0)]
    assert len(sums), "no single-centre département with hours to hide"
    target = sums.iloc[0]
    hidden = (cells[KEY] == target[KEY]).all(axis=1)
    return cells.assign(status=cells["status"].where(hidden, "V")), str(target["territory"])


def engine_missing_the_margin(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    real = publish.protect_questions
    hidden: list[str] = []

    def protect(jobs: Sequence[QuestionJob], workers: int | None = None, **kwargs: Any) -> list[ProtectedQuestion]:
        results = real(jobs, workers, **kwargs)
        out = []
        for result in results:
            if result.question_id == QUESTION:
                cells, territory = one_hidden_cell(result.cells)
                hidden.append(territory)
                result = ProtectedQuestion(result.question_id, cells, result.audit, result.audit_ok,
                                           result.rules_hash)
            out.append(result)
        return out

    monkeypatch.setattr(publish, "protect_questions", protect)
    return hidden


def test_an_unlinked_question_recoverable_through_a_margin_is_withheld_by_the_gate(
        imported: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(QUESTION in r.questions for r in load_codebook(YEAR).relations)
    hidden = engine_missing_the_margin(monkeypatch)
    outcome = publish_year(imported, YEAR, workers=1, only=[QUESTION, OTHER])
    assert hidden, "the engine was not called on the question"
    folder = draft_dir(imported, YEAR)
    bundle = pd.read_parquet(folder / f"senacs_{YEAR}.parquet")
    assert QUESTION not in set(bundle["variable"])
    assert OTHER in set(bundle["variable"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert QUESTION in manifest["audit"]["union_audited_variables"]
    assert manifest["audit"]["union_withheld_variables"] == [QUESTION]
    assert QUESTION in outcome.message_fr and "faute de protection garantie" in outcome.message_fr


def test_the_engine_as_released_publishes_the_unlinked_question(imported: Workspace) -> None:
    publish_year(imported, YEAR, workers=1, only=[QUESTION, OTHER])
    folder = draft_dir(imported, YEAR)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {QUESTION, OTHER} <= set(manifest["audit"]["union_audited_variables"])
    assert not manifest["audit"].get("union_withheld_variables")
    assert {QUESTION, OTHER} <= set(pd.read_parquet(folder / f"senacs_{YEAR}.parquet")["variable"])
