from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import AccessDenied, GovernanceError
from senacs_workbench.core.governance import dump_governance, load_governance, parse_governance
from senacs_workbench.core.workspace import init_workspace
from senacs_workbench.demo.governance import demo_governance
from senacs_workbench.trust.access import require_raw_access
from senacs_workbench.trust.audit_log import entries
from senacs_workbench.trust.demo_keys import adopt_demo_governance


def _departement(committee: list[dict[str, Any]], designated_by: list[str]) -> dict[str, Any]:
    return {
        "territories": [
            {
                "territory": "departement:24",
                "committee": committee,
                "preparer": {"user": "prep", "name": "P", "designated_on": "2025-01-10",
                             "designated_by": designated_by},
                "correspondents": [{"user": "corr", "name": "C", "institution": "caf"}],
            }
        ]
    }


CAF = {"user": "a", "name": "A", "institution": "caf"}
FED = {"user": "b", "name": "B", "institution": "federation"}


def test_valid_departement_committee_loads() -> None:
    governance = parse_governance(_departement([CAF, FED], ["a", "b"]))
    dordogne = geo.territory("departement", "24")
    assert governance.raw_access_role("prep", dordogne) == "preparer"
    assert governance.raw_access_role("corr", dordogne) == "correspondent"
    assert governance.raw_access_role("a", dordogne) is None  # committee members never see raw data
    assert governance.raw_access_role("prep", geo.territory("departement", "33")) is None


def test_departement_committee_without_federation_is_refused() -> None:
    with pytest.raises(GovernanceError, match="il manque : fédération"):
        parse_governance(_departement([CAF], ["a"]))


def test_preparer_designated_by_caf_alone_is_refused() -> None:
    with pytest.raises(GovernanceError, match="collégialement"):
        parse_governance(_departement([CAF, FED], ["a"]))


def test_designation_by_non_member_is_refused() -> None:
    with pytest.raises(GovernanceError, match="pas membres"):
        parse_governance(_departement([CAF, FED], ["a", "b", "intrus"]))


def test_region_committee_needs_a_pair_mandated_by_each_departement() -> None:
    raw = yaml.safe_load(dump_governance(demo_governance("prep")))
    region = next(t for t in raw["territories"] if t["territory"] == "region:75")
    region["committee"] = [m for m in region["committee"] if m.get("mandated_by") != "87"
                           or m["institution"] != "federation"]
    with pytest.raises(GovernanceError, match=r"Haute-Vienne \(87\) : fédération"):
        parse_governance(raw)


def test_demo_governance_round_trips_and_gives_regional_reach() -> None:
    governance = demo_governance("prep")
    assert parse_governance(yaml.safe_load(dump_governance(governance))) == governance
    assert governance.raw_access_role("prep", geo.territory("departement", "87")) == "preparer"


def test_missing_file_gives_french_message(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match="n'existe pas"):
        load_governance(tmp_path / "governance.yaml")


def test_raw_access_is_logged_and_refusal_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = init_workspace(tmp_path / "ws", territory="24")
    workspace.governance_path.write_text(yaml.safe_dump(_departement([CAF, FED], ["a", "b"])))
    adopt_demo_governance(workspace)
    dordogne = geo.territory("departement", "24")
    monkeypatch.setenv("SENACS_USER", "prep")
    assert require_raw_access(workspace, "read_answers", dordogne, {"year": 2024}) == "prep"
    monkeypatch.setenv("SENACS_USER", "a")
    with pytest.raises(AccessDenied, match="Accès refusé : a n'est ni le préparateur"):
        require_raw_access(workspace, "read_answers", dordogne, {"year": 2024})
    log = entries(workspace.audit_log_path)
    assert [(e["user"], e["action"], e["territory"]) for e in log] == [
        ("prep", "read_answers", "departement:24"),
        ("a", "refused:read_answers", "departement:24"),
    ]
    assert log[0]["details"] == {"role": "preparer", "year": 2024}
