"""Draft bundles, committee approval bound to the bundle's hash, release, and the published reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.demo.governance import demo_governance
from senacs_workbench.released.published import BundleError, PublishedReader
from senacs_workbench.restricted.publication.approval import ApprovalError, approve, draft_dir
from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, PublicationRefused, write_draft
from senacs_workbench.restricted.publication.ledger_store import released_cells
from senacs_workbench.trust.audit_log import entries
from senacs_workbench.trust.demo_keys import adopt_demo_governance

YEAR = 2024


def _cells(budget_fr: float = 1000.0) -> pd.DataFrame:
    rows = [
        (YEAR, "budget_total", "sum", "", "national", "FR", "", "", budget_fr, 12, "V"),
        (YEAR, "budget_total", "sum", "", "departement", "24", "", "", 400.0, 2, "A"),
        (YEAR, "budget_total", "sum", "", "departement", "33", "", "", 600.0, 10, "D"),
        (YEAR, "budget_total", "respondents", "", "national", "FR", "", "", 12.0, 12, "V"),
    ]
    return pd.DataFrame(rows, columns=["year", "variable", "statistic", "answer", "level", "territory", "breakdown",
                                       "category", "value", "n", "status"])


def _description(audit_ok: bool = True) -> BundleDescription:
    return BundleDescription(YEAR, "FR", 1, "r" * 64, {"suppressed": 2, "exact": 0}, audit_ok, "prep")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws")
    ws.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(ws)
    return ws


def test_draft_blanks_suppressed_values_and_is_not_readable(workspace: Workspace) -> None:
    write_draft(workspace.published, _cells(), _description())
    draft = pd.read_parquet(draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet")
    assert draft.loc[draft.status != "V", "value"].isna().all()
    assert 400.0 not in draft.value.tolist() and 600.0 not in draft.value.tolist()
    assert set(draft["status"]) == {"V", "D"}  # the reason of a suppression (A, D…) is not published
    with pytest.raises(BundleError, match="Aucun jeu de tableaux validé"):
        PublishedReader(workspace.published).table(YEAR)


def test_failed_audit_or_infra_levels_never_reach_the_published_zone(workspace: Workspace) -> None:
    with pytest.raises(PublicationRefused, match="audit"):
        write_draft(workspace.published, _cells(), _description(audit_ok=False))
    infra = _cells().assign(level="epci")
    with pytest.raises(PublicationRefused, match="infra-départementales"):
        write_draft(workspace.published, infra, _description())
    assert not draft_dir(workspace, YEAR).exists()


def test_one_caf_approval_is_not_enough_then_federation_releases(workspace: Workspace,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_draft(workspace.published, _cells(), _description())
    first = approve(workspace, YEAR, user="caf.demo")
    assert first.released is None and first.missing == ["federation"]
    assert "il manque encore" in first.message_fr
    second = approve(workspace, YEAR, user="federation.demo")
    assert second.released is not None and second.released.name == "v1"
    table = PublishedReader(workspace.published).table(YEAR, variable="budget_total", statistic="sum")
    assert table.set_index("territory").loc["FR", "value"] == 1000.0
    # one code for every suppressed cell: the reason (A, here) stays in the restricted zone
    assert table.set_index("territory").loc["24", ["value", "status"]].tolist()[1] == "D"
    assert pd.isna(table.set_index("territory").loc["24", "value"])
    ledger = released_cells(workspace, YEAR)
    assert ledger is not None and len(ledger) == 4
    actions = [e["action"] for e in entries(workspace.audit_log_path)]
    assert actions == ["approve_bundle", "approve_bundle", "release_bundle"]


def test_non_member_cannot_approve(workspace: Workspace) -> None:
    write_draft(workspace.published, _cells(), _description())
    with pytest.raises(AccessDenied, match="n'est pas membre du comité"):
        approve(workspace, YEAR, user="prep")
    assert entries(workspace.audit_log_path)[-1]["action"] == "refused:approve_bundle"


def test_rebuilt_bundle_loses_its_approvals(workspace: Workspace) -> None:
    write_draft(workspace.published, _cells(), _description())
    approve(workspace, YEAR, user="caf.demo")
    write_draft(workspace.published, _cells(budget_fr=1001.0), _description())
    outcome = approve(workspace, YEAR, user="federation.demo")
    assert outcome.released is None and outcome.missing == ["caf"]


def test_altered_table_cannot_be_approved_nor_read(workspace: Workspace) -> None:
    write_draft(workspace.published, _cells(), _description())
    approve(workspace, YEAR, user="caf.demo")
    table = draft_dir(workspace, YEAR) / f"senacs_{YEAR}.parquet"
    table.write_bytes(table.read_bytes() + b"x")
    with pytest.raises(ApprovalError, match="ne correspond plus"):
        approve(workspace, YEAR, user="federation.demo")


def test_reader_refuses_a_released_table_altered_afterwards(workspace: Workspace) -> None:
    write_draft(workspace.published, _cells(), _description())
    approve(workspace, YEAR, user="caf.demo")
    released = approve(workspace, YEAR, user="federation.demo").released
    assert released is not None
    frame = pd.read_parquet(released / f"senacs_{YEAR}.parquet")
    frame.loc[frame.territory == "24", "value"] = 400.0
    frame.to_parquet(released / f"senacs_{YEAR}.parquet")
    with pytest.raises(BundleError, match="modifié depuis sa validation"):
        PublishedReader(workspace.published).table(YEAR)


def test_comparison_bundle_from_another_workspace_is_readable(workspace: Workspace, tmp_path: Path) -> None:
    from senacs_workbench.restricted.publication.comparisons import add_comparison

    write_draft(workspace.published, _cells(), _description())
    approve(workspace, YEAR, user="caf.demo")
    approve(workspace, YEAR, user="federation.demo")
    local = init_workspace(tmp_path / "dordogne", territory="departement:24")
    lines = add_comparison(local, workspace.published)
    assert lines == [f"FR {YEAR} : ajouté pour comparaison ({local.published}/comparisons/FR/{YEAR}/v1)."]
    assert add_comparison(local, workspace.published) == [f"FR {YEAR} : déjà présent, rien n'a changé."]
    reader = PublishedReader(local.published)
    assert reader.sources() == ["local", "FR"]
    national = reader.table(YEAR, source="FR", territory="FR", statistic="sum")
    assert national.value.tolist() == [1000.0]


def test_release_show_lists_draft_with_changes_since_release(workspace: Workspace) -> None:
    from senacs_workbench.restricted.publication.review import describe_releases, release_records

    write_draft(workspace.published, _cells(), _description())
    approve(workspace, YEAR, user="caf.demo")
    approve(workspace, YEAR, user="federation.demo")
    write_draft(workspace.published, _cells(budget_fr=999.0), _description())
    records = release_records(workspace)
    assert [r["state"] for r in records] == ["released", "draft"]
    assert records[1]["changes_since_release"]["value_changed"] == 1
    assert records[1]["missing_approvals"] == ["caf", "federation"]
    text = describe_releases(workspace)
    assert "EN ATTENTE D'APPROBATION" in text and "1 valeurs modifiées" in text
