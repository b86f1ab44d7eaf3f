"""The coherence overview for ``notebooks/coherence_review.ipynb`` (preparer and correspondents).

:func:`coherence_overview` gathers the tables (findings by rule and severity, centres with most
findings, progress of resolution); :func:`display_overview` shows them with the restricted
banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.formatting import format_number, format_percent
from senacs_workbench.core.workspace import Workspace, open_workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.render import RESTRICTED_BANNER
from senacs_workbench.restricted.coherence.resolution import list_findings
from senacs_workbench.restricted.coherence.rules import SEVERITIES, SEVERITY_LABELS, load_catalogue
from senacs_workbench.restricted.coherence.scope import resolve_territory
from senacs_workbench.restricted.coherence.sheets import centre_summary

AUDIENCE = "restricted"


@dataclass(frozen=True)
class CoherenceOverview:
    year: int
    territory: str
    findings: int
    by_rule: pd.DataFrame
    top_centres: pd.DataFrame
    progress: pd.DataFrame
    share_resolved: float | None
    audience: str = AUDIENCE


def coherence_overview(
    workspace: Workspace | str | None, year: int, territory: str | None = None, *, top: int = 15
) -> CoherenceOverview:
    ws = (
        workspace
        if isinstance(workspace, Workspace)
        else open_workspace(None if workspace is None else Path(workspace))
    )
    place = resolve_territory(ws, territory)
    frame = list_findings(ws, year, territory=place)
    labels = {r.id: r.label for r in load_catalogue().rules}
    if frame.empty:
        by_rule = pd.DataFrame(columns=["Règle", *[SEVERITY_LABELS[s] for s in SEVERITIES], "Total"])
    else:
        pivot = frame.pivot_table(
            index="rule_id", columns="severity", values="finding_id", aggfunc="count", fill_value=0
        ).reindex(columns=list(SEVERITIES), fill_value=0)
        pivot["Total"] = pivot.sum(axis=1)
        pivot = pivot.sort_values("Total", ascending=False)
        by_rule = pivot.rename(columns=SEVERITY_LABELS).reset_index()
        by_rule.insert(0, "Règle", by_rule["rule_id"].map(labels).fillna(by_rule["rule_id"]))
        by_rule = by_rule.drop(columns="rule_id")
    top_centres = centre_summary(frame).head(top)
    counts = frame["status"].value_counts() if len(frame) else pd.Series(dtype=int)
    progress = pd.DataFrame(
        {"État": [fs.STATUS_LABELS[s] for s in fs.STATUSES], "Constats": [int(counts.get(s, 0)) for s in fs.STATUSES]}
    )
    resolved = int(sum(counts.get(s, 0) for s in fs.CLOSED))
    share = resolved / len(frame) if len(frame) else None
    return CoherenceOverview(
        year, f"{geo.LEVEL_LABELS[place.level]} {place.name}", len(frame), by_rule, top_centres, progress, share
    )


def banner_html() -> str:
    return (
        "<div style='background:#fde2e1;border-left:4px solid #c9191e;padding:6px 12px;font-weight:bold'>"
        f"{RESTRICTED_BANNER}</div>"
    )


def display_overview(overview: CoherenceOverview) -> None:
    """Show the overview in a notebook (the restricted banner first)."""
    from IPython.display import HTML, Markdown, display

    display(HTML(banner_html()))
    share = format_percent(overview.share_resolved) if overview.share_resolved is not None else "–"
    display(
        Markdown(
            f"## Contrôle de cohérence — campagne {overview.year}, {overview.territory}\n\n"
            f"{format_number(overview.findings)} constat(s) ; {share} résolus (confirmés, corrigés ou retirés)."
        )
    )
    sections: list[tuple[str, Any]] = [
        ("### Constats par règle et par gravité", overview.by_rule),
        ("### Structures ayant le plus de constats", overview.top_centres),
        ("### Avancement de la résolution", overview.progress),
    ]
    for title, table in sections:
        display(Markdown(title))
        display(HTML(table.to_html(index=False, border=0)) if len(table) else Markdown("_Aucun constat._"))
