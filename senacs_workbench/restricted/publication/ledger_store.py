"""The ledger of releases, kept in the restricted zone ("identical results may be released only once").

Each release copies the released table (published values and statuses) into
``restricted/ledger/<year>/`` and appends a line to ``restricted/ledger/index.jsonl``. The
disclosure-control engine reads it back (:func:`released_cells`) so that a later release of
the same year keeps released cells published and suppressed cells suppressed, and so that a
year's suppressions are cheap candidates the next year.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from senacs_workbench.core.workspace import Workspace, write_bytes_atomic
from senacs_workbench.released.bundle_contract import bundle_hash, table_name


def ledger_dir(workspace: Workspace) -> Path:
    return workspace.restricted / "ledger"


COMMITTEE_KIND = "committee"
AUTHORISED_KIND = "authorised"
"""Kinds of release: the committee bundle, the authorised (infra-départemental) bundle."""


def record_release(workspace: Workspace, year: int, folder: Path, manifest: dict[str, Any],
                   kind: str = COMMITTEE_KIND) -> Path:
    digest = bundle_hash(manifest)
    target = ledger_dir(workspace) / str(year) / f"{digest}.parquet"
    write_bytes_atomic(target, (folder / table_name(year)).read_bytes())
    entry = {
        "year": year,
        "bundle_hash": digest,
        "data_version": manifest.get("data_version"),
        "rules_hash": manifest.get("rules_hash"),
        "released_at": manifest.get("released_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "table": str(target.relative_to(ledger_dir(workspace))),
        "kind": kind,
    }
    index = ledger_dir(workspace) / "index.jsonl"
    with index.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    return target


def releases(workspace: Workspace, year: int | None = None) -> list[dict[str, Any]]:
    index = ledger_dir(workspace) / "index.jsonl"
    if not index.exists():
        return []
    entries = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [e for e in entries if year is None or e["year"] == year]


def committee_releases(workspace: Workspace, year: int) -> list[dict[str, Any]]:
    return [e for e in releases(workspace, year) if e.get("kind", COMMITTEE_KIND) == COMMITTEE_KIND]


def released_cells(workspace: Workspace, year: int) -> pd.DataFrame | None:
    """Every cell released for ``year`` so far, committee and authorised bundles alike (latest release
    last), or None if nothing was released."""
    frames = [
        pq.read_table(ledger_dir(workspace) / entry["table"]).to_pandas().assign(release=i)
        for i, entry in enumerate(releases(workspace, year))
    ]
    return pd.concat(frames, ignore_index=True) if frames else None
