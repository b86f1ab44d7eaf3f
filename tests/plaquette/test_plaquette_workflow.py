"""Validation before publication: committee approvals bound to the PDF's hash, publication, states, demo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from plaquette_support import YEAR, needs_chromium, released_workspace

from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.release import demo_plaquettes
from senacs_workbench.released.plaquette.build import PlaquetteBuilder, draft_folder
from senacs_workbench.restricted.publication.plaquette import (
    PlaquetteError,
    all_territories,
    approve_plaquette,
    build_plaquette,
    plaquette_states,
    publish_plaquette,
    published_folder,
    render_states,
)
from senacs_workbench.trust.audit_log import entries, verify

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def builder() -> Iterator[PlaquetteBuilder]:
    with PlaquetteBuilder() as started:
        yield started


@pytest.fixture
def workspace(released: Workspace, builder: PlaquetteBuilder) -> Workspace:
    """The released workspace with a fresh draft of the Dordogne's plaquette."""
    build_plaquette(released, "24", YEAR, builder=builder)
    return released


def _actions(workspace: Workspace) -> list[str]:
    return [e["action"] for e in entries(workspace.audit_log_path)]


def _state(workspace: Workspace, slug: str) -> dict:  # type: ignore[type-arg]
    return next(s for s in plaquette_states(workspace) if s["territory"] == slug and s["year"] == YEAR)


def test_a_non_member_cannot_approve(workspace: Workspace) -> None:
    with pytest.raises(AccessDenied, match="n'est pas membre du comité de pilotage"):
        approve_plaquette(workspace, "24", YEAR, user="prep")  # the preparer is not on the committee
    with pytest.raises(AccessDenied, match="département Dordogne"):
        approve_plaquette(workspace, "24", YEAR, user="caf.demo")  # national committee, not the Dordogne's
    assert _actions(workspace)[-2:] == ["refused:approve_plaquette", "refused:approve_plaquette"]
    assert _state(workspace, "24")["state"] == "draft"


def test_one_approval_is_not_enough_then_publication_with_its_record(workspace: Workspace) -> None:
    first = approve_plaquette(workspace, "24", YEAR, user="caf.24")
    assert first.missing == ["federation"] and "il manque encore" in first.message_fr
    assert _state(workspace, "24")["state"] == "partially_approved"
    with pytest.raises(PlaquetteError, match=r"Publication refusée.*un membre fédération"):
        publish_plaquette(workspace, "24", YEAR)
    assert _actions(workspace)[-1] == "refused:publish_plaquette"
    assert not (published_folder(workspace, "24", YEAR) / "plaquette.pdf").exists()
    second = approve_plaquette(workspace, "24", YEAR, user="federation.24")
    assert second.missing == []
    assert _state(workspace, "24")["state"] == "approved"
    target = publish_plaquette(workspace, "24", YEAR)
    assert target == workspace.published / "plaquettes" / str(YEAR) / "24"
    digest = hashlib.sha256((target / "plaquette.pdf").read_bytes()).hexdigest()
    record = json.loads((target / "approval.json").read_text(encoding="utf-8"))
    assert record["pdf_sha256"] == digest == first.pdf_hash
    assert {(a["user"], a["institution"]) for a in record["approvals"]} == {("caf.24", "caf"),
                                                                          ("federation.24", "federation")}
    assert all(a["pdf_sha256"] == digest and a["time"] for a in record["approvals"])
    assert record["published_at"] and (target / "plaquette.html").exists()
    assert _state(workspace, "24")["state"] == "published"
    assert _actions(workspace)[-5:] == ["build_plaquette", "approve_plaquette", "refused:publish_plaquette",
                                        "approve_plaquette", "publish_plaquette"]
    verify(workspace.audit_log_path)


def test_a_rebuilt_plaquette_loses_its_approvals(workspace: Workspace, builder: PlaquetteBuilder) -> None:
    approve_plaquette(workspace, "24", YEAR, user="caf.24")
    approve_plaquette(workspace, "24", YEAR, user="federation.24")
    rebuilt = build_plaquette(workspace, "24", YEAR, builder=builder)
    last = entries(workspace.audit_log_path)[-1]
    assert last["action"] == "build_plaquette" and last["details"]["approvals_invalidated"] == 2
    assert last["details"]["pdf_sha256"] == rebuilt.pdf_hash
    state = _state(workspace, "24")
    assert state["state"] == "draft" and state["approvals"] == []
    with pytest.raises(PlaquetteError, match="un membre Caf et un membre fédération"):
        publish_plaquette(workspace, "24", YEAR)
    assert "brouillon" in render_states(plaquette_states(workspace))


def test_an_altered_pdf_can_be_neither_approved_nor_published(workspace: Workspace) -> None:
    approve_plaquette(workspace, "24", YEAR, user="caf.24")
    pdf = draft_folder(workspace.reports, "24", YEAR) / "plaquette.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"%")
    with pytest.raises(PlaquetteError, match="modifié depuis sa construction"):
        approve_plaquette(workspace, "24", YEAR, user="federation.24")
    with pytest.raises(PlaquetteError, match="modifié depuis sa construction"):
        publish_plaquette(workspace, "24", YEAR)
    assert _state(workspace, "24")["state"] == "altered"


def test_no_draft_no_approval(released: Workspace) -> None:
    with pytest.raises(PlaquetteError, match="Aucune plaquette construite"):
        approve_plaquette(released, "R75", 2023, user="caf.33")


def test_every_territory_has_a_plaquette_slug() -> None:
    territories = all_territories()
    assert len(territories) == 120 and territories[0] == "FR" and "R75" in territories and "2A" in territories


def test_demo_builds_approves_and_publishes_three_plaquettes(tmp_path: Path, builder: PlaquetteBuilder) -> None:
    workspace = released_workspace(tmp_path / "demo", demo=True, editos=())
    lines: list[str] = []
    published = demo_plaquettes(workspace, YEAR, echo=lines.append, builder=builder)
    assert [p.name for p in published] == ["FR", "R75", "24"]
    for folder in published:
        record = json.loads((folder / "approval.json").read_text(encoding="utf-8"))
        assert record["pdf_sha256"] == hashlib.sha256((folder / "plaquette.pdf").read_bytes()).hexdigest()
        assert {a["institution"] for a in record["approvals"]} == {"caf", "federation"}
        page = (folder / "plaquette.html").read_text(encoding="utf-8")
        assert "un réseau de proximité" in page and "Texte de démonstration" in page  # the demo's édito
        assert 'class="edito placeholder"' not in page
    assert [s["state"] for s in plaquette_states(workspace)] == ["published"] * 3
    assert any("publiée" in line for line in lines)
