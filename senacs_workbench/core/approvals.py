"""The approval rule of charter 3.1, stated once: a steering committee's decision needs one member
of the Caf and one of the federation, each approving the exact hash of what is released.

Both zones apply it: the trust zone when it records approvals and releases a bundle or a
plaquette (:mod:`senacs_workbench.trust.committee_approval`), the committee side when it reads a
released bundle (:mod:`senacs_workbench.released.published`). It lives in ``core`` because the
committee side may import nothing else. An approval is a mapping with at least ``user``,
``institution`` and the approved hash under a field named by the caller (``bundle_hash``,
``pdf_sha256``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PARTNER_INSTITUTIONS: tuple[str, ...] = ("caf", "federation")
"""The two institutions of the charter: each committee counts a member of both, a preparer is
designated by both, correspondents come from either."""
REQUIRED_INSTITUTIONS: tuple[str, ...] = PARTNER_INSTITUTIONS
"""Institutions whose approval a release needs (one valid approval of each)."""
INSTITUTION_LABELS: dict[str, str] = {"caf": "Caf", "federation": "fédération", "other": "autre"}
MISSING_LABELS: dict[str, str] = {i: f"un membre {INSTITUTION_LABELS[i]}" for i in REQUIRED_INSTITUTIONS}


def valid_approvals(approvals: Iterable[Mapping[str, Any]], hash_field: str, digest: str) -> list[dict[str, Any]]:
    """The approvals bound to ``digest`` (an approval of anything rebuilt or altered since does not count)."""
    return [dict(a) for a in approvals if a.get(hash_field) == digest]


def missing_institutions(valid: Iterable[Mapping[str, Any]]) -> list[str]:
    """The required institutions that no approval of ``valid`` comes from."""
    present = {a.get("institution") for a in valid}
    return [i for i in REQUIRED_INSTITUTIONS if i not in present]


def is_approved(approvals: Iterable[Mapping[str, Any]], hash_field: str, digest: str) -> bool:
    """Whether ``approvals`` hold a valid approval of ``digest`` from every required institution."""
    return not missing_institutions(valid_approvals(approvals, hash_field, digest))


def missing_phrase(missing: Iterable[str]) -> str:
    """``un membre Caf et un membre fédération`` (French)."""
    return " et ".join(MISSING_LABELS[m] for m in missing)


REQUIRED_PHRASE = "d'" + missing_phrase(REQUIRED_INSTITUTIONS).replace(" et un", " et d'un")
"""``d'un membre Caf et d'un membre fédération`` (French): who must approve."""
