"""The published reader: released, protected aggregates only.

Dashboards, committee notebooks and the plaquette read data through this module and nothing
else. It takes the path of a ``published/`` folder (never a workspace: a Voilà process is
given that path alone), reads only bundles under ``released/`` (and released bundles added
for comparison), checks each table's hash against its manifest and that the manifest records
the approvals that released it — Ed25519 signatures of the bundle's hash by a Caf and a
federation member of its territory's committee, verified with the keys of the governance chain
the bundle carries (:mod:`senacs_workbench.core.committee_decisions`) — and returns pandas
DataFrames with suppressed cells as missing values plus their status.

It must never import the store, the importer or anything that reads the raw-data zone; a test
(tests/test_published_isolation.py) fails if it does.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import REQUIRED_PHRASE
from senacs_workbench.core.committee_decisions import approval_state
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.governance_chain import CHAIN_FILE, GovernanceChain, read_chain_document, verify_chain
from senacs_workbench.released.bundle_contract import (
    COLUMNS,
    COMPARISONS,
    DIRECTORY_COLUMNS,
    RELEASED,
    bundle_hash,
    directory_name,
    read_manifest,
    released_versions,
    sha256_file,
    table_name,
)

SUPPRESSED_MARK = "s"
LOCAL = "local"
WITHDRAWAL_FILE = "withdrawal.json"
"""Beside a released bundle: the committee's signed decision to withdraw it (written by the preparer's side)."""
GENESIS_PIN = "governance-genesis"
"""In ``comparisons/<territory>/``: the identity of that territory's governance chain, pinned at the first add."""


class BundleError(SenacsError):
    """A released bundle is missing, altered or not approved."""


@dataclass(frozen=True)
class ReleasedBundle:
    source: str
    year: int
    folder: Path
    manifest: dict[str, Any]

    @property
    def data_version(self) -> Any:
        return self.manifest.get("data_version")


@functools.lru_cache(maxsize=64)
def _verified_chain(path: Path, stamp: tuple[int, int]) -> GovernanceChain:
    """Verified once per file state (``stamp``: modification time and size): readers call it on every read."""
    return verify_chain(read_chain_document(path), str(path))


def bundle_chain(bundle_dir: Path) -> GovernanceChain:
    """The governance chain a released bundle carries, verified (a :class:`BundleError` otherwise)."""
    path = bundle_dir / CHAIN_FILE
    try:
        stat = path.stat()
        return _verified_chain(path, (stat.st_mtime_ns, stat.st_size))
    except FileNotFoundError as exc:
        raise BundleError(
            f"Le jeu de tableaux {bundle_dir} n'a pas de gouvernance signée ({CHAIN_FILE} absent) : "
            "il ne peut pas être lu."
        ) from exc
    except SenacsError as exc:
        raise BundleError(
            f"Le jeu de tableaux {bundle_dir} n'a pas de gouvernance signée valide : il ne peut pas être lu. "
            f"({exc})"
        ) from exc


def bundle_decision(bundle_dir: Path, manifest: dict[str, Any], approvals: list[dict[str, Any]], kind: str,
                    chain: GovernanceChain | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``approvals`` that are valid signatures of ``kind`` on the bundle's hash by its territory's
    committee in the governance the bundle carries, and the institutions still missing. The writer of
    a decision (a withdrawal) checks it here too, so that it holds exactly when the reader says so."""
    territory = geo.parse_territory(str(manifest.get("territory", "")))
    return approval_state(approvals, kind, territory, "bundle_hash", bundle_hash(manifest),
                          chain or bundle_chain(bundle_dir))


def verified_bundle_approvals(bundle_dir: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The approvals of a released bundle that are valid signatures by its territory's committee."""
    return bundle_decision(bundle_dir, manifest, manifest.get("approvals", []), "bundle")[0]


def is_withdrawn(bundle_dir: Path) -> bool:
    """Whether the bundle carries a withdrawal signed by a Caf and a federation member of its committee."""
    path = bundle_dir / WITHDRAWAL_FILE
    if not path.exists():
        return False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        _, missing = bundle_decision(bundle_dir, read_manifest(bundle_dir), record.get("approvals", []), "withdrawal")
    except (ValueError, SenacsError):
        return False  # an unsigned or unreadable withdrawal withdraws nothing
    return not missing


def _check(bundle_dir: Path, year: int, genesis: str | None = None) -> dict[str, Any]:
    manifest = read_manifest(bundle_dir)
    if manifest.get("state") != "released":
        raise BundleError(f"Le jeu de tableaux {bundle_dir} n'est pas validé par le comité : il ne peut pas être lu.")
    chain = bundle_chain(bundle_dir)
    if genesis is not None and chain.genesis != genesis:
        raise BundleError(
            f"Le jeu de tableaux {bundle_dir} est approuvé sous une gouvernance d'une autre identité que celle "
            "enregistrée pour ce territoire : il ne peut pas être lu."
        )
    _, missing = bundle_decision(bundle_dir, manifest, manifest.get("approvals", []), "bundle", chain)
    if missing:
        territory = geo.parse_territory(str(manifest.get("territory", "")))
        raise BundleError(
            f"Le jeu de tableaux {bundle_dir} n'a pas l'approbation signée {REQUIRED_PHRASE} "
            f"du comité de pilotage ({territory.name}) : il ne peut pas être lu (approbation absente, non signée, "
            "signée pour une autre empreinte ou par une personne qui n'est pas membre de ce comité)."
        )
    table = bundle_dir / table_name(year)
    expected = manifest.get("files", {}).get(table.name)
    if expected is None or sha256_file(table) != expected:
        raise BundleError(f"Le fichier {table} a été modifié depuis sa validation : il ne peut pas être lu.")
    return manifest


class PublishedReader:
    """Read released bundles from a ``published/`` folder."""

    def __init__(self, published_dir: Path | str) -> None:
        self.root = Path(published_dir)

    def _root_of(self, source: str) -> Path:
        if source == LOCAL:
            return self.root / RELEASED
        return self.root / COMPARISONS / source

    def _pin(self, source: str) -> str | None:
        pin = self._root_of(source) / GENESIS_PIN
        return pin.read_text(encoding="utf-8").strip() if source != LOCAL and pin.exists() else None

    def sources(self) -> list[str]:
        """``local`` and every territory added for comparison."""
        comparisons = self.root / COMPARISONS
        extra = sorted(p.name for p in comparisons.iterdir() if p.is_dir()) if comparisons.is_dir() else []
        return [LOCAL, *extra]

    def years(self, source: str = LOCAL) -> list[int]:
        root = self._root_of(source)
        if not root.is_dir():
            return []
        return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and self._served(root, int(p.name)))

    @staticmethod
    def _served(root: Path, year: int) -> list[Path]:
        """The released versions of ``year`` under ``root`` that are not withdrawn, oldest first."""
        return [folder for folder in released_versions(root, year) if not is_withdrawn(folder)]

    def bundle(self, year: int, source: str = LOCAL) -> ReleasedBundle:
        versions = self._served(self._root_of(source), year)
        if not versions:
            raise BundleError(f"Aucun jeu de tableaux validé pour la campagne {year} ({source}).")
        folder = versions[-1]
        return ReleasedBundle(source, year, folder, _check(folder, year, self._pin(source)))

    def versions(self, year: int, source: str = LOCAL) -> list[ReleasedBundle]:
        """Every released version of ``year`` from ``source`` (``v1``, ``v2``…, oldest first), each
        verified like :meth:`bundle` (approvals and table hash)."""
        return [ReleasedBundle(source, year, folder, _check(folder, year, self._pin(source)))
                for folder in self._served(self._root_of(source), year)]

    def directory(self, year: int, source: str = LOCAL) -> pd.DataFrame | None:
        """The public directory of structures released with the bundle of ``year`` (identity data:
        name, commune, département, type, management mode), or None for a bundle without one."""
        bundle = self.bundle(year, source)
        name = directory_name(year)
        expected = bundle.manifest.get("files", {}).get(name)
        if expected is None:
            return None
        path = bundle.folder / name
        if sha256_file(path) != expected:
            raise BundleError(f"Le fichier {path} a été modifié depuis sa validation : il ne peut pas être lu.")
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        return frame[[c for c in DIRECTORY_COLUMNS if c in frame.columns]]

    def table(
        self,
        year: int,
        *,
        source: str = LOCAL,
        level: str | list[str] | None = None,
        territory: str | None = None,
        variable: str | list[str] | None = None,
        breakdown: str | None = None,
        statistic: str | list[str] | None = None,
    ) -> pd.DataFrame:
        """The released long table of ``year``, filtered; suppressed cells have ``value`` NaN."""
        bundle = self.bundle(year, source)
        frame = _load_table(bundle.folder / table_name(year), bundle.manifest["files"][table_name(year)])
        filters: dict[str, Any] = {
            "level": level, "territory": territory, "variable": variable,
            "breakdown": breakdown, "statistic": statistic,
        }
        for column, wanted in filters.items():
            if wanted is None:
                continue
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            frame = frame[frame[column].isin(values)]
        return frame.reset_index(drop=True)


@functools.lru_cache(maxsize=32)
def _load_table(path: Path, expected_hash: str) -> pd.DataFrame:
    frame = pq.read_table(path).to_pandas()
    return frame[list(COLUMNS)]


def display_value(value: float | None, status: str) -> float | str | None:
    """The value shown to users: ``s`` for a suppressed cell (statistical confidentiality)."""
    return SUPPRESSED_MARK if status != "V" else value


CONFIDENTIALITY_FOOTNOTE = (
    "s : donnée soumise au secret statistique (trop peu de structures, ou une structure prépondérante, "
    "ou valeur qui permettrait d'en déduire une autre)."
)
