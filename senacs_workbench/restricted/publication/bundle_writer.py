"""Write a protected cell table as a draft bundle in ``published/drafts/<year>/``, atomically.

Input: the cell table from the disclosure-control engine (true values and statuses, restricted
zone). Every value whose status is not ``V`` is blanked here, before anything touches the
published zone, and the function refuses a table whose audit did not pass. The bundle is
written into a temporary folder beside the target and renamed into place, so a reader sees
the old draft or the new one, never a part.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import write_bytes_atomic
from senacs_workbench.released.bundle_contract import (
    BUNDLE_FORMAT,
    COLUMNS,
    DRAFTS,
    MANIFEST,
    SCHEMA,
    bundle_hash,
    table_name,
)

COMMITTEE_LEVELS = ("national", "region", "departement")
PUBLISHED_SUPPRESSED = "D"
"""The status of every suppressed cell in a written bundle (the contract's "masked" code)."""


class PublicationRefused(SenacsError):
    """The table may not leave the restricted zone."""


@dataclass(frozen=True)
class BundleDescription:
    year: int
    territory: str
    data_version: int
    rules_hash: str
    audit_summary: dict[str, Any]
    audit_ok: bool
    created_by: str
    panel_years: tuple[int, int] | None = None
    """The constant panel's period when the bundle has the ``panel_constant`` breakdown."""
    audit_anchor: dict[str, Any] | None = None
    """The audit log's head when the draft was written (signed with the bundle: see trust/audit_log.py)."""


def public_table(cells: pd.DataFrame, levels: tuple[str, ...] = COMMITTEE_LEVELS) -> pd.DataFrame:
    """The cells as they may be published: only ``levels``, values blanked unless status ``V``."""
    unknown = set(cells["level"]) - set(levels)
    if unknown:
        raise PublicationRefused(
            f"Des niveaux non autorisés dans ce jeu de tableaux ({', '.join(sorted(unknown))}) : "
            "les vues infra-départementales ne vont jamais dans le jeu du comité."
        )
    frame = cells.loc[:, list(COLUMNS)].copy()
    frame["value"] = frame["value"].astype("float64").where(frame["status"].eq("V"))
    # One code for every suppressed cell: why a cell is hidden is itself information. With the
    # rule set public (it ships with the package), "A" on an answer count would say "1 or 2"
    # (or "0 or all" in a small group) and, combined with the published margins, pin hidden
    # counts exactly (attack A15). The reasons (A, B, D, R) stay in the restricted zone.
    frame["status"] = frame["status"].where(frame["status"].eq("V"), PUBLISHED_SUPPRESSED)
    for column in ("answer", "breakdown", "category"):
        frame[column] = frame[column].fillna("").astype(str)
    frame = frame.sort_values(["variable", "statistic", "answer", "level", "territory", "breakdown", "category"],
                              kind="stable").reset_index(drop=True)
    return frame


def write_suppression_reasons(restricted: Path, year: int, bundle_hash: str, cells: pd.DataFrame) -> Path:
    """Keep the engine's status of every suppressed cell (A frequency, B dominance, D secondary,
    R review) in the restricted zone, beside the bundle that shows them all as one code:
    ``restricted/publication/<year>/reasons-<bundle hash>.parquet``."""
    keys = ["variable", "statistic", "answer", "level", "territory", "breakdown", "category"]
    hidden = cells.loc[cells["status"] != "V", [*keys, "status"]].copy()
    for column in ("answer", "breakdown", "category"):
        hidden[column] = hidden[column].fillna("").astype(str)
    buffer = io.BytesIO()
    hidden.reset_index(drop=True).to_parquet(buffer, index=False)
    target = restricted / "publication" / str(year) / f"reasons-{bundle_hash}.parquet"
    write_bytes_atomic(target, buffer.getvalue(), mode=0o600)  # owner-only, like the rest of restricted/
    return target


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def write_bundle(folder: Path, cells: pd.DataFrame, description: BundleDescription,
                 levels: tuple[str, ...] = COMMITTEE_LEVELS, state: str = "draft",
                 extra_files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Write ``cells`` (protected, audited) as a bundle in ``folder``; return the manifest.

    ``extra_files`` (name → bytes) join the bundle and its manifest's hashes, so approvals cover them.
    """
    if not description.audit_ok:
        raise PublicationRefused(
            f"L'audit du secret statistique de la campagne {description.year} a trouvé des cellules "
            "insuffisamment protégées : rien n'est publié."
        )
    frame = public_table(cells, levels)
    data = parquet_bytes(frame)
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "year": description.year,
        "territory": description.territory,
        "levels": list(levels),
        "data_version": description.data_version,
        "rules_hash": description.rules_hash,
        "audit": description.audit_summary,
        "files": {table_name(description.year): hashlib.sha256(data).hexdigest(),
                  **{name: hashlib.sha256(body).hexdigest() for name, body in (extra_files or {}).items()}},
        "cells": len(frame),
        "suppressed": int((frame["status"] != "V").sum()),
        "variables": int(frame["variable"].nunique()),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "created_by": description.created_by,
        "state": state,
        "approvals": [],
    }
    if description.panel_years is not None:
        manifest["panel_years"] = list(description.panel_years)
    if description.audit_anchor is not None:
        manifest["audit_anchor"] = dict(description.audit_anchor)
    manifest["bundle_hash"] = bundle_hash(manifest)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    write_bytes_atomic(tmp / table_name(description.year), data)
    for name, body in (extra_files or {}).items():
        write_bytes_atomic(tmp / name, body)
    write_bytes_atomic(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode())
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    if old.exists():
        shutil.rmtree(old)
    return manifest


def write_draft(published: Path, cells: pd.DataFrame, description: BundleDescription,
                extra_files: dict[str, bytes] | None = None) -> dict[str, Any]:
    return write_bundle(published / DRAFTS / str(description.year), cells, description, extra_files=extra_files)
