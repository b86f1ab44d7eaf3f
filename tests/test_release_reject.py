"""``senacs release reject``: a rejected draft is recorded, leaves the published zone and can
never be approved, even put back by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import ApprovalError, approve, draft_dir
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.publication.rejection import RejectionError, reject_draft, rejections
from senacs_workbench.trust import audit_log

QUESTIONS = ["budget_total", "salaries"]


@pytest.fixture
def drafted(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "senacs_2024.csv"), YEAR)
    publish_year(national_workspace, YEAR, workers=1, only=QUESTIONS)
    assert (draft_dir(national_workspace, YEAR) / "manifest.json").exists()
    return national_workspace


def test_a_rejected_draft_is_recorded_and_can_never_be_approved(drafted: Workspace) -> None:
    workspace = drafted
    approve(workspace, YEAR, user="ccaf")  # one approval already: the rejection ends the draft anyway
    digest = json.loads((draft_dir(workspace, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    result = CliRunner().invoke(main, ["release", "reject", "--year", str(YEAR), "--reason",
                                       "tableaux à revoir après correction", "--workspace", str(workspace.root)],
                                env={"SENACS_USER": "ffed"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "rejeté par ffed, membre du comité (federation)" in result.output
    assert not draft_dir(workspace, YEAR).exists()
    [record] = rejections(workspace)
    assert record["reason"] == "tableaux à revoir après correction" and record["rejected_by"] == "ffed"
    kept = workspace.restricted / "rejected" / str(YEAR) / record["bundle_hash"]
    assert json.loads((kept / "manifest.json").read_text(encoding="utf-8"))["state"] == "rejected"
    entry = audit_log.entries(workspace.audit_log_path)[-1]
    assert entry["action"] == "reject_bundle" and entry["details"]["bundle_hash"] == record["bundle_hash"]
    assert digest["data_version"] == record["data_version"]

    with pytest.raises(ApprovalError, match="Aucun jeu de tableaux en attente"):
        approve(workspace, YEAR, user="ffed")
    # put back by hand: still refused, by its hash
    shutil.copytree(kept, draft_dir(workspace, YEAR))
    manifest_path = draft_dir(workspace, YEAR) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.pop("rejection")
    manifest["state"] = "draft"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RejectionError, match=r"a été rejeté le .* ne peut plus être approuvé"):
        approve(workspace, YEAR, user="ffed")
    assert not (workspace.published / "released").exists()


def test_only_the_committee_or_the_preparer_may_reject(drafted: Workspace) -> None:
    with pytest.raises(AccessDenied, match="Rejet refusé : corr"):
        reject_draft(drafted, YEAR, "pas d'accord", user="corr")
    assert (draft_dir(drafted, YEAR) / "manifest.json").exists()
    assert audit_log.entries(drafted.audit_log_path)[-1]["action"] == "refused:reject_bundle"
    outcome = reject_draft(drafted, YEAR, "erreur de préparation", user="prep")
    assert "préparateur désigné" in outcome.message_fr
    # a new publication gives a new draft, judged anew
    publish_year(drafted, YEAR, workers=1, only=QUESTIONS)
    assert (draft_dir(drafted, YEAR) / "manifest.json").exists()
