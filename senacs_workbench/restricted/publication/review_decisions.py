"""A person's decisions on the cells of status R: an append-only record in the restricted zone.

``restricted/publication/<year>/review-decisions.json`` holds every decision ever taken for the
year, in order (``seq``): the cell (id and key), « publier » or « masquer », the reason, the
author (the acting user), the time, the data version and the cell as reviewed (sum, respondents,
fingerprint of its contributions, :mod:`.review_cells`). A later decision on the same cell
supersedes the earlier one; both are kept. The file is rewritten whole, atomically and
owner-only, after checking that every earlier decision is still in it.

A decision applies only while its cell is unchanged (same fingerprint). One taken on a data
version whose correction changed the cell is *stale*: ignored (the cell stays suppressed) and
reported, until someone decides again. The independent release audit reads this file with its
own reader (:mod:`senacs_workbench.release_audit.review`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from senacs_workbench.core.atomic import write_text_atomic
from senacs_workbench.core.errors import SenacsError

FORMAT: Final = "senacs-review-decisions"
PUBLISH: Final = "publier"
SUPPRESS: Final = "masquer"
DECISIONS: Final = (PUBLISH, SUPPRESS)
FILE_MODE: Final = 0o600
CELL_FIELDS: Final = ("id", "variable", "answer", "level", "territory", "breakdown", "category")

ReviewKey = tuple[str, str, str, str, str]


def decisions_path(restricted: Path, year: int) -> Path:
    return restricted / "publication" / str(year) / "review-decisions.json"


def load_decisions(restricted: Path, year: int) -> list[dict[str, Any]]:
    """Every decision recorded for ``year``, oldest first (none: an empty list)."""
    path = decisions_path(restricted, year)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SenacsError(f"Registre des décisions de relecture illisible ({path}) : {exc}.") from exc
    if data.get("format") != FORMAT or data.get("year") != year:
        raise SenacsError(f"Registre des décisions de relecture invalide ({path}).")
    return list(data["decisions"])


def append_decisions(restricted: Path, year: int, new: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Append ``new`` decisions (cell fields, decision, reason, user, data_version, sum, n,
    fingerprint) after the recorded ones; return them numbered and timed. The caller holds the
    workspace lock (no two writers)."""
    earlier = load_decisions(restricted, year)
    seq = max((int(d["seq"]) for d in earlier), default=0)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    added = []
    for record in new:
        if record["decision"] not in DECISIONS or not str(record.get("reason", "")).strip():
            raise SenacsError("Décision de relecture invalide : « publier » ou « masquer », avec un motif.")
        seq += 1
        added.append({"seq": seq, "time": now, "year": year, **dict(record)})
    if not added:
        return []
    everything = [*earlier, *added]
    text = json.dumps({"format": FORMAT, "version": 1, "year": year, "decisions": everything},
                      ensure_ascii=False, indent=1, sort_keys=True)
    write_text_atomic(decisions_path(restricted, year), text + "\n", FILE_MODE)
    if load_decisions(restricted, year)[: len(earlier)] != earlier:  # never lose a decision
        raise SenacsError("Le registre des décisions de relecture a changé pendant l'écriture : recommencez.")
    return added


def latest(decisions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The decision in force for each cell id (the one recorded last)."""
    current: dict[str, dict[str, Any]] = {}
    for record in sorted(decisions, key=lambda d: int(d["seq"])):
        current[str(record["id"])] = dict(record)
    return current


def decisions_digest(decisions: Iterable[Mapping[str, Any]]) -> str:
    """A short hash of the decisions in force ("" when none): a draft records it, and publishing
    the same data version again is a no-op only while it is the same."""
    current = sorted((cell, d["decision"], str(d.get("fingerprint"))) for cell, d in latest(decisions).items())
    if not current:
        return ""
    return hashlib.sha256(json.dumps(current).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CurrentReview:
    """The decisions that apply to this data version, per question (for the engine), and those
    that do not: stale (the cell changed since) or moot (the cell no longer awaits review)."""

    reviewed: dict[str, dict[ReviewKey, bool]]
    stale: list[dict[str, Any]]
    pending: int
    digest: str = ""

    @property
    def stale_message_fr(self) -> str:
        if not self.stale:
            return ""
        shown = ", ".join(f"{d['id']} ({d['variable']}, {d['level']} {d['territory']})" for d in self.stale[:5])
        more = f" et {len(self.stale) - 5} autre(s)" if len(self.stale) > 5 else ""
        return (f" {len(self.stale)} décision(s) de relecture ignorée(s) : la cellule a changé depuis la décision "
                f"(données corrigées) ; elle reste masquée jusqu'à une nouvelle décision : {shown}{more} "
                "(« senacs secret list »).")


def current_review(cells: pd.DataFrame, decisions: Iterable[Mapping[str, Any]]) -> CurrentReview:
    """Match the decisions in force to the cells awaiting review now (:mod:`.review_cells`)."""
    decisions = list(decisions)
    fingerprints = dict(zip(cells["id"], cells["fingerprint"], strict=True))
    reviewed: dict[str, dict[ReviewKey, bool]] = {}
    stale = []
    for cell, record in latest(decisions).items():
        if cell not in fingerprints:
            continue  # the cell no longer has a negative contribution: nothing to decide
        if record.get("fingerprint") != fingerprints[cell]:
            stale.append(record)
            continue
        key = (str(record["answer"]), str(record["level"]), str(record["territory"]), str(record["breakdown"]),
               str(record["category"]))
        reviewed.setdefault(str(record["variable"]), {})[key] = record["decision"] == PUBLISH
    decided = sum(len(v) for v in reviewed.values())
    return CurrentReview(reviewed, stale, len(fingerprints) - decided, decisions_digest(decisions))
