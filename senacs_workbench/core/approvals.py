"""Who must approve (charter 3.1): one member of the Caf and one of the federation, and how it is said.

The rule itself — each approval a valid signature of the exact hash by a member of that
territory's committee — is :mod:`senacs_workbench.core.committee_decisions`.
"""

from __future__ import annotations

from collections.abc import Iterable

PARTNER_INSTITUTIONS: tuple[str, ...] = ("caf", "federation")
"""The two institutions of the charter: each committee counts a member of both, a preparer is
designated by both, correspondents come from either."""
REQUIRED_INSTITUTIONS: tuple[str, ...] = PARTNER_INSTITUTIONS
"""Institutions whose approval a release needs (one valid approval of each)."""
INSTITUTION_LABELS: dict[str, str] = {"caf": "Caf", "federation": "fédération", "other": "autre"}
MISSING_LABELS: dict[str, str] = {i: f"un membre {INSTITUTION_LABELS[i]}" for i in REQUIRED_INSTITUTIONS}


def missing_institutions(present: Iterable[str | None]) -> list[str]:
    """The required institutions absent from ``present`` (the institutions of valid signers)."""
    found = set(present)
    return [i for i in REQUIRED_INSTITUTIONS if i not in found]


def missing_phrase(missing: Iterable[str]) -> str:
    """``un membre Caf et un membre fédération`` (French)."""
    return " et ".join(MISSING_LABELS[m] for m in missing)


REQUIRED_PHRASE = "d'" + missing_phrase(REQUIRED_INSTITUTIONS).replace(" et un", " et d'un")
"""``d'un membre Caf et d'un membre fédération`` (French): who must approve."""
