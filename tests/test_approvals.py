"""The approval rule (charter 3.1), stated once in ``core.committee_decisions``: a valid Ed25519
signature of the exact hash by a Caf member and by a federation member of that territory's
committee, with the keys of the governance. Forgeries of every kind do not count."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import REQUIRED_PHRASE, missing_phrase
from senacs_workbench.core.committee_decisions import missing_institutions, verified_approvals
from senacs_workbench.core.governance import Member
from senacs_workbench.core.signatures import public_key_text, sign

DIGEST = "a" * 64
DORDOGNE = geo.territory("departement", "24")
GIRONDE = geo.territory("departement", "33")
KEYS = {user: Ed25519PrivateKey.generate() for user in ("ccaf", "ffed", "autre", "intrus", "caf33")}
COMMITTEE_24 = (
    Member("ccaf", "Claire Caf", "caf", key=public_key_text(KEYS["ccaf"].public_key())),
    Member("ffed", "Fabien Fédé", "federation", key=public_key_text(KEYS["ffed"].public_key())),
    Member("autre", "Autre membre", "other", key=public_key_text(KEYS["autre"].public_key())),
)


def _approval(user: str, *, signer: str | None = None, digest: str = DIGEST, kind: str = "bundle",
              territory: geo.Territory = DORDOGNE, signed_digest: str | None = None,
              institution: str = "caf") -> dict[str, Any]:
    signed = sign(KEYS[signer or user], kind, territory.key, signed_digest or digest, user)
    return {"user": user, "institution": institution, "time": "2026-12-04T00:00:00+00:00",
            "bundle_hash": digest, "signature": signed.to_dict()}


def _verified(approvals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return verified_approvals(approvals, "bundle", DORDOGNE, "bundle_hash", DIGEST, COMMITTEE_24)


def test_one_signed_caf_and_one_signed_federation_approval_approve() -> None:
    verified = _verified([_approval("ccaf"), _approval("autre"), _approval("ffed", institution="caf")])
    assert not missing_institutions(verified)
    # the institution counted is the governance's, not the one the approval claims
    assert {a["user"]: a["institution"] for a in verified} == {"ccaf": "caf", "autre": "other", "ffed": "federation"}


UNSIGNED = {"user": "ffed", "institution": "federation", "bundle_hash": DIGEST}


@pytest.mark.parametrize("forged", [
    pytest.param(UNSIGNED, id="no signature"),
    pytest.param(_approval("ffed", signed_digest="b" * 64), id="signature over another hash"),
    pytest.param(_approval("ffed", signer="intrus"), id="key not on the committee"),
    pytest.param(_approval("ffed", territory=GIRONDE), id="signed for another territory"),
    pytest.param(_approval("ffed", kind="plaquette"), id="signed for a plaquette, not a bundle"),
    pytest.param(_approval("caf33", institution="federation"), id="member of another committee"),
    pytest.param({**_approval("ffed"), "signature": {**_approval("ffed")["signature"], "signature": "AAAA"}},
                 id="altered signature"),
])
def test_a_forged_approval_does_not_count(forged: dict[str, Any]) -> None:
    verified = _verified([_approval("ccaf"), forged])
    assert [a["user"] for a in verified] == ["ccaf"]
    assert missing_institutions(verified) == ["federation"]


def test_a_signature_of_another_member_under_ones_own_name_does_not_count() -> None:
    # ccaf signs a statement naming ffed: the statement's user is ffed but the key is ccaf's
    forged = _approval("ffed", signer="ccaf")
    assert missing_institutions(_verified([forged])) == ["caf", "federation"]


def test_what_is_missing_is_said_in_french() -> None:
    assert missing_institutions(_verified([_approval("ccaf")])) == ["federation"]
    assert missing_phrase(["caf", "federation"]) == "un membre Caf et un membre fédération"
    assert REQUIRED_PHRASE == "d'un membre Caf et d'un membre fédération"
