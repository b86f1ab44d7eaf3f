"""A publication reads the raw data in one pass (issue 19, "back and forth"): one authorised
raw-data session — the access checked and written to the audit log once, the store opened once —
however many campaigns it reads (the constant panel's, last year's released microdata)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workspace_support import national_workspace_at

from senacs_workbench.core.codebook import BREAKDOWNS
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.restricted.constant_panel import set_panel_window
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.store import RawDataStore, connection, reading
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.access import RAW_ACTIONS

YEARS = (2024, 2025)
QUESTIONS = [*BREAKDOWNS, "salaries", "actions_jeunesse"]


@pytest.fixture(scope="module")
def two_campaigns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """2024 released, then a constant panel 2024–2025 set: publishing 2025 reads both campaigns."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SENACS_USER", "prep")
    root = tmp_path_factory.mktemp("one-pass")
    workspace = national_workspace_at(root / "ws")
    for path in generate(list(YEARS), root / "incoming", seed=5, scale=0.02):
        if path.suffix == ".csv" and path.name.startswith("senacs_"):
            import_file(workspace, path, int(path.stem.split("_")[1]))
    publish_year(workspace, 2024, only=QUESTIONS, workers=1)
    approve(workspace, 2024, user="ccaf")
    approve(workspace, 2024, user="ffed")
    set_panel_window(workspace, *YEARS)
    yield workspace
    mp.undo()


def _raw_accesses(workspace: Workspace, since: int) -> list[dict[str, Any]]:
    return [e for e in audit_log.entries(workspace.audit_log_path)[since:]
            if e["action"].removeprefix("refused:") in RAW_ACTIONS]


def test_a_publication_checks_the_access_once_and_opens_the_store_once(two_campaigns: Workspace,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[bool] = []
    real_open = connection._open

    def counting_open(workspace: Workspace, read_only: bool) -> Any:
        opened.append(read_only)
        return real_open(workspace, read_only)

    monkeypatch.setattr(connection, "_open", counting_open)
    before = len(audit_log.entries(two_campaigns.audit_log_path))
    outcome = publish_year(two_campaigns, 2025, only=QUESTIONS, workers=1)
    assert outcome.changed and "Panel constant 2024–2025" in outcome.message_fr  # both campaigns were read
    accesses = _raw_accesses(two_campaigns, before)
    assert [(e["action"], e["territory"], e["details"]["year"]) for e in accesses] == [("publish", "FR", 2025)]
    assert opened == [True]  # one read-only connection for the whole publication
    # the draft is recorded after the session, as before
    assert audit_log.entries(two_campaigns.audit_log_path)[-1]["action"] == "publish_draft"


def test_publishing_again_reads_no_answer(two_campaigns: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_year(two_campaigns, 2025, only=QUESTIONS, workers=1)
    before = len(audit_log.entries(two_campaigns.audit_log_path))

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("answers read although nothing changed")

    monkeypatch.setattr(reading, "_wide", no_read)
    outcome = publish_year(two_campaigns, 2025, only=QUESTIONS, workers=1)
    assert not outcome.changed
    assert len(_raw_accesses(two_campaigns, before)) == 1


def test_a_session_reads_only_within_its_territory(two_campaigns: Workspace) -> None:
    store = RawDataStore(two_campaigns, "prep")
    with store.session("publish", "departement:24", details={"year": 2025}) as raw:
        assert set(raw.wide(2025, variables=["type_structure"])["departement"]) <= {"24"}
        with pytest.raises(AccessDenied, match="hors du territoire autorisé"):
            raw.wide(2025, "region:11", variables=["type_structure"])


def test_a_refused_user_opens_no_session(two_campaigns: Workspace, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    opened: list[bool] = []
    monkeypatch.setattr(connection, "_open", lambda *a: opened.append(True))
    with pytest.raises(AccessDenied), RawDataStore(two_campaigns, "intrus").session("publish", "FR"):
        pass
    assert opened == []
    assert audit_log.entries(two_campaigns.audit_log_path)[-1]["action"] == "refused:publish"


def test_a_year_is_published_from_a_named_data_version(two_campaigns: Workspace) -> None:
    """``senacs publish --data-version``: an earlier version, recorded in the draft; an unknown one refused."""
    from click.testing import CliRunner

    from senacs_workbench.apps.cli import main
    from senacs_workbench.core.errors import SenacsError
    from senacs_workbench.released.bundle_contract import read_manifest
    from senacs_workbench.restricted.coherence.corrections import correct_answer
    from senacs_workbench.restricted.publication.approval import draft_dir

    structure = RawDataStore(two_campaigns, "prep").answers(2025, variables=["salaries"]).iloc[0]
    correct_answer(two_campaigns, 2025, str(structure["structure_id"]), "salaries", "7", why="test", user="prep")
    assert RawDataStore(two_campaigns, "prep").latest_version(2025) == 2
    with pytest.raises(SenacsError, match="n'a pas de version 9 des données"):
        publish_year(two_campaigns, 2025, only=QUESTIONS, workers=1, data_version=9)
    result = CliRunner().invoke(main, ["publish", "--year", "2025", "--data-version", "1", "--workspace",
                                       str(two_campaigns.root)], env={"SENACS_USER": "prep"})
    assert result.exit_code == 0, result.output
    assert read_manifest(draft_dir(two_campaigns, 2025))["data_version"] == 1
