"""``publish_year`` withholds whole a question that the independent audit rejects (issue 4).

A small national synthetic year is imported; the audit is wrapped so that it rejects chosen
questions (patched where ``publication.protection`` imports it; ``workers=1`` keeps the protection in
this process, so the patch applies).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.disclosure import audit as disclosure_audit
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.restricted.publication.bundle_writer import PublicationRefused
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.publication.review import describe_releases

YEAR = 2025
QUESTIONS = ("actions_numerique", "budget_total", "salaries")
REJECTED = "budget_total"


@pytest.fixture
def imported(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    paths = generate([YEAR], tmp_path / "incoming", seed=11, scale=0.02)
    import_file(national_workspace, next(p for p in paths if p.name == f"senacs_{YEAR}.csv"), YEAR)
    return national_workspace


def reject(monkeypatch: pytest.MonkeyPatch, rejected: set[str]) -> list[str]:
    """Make the audit find an exact disclosure in every question of ``rejected``; return the audited questions."""
    real = disclosure_audit.audit
    audited: list[str] = []

    def audit(cells: pd.DataFrame, *args: object, **kwargs: object) -> disclosure_audit.AuditReport:
        report = real(cells, *args, **kwargs)
        variables = set(cells["variable"])
        audited.extend(sorted(variables))
        if not variables & rejected:
            return report
        finding = {column: None for column in disclosure_audit.PROBLEM_COLUMNS}
        finding.update(kind="exact_disclosure", severity="error", variable=min(variables & rejected),
                       statistic="sum", level="departement", territory="23", detail="test: rejected")
        problems = pd.concat([report.problems, pd.DataFrame([finding])], ignore_index=True)
        return disclosure_audit.AuditReport(problems, report.intervals, report.stats)

    monkeypatch.setattr(disclosure_audit, "audit", audit)
    return audited


def test_a_question_the_audit_rejects_is_withheld_whole_and_named(imported: Workspace,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    audited = reject(monkeypatch, {REJECTED})
    outcome = publish_year(imported, YEAR, workers=1, only=QUESTIONS)
    assert sorted(audited) == sorted(QUESTIONS)  # the patched audit judged every question

    folder = draft_dir(imported, YEAR)
    bundle = pd.read_parquet(folder / f"senacs_{YEAR}.parquet")
    assert set(bundle["variable"]) == set(QUESTIONS) - {REJECTED}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["withheld_variables"] == [REJECTED]
    assert manifest["audit"]["variables"] == manifest["variables"] == len(QUESTIONS) - 1
    assert manifest["audit"]["ok"] is True and manifest["audit"]["exact"] == 0  # what is published passed

    assert outcome.changed and outcome.audit["withheld_variables"] == [REJECTED]
    assert f"non publiée(s) faute de protection garantie : {REJECTED}" in outcome.message_fr
    assert "questions non publiées (protection non garantie par l'audit) : " + REJECTED in describe_releases(imported)


def test_when_the_audit_rejects_every_question_nothing_is_written(imported: Workspace,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    reject(monkeypatch, set(QUESTIONS))
    with pytest.raises(PublicationRefused, match=f"campagne {YEAR} n'accepte aucune question : rien n'est publié"):
        publish_year(imported, YEAR, workers=1, only=QUESTIONS)
    assert not draft_dir(imported, YEAR).exists()
    assert [p for p in imported.published.rglob("*") if p.is_file()] == []
