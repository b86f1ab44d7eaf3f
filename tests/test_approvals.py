"""The approval rule (charter 3.1), stated once in ``core.approvals``: one valid Caf approval and
one valid federation approval of the exact hash."""

from __future__ import annotations

from typing import Any

import pytest

from senacs_workbench.core.approvals import (
    REQUIRED_PHRASE,
    is_approved,
    missing_institutions,
    missing_phrase,
    valid_approvals,
)

DIGEST = "a" * 64


def _approval(user: str, institution: str, digest: str = DIGEST) -> dict[str, Any]:
    return {"user": user, "institution": institution, "bundle_hash": digest}


@pytest.mark.parametrize("approvals", [
    [],
    [_approval("ccaf", "caf")],
    [_approval("ccaf", "caf"), _approval("ccaf2", "caf")],
    [_approval("ffed", "federation")],
    [_approval("autre", "other"), _approval("ffed", "federation")],
    [_approval("ccaf", "caf", "b" * 64), _approval("ffed", "federation")],  # approved something else
    [_approval("ccaf", "caf"), {"user": "ffed", "bundle_hash": DIGEST}],  # no institution
])
def test_caf_alone_federation_alone_others_or_stale_approvals_are_refused(approvals: list[dict[str, Any]]) -> None:
    assert not is_approved(approvals, "bundle_hash", DIGEST)
    assert missing_institutions(valid_approvals(approvals, "bundle_hash", DIGEST))


def test_one_caf_and_one_federation_approval_of_the_hash_approve() -> None:
    approvals = [_approval("ccaf", "caf"), _approval("autre", "other"), _approval("ffed", "federation")]
    assert is_approved(approvals, "bundle_hash", DIGEST)
    assert not is_approved(approvals, "pdf_sha256", DIGEST)  # the hash field is the caller's


def test_what_is_missing_is_said_in_french() -> None:
    assert missing_institutions([_approval("ccaf", "caf")]) == ["federation"]
    assert missing_phrase(["caf", "federation"]) == "un membre Caf et un membre fédération"
    assert REQUIRED_PHRASE == "d'un membre Caf et d'un membre fédération"
