"""The approval rule of charter 3.1, stated once and applied by both zones.

A steering committee's decision (release a bundle, publish a plaquette, withdraw a release)
holds when the approvals recorded with it include a valid Ed25519 signature of the exact hash
(:mod:`.signatures`) by a Caf member and by a federation member of *that territory's* committee,
as named, with their keys, by the governance in force (:mod:`.governance_chain`). The
institution counted is the governance's, never the one written in the approval. An approval
is a mapping ``{user, name, institution, time, <hash field>, signature: {statement, signature,
public_key}}``; approvals that are unsigned, signed over another hash, territory or kind, or
signed by someone who is not on that committee do not count.

The trust zone applies the rule when it records approvals and releases
(:mod:`senacs_workbench.trust.committee_approval`); the committee side when it reads
(:mod:`senacs_workbench.released.published`, the plaquette publisher, ``senacs compare add``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import missing_institutions as missing_from
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.governance import Member
from senacs_workbench.core.governance_chain import GovernanceChain, committee_of, valid_signers
from senacs_workbench.core.signatures import SignedStatement


def verified_approvals(approvals: Iterable[Mapping[str, Any]], kind: str, territory: geo.Territory,
                       hash_field: str, digest: str, committee: Sequence[Member]) -> list[dict[str, Any]]:
    """The approvals that prove ``kind`` on ``digest`` for ``territory`` by a member of ``committee``.

    Each counted once per member; ``institution`` and ``name`` are taken from the governance. The
    signatures are checked by :func:`senacs_workbench.core.governance_chain.valid_signers`, which
    also checks the governance's own adoptions.
    """
    kept: dict[str, dict[str, Any]] = {}
    for approval in approvals:
        raw = approval.get("signature")
        if approval.get(hash_field) != digest or not isinstance(raw, Mapping):
            continue
        try:
            statement = SignedStatement.from_dict(raw)
        except SenacsError:
            continue
        if statement.user != str(approval.get("user", "")):  # the approval names its signer
            continue
        for member in valid_signers([statement], kind, territory.key, digest, committee):
            kept[member.user] = {**dict(approval), "name": member.name, "institution": member.institution}
    return list(kept.values())


def missing_institutions(verified: Iterable[Mapping[str, Any]]) -> list[str]:
    """The required institutions that no verified approval comes from."""
    return missing_from(a.get("institution") for a in verified)


def committee_for(chain: GovernanceChain, territory: geo.Territory) -> tuple[Member, ...]:
    """``territory``'s committee in the governance in force (the chain's head)."""
    return committee_of(chain.head.governance, territory)


def approval_state(approvals: Iterable[Mapping[str, Any]], kind: str, territory: geo.Territory, hash_field: str,
                   digest: str, chain: GovernanceChain) -> tuple[list[dict[str, Any]], list[str]]:
    """The verified approvals of ``digest`` and the institutions still missing."""
    verified = verified_approvals(approvals, kind, territory, hash_field, digest, committee_for(chain, territory))
    return verified, missing_institutions(verified)
