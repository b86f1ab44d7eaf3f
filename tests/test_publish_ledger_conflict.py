"""A revision that conflicts with a release (``LedgerConflict``) withholds that question, named
with a French reason, while the rest of the year is published: no traceback, no stopped year."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.restricted.coherence import commands
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication import publish as publish_module
from senacs_workbench.restricted.publication.approval import approve, draft_dir
from senacs_workbench.restricted.store import RawDataStore

YEAR = 2025
QUESTIONS = ["budget_total", "salaries"]


@pytest.fixture
def released(national_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    paths = generate([YEAR], tmp_path / "incoming", seed=11, scale=0.02)  # ~80 structures: totals published
    import_file(national_workspace, next(p for p in paths if p.name == f"senacs_{YEAR}.csv"), YEAR)
    publish_module.publish_year(national_workspace, YEAR, workers=1, only=QUESTIONS)
    approve(national_workspace, YEAR, user="ccaf")
    assert approve(national_workspace, YEAR, user="ffed").released is not None
    return national_workspace


def test_a_conflicting_question_is_withheld_and_named_the_rest_published(released: Workspace,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = released
    # one structure's budget revised after the release: republishing the national total would
    # reveal that structure's change
    wide = RawDataStore(workspace).wide(YEAR, variables=["budget_total"]).dropna(subset=["budget_total"])
    structure, budget = wide.iloc[0]["structure_id"], int(wide.iloc[0]["budget_total"])
    commands.correct(workspace, structure, "budget_total", str(budget + 98_765), why="erreur confirmée", year=YEAR)
    real = publish_module.publish_year
    monkeypatch.setattr(publish_module, "publish_year",
                        lambda ws, year, **options: real(ws, year, workers=1, only=QUESTIONS))
    result = CliRunner().invoke(main, ["publish", "--year", str(YEAR), "--workspace", str(workspace.root)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "version 2 des données" in result.output
    assert "non publiée(s) faute de protection garantie : budget_total" in result.output
    assert "Question « budget_total », campagne 2025 : la nouvelle version des données modifie" in result.output
    assert "déjà publiée(s) (national FR" in result.output
    manifest = json.loads((draft_dir(workspace, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["withheld_variables"] == ["budget_total"]
    import pandas as pd

    cells = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    assert set(cells["variable"]) == {"salaries"}
