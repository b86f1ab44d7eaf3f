"""Audiences of the outputs: who may read a rendered notebook, and where it is written.

- ``committee``: the steering committee and its guests; protected aggregates only (released
  bundles read through the published reader).
- ``centre``: one social centre alone; its own answers next to protected aggregates.
- ``restricted``: the designated preparer and the correspondents of the territory.

A notebook declares its audience in its metadata (``metadata.senacs.audience``); every
executed output records the audience it was written for, and lives under
``reports/<audience>/``. An output may be written for the notebook's own audience, and a
committee notebook (aggregates only) may also be given to any narrower audience; nothing else.
"""

from __future__ import annotations

from typing import Any, Final

COMMITTEE: Final = "committee"
CENTRE: Final = "centre"
RESTRICTED: Final = "restricted"
AUDIENCES: Final = (COMMITTEE, CENTRE, RESTRICTED)
AUDIENCE_LABELS: Final = {
    COMMITTEE: "comité de pilotage (données agrégées protégées)",
    CENTRE: "le centre concerné, et lui seul",
    RESTRICTED: "préparateur désigné et correspondants SENACS",
}
METADATA_KEY: Final = "senacs"


def declared_audience(notebook_metadata: dict[str, Any]) -> str | None:
    """The audience a notebook declares in its metadata, or None."""
    value = (notebook_metadata.get(METADATA_KEY) or {}).get("audience")
    return str(value) if value is not None else None


def may_publish_to(declared: str, output: str) -> bool:
    """Whether a notebook of audience ``declared`` may be rendered for audience ``output``."""
    if declared not in AUDIENCES or output not in AUDIENCES:
        return False
    return declared in (output, COMMITTEE)
