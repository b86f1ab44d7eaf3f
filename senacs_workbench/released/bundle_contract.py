"""The published bundle's contract and its place on disk (shared by the writer and the reader).

This module imports nothing from the raw-data side: the published reader, dashboards and
the plaquette may import it.

Layout under a workspace's ``published/``::

    drafts/<year>/                       the bundle awaiting approval
        senacs_<year>.parquet
        manifest.json
    released/<year>/v<k>/                released bundles (k = 1, 2, … per data version released)
        senacs_<year>.parquet
        manifest.json                    with the approvals that released it
    comparisons/<territory>/<year>/v<k>/ released bundles of other territories, added for comparison

The long table has :data:`COLUMNS` (DESIGN.md); suppressed cells have a null ``value``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

COLUMNS: Final = (
    "year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category", "value", "n", "status",
)
SCHEMA: Final = pa.schema(
    [
        ("year", pa.int32()),
        ("variable", pa.string()),
        ("statistic", pa.string()),
        ("answer", pa.string()),
        ("level", pa.string()),
        ("territory", pa.string()),
        ("breakdown", pa.string()),
        ("category", pa.string()),
        ("value", pa.float64()),
        ("n", pa.int64()),
        ("status", pa.string()),
    ]
)
MANIFEST: Final = "manifest.json"
DRAFTS: Final = "drafts"
RELEASED: Final = "released"
COMPARISONS: Final = "comparisons"
BUNDLE_FORMAT: Final = 1


def table_name(year: int) -> str:
    return f"senacs_{year}.parquet"


DIRECTORY_COLUMNS: Final = ("nom_structure", "code_commune", "commune", "departement", "type_structure",
                            "mode_gestion")
"""The public directory of structures released with a bundle (identity data published on senacs.fr:
name, commune, département, type, management mode — the plaquette's list and commune map)."""


def directory_name(year: int) -> str:
    return f"annuaire_{year}.csv"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(bundle_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((bundle_dir / MANIFEST).read_text(encoding="utf-8"))
    return loaded


def bundle_hash(manifest: dict[str, Any]) -> str:
    """The identity of a bundle: its files' hashes and its content description, not its approvals."""
    body = {k: v for k, v in manifest.items() if k not in ("approvals", "state", "released_at", "bundle_hash")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def version_folders(folder: Path, holding: str | None = None) -> list[Path]:
    """The version folders (``v1``, ``v2``…) in ``folder``, oldest first; with ``holding``, only
    those that hold that file."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()]
    if holding is not None:
        found = [p for p in found if (p / holding).exists()]
    return sorted(found, key=lambda p: int(p.name[1:]))


def released_versions(root: Path, year: int) -> list[Path]:
    """Released bundle folders of ``year`` under ``root`` (``published/released`` or a comparison), oldest first."""
    return version_folders(root / str(year))
