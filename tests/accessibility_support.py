"""axe-core in the real browser: the serious and critical violations of a page (RGAA / WCAG 2.1 AA rules)."""

from __future__ import annotations

import functools
from typing import Any

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = frozenset({"serious", "critical"})


@functools.cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def blocking_violations(page: Any, context: str | None = None) -> list[str]:
    """``rule: target`` of every violation of impact serious or critical on ``page`` (axe-core, WCAG 2.1 AA)."""
    results = _axe().run(page, context=context,
                         options={"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": AXE_TAGS}})
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = ", ".join(str(node.get("target")) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found
