"""Comparisons: add released bundles published by another territory's workspace.

A département's workspace can compare its figures with its région and the nation without
holding their raw data: it copies their *released* bundles (verified: approved, hashes intact)
into ``published/comparisons/<territory>/<year>/v<k>/``, where the published reader finds them.
The national workspace can add a région's or a département's bundles the same way.

A compared bundle is also part of the ledger of the workspace's next release of that year
(:mod:`.compared`): the cells both hold are published exactly as released there, or the
question is withheld. So the order of publication across the hierarchy is free (see
docs/disclosure-control.md, "Releases across workspaces").

Each added bundle carries its committee's governance chain; the first add of a territory pins
the chain's identity (its first version's hash, :data:`GENESIS_PIN`), and a later bundle of the
same territory whose chain has another identity is refused (a governance rewritten from scratch
with other keys). The published reader checks the pin too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.core.workspace_lock import workspace_lock
from senacs_workbench.released.bundle_contract import COMPARISONS, read_manifest, released_versions
from senacs_workbench.released.published import GENESIS_PIN, PublishedReader, bundle_chain


def add_comparison(workspace: Workspace, source_published: Path) -> list[str]:
    """Copy every released bundle under ``source_published`` (a ``published/`` folder); return French lines.
    Holds the workspace lock (:mod:`senacs_workbench.core.workspace_lock`): no campaign reads the
    comparison bundles while they are added, no backup copies half of one."""
    with workspace_lock(workspace.root, f"l'ajout des jeux publiés de {source_published}"):
        return _add_comparison(workspace, source_published)


def _add_comparison(workspace: Workspace, source_published: Path) -> list[str]:
    if source_published.resolve() == workspace.published.resolve():
        raise SenacsError("Ce dossier est celui de l'espace de travail lui-même.")
    reader = PublishedReader(source_published)
    years = reader.years()
    if not years:
        raise SenacsError(f"Aucun jeu de tableaux publié dans {source_published}.")
    lines = []
    for year in years:
        bundle = reader.bundle(year)  # verifies approvals and hashes
        territory = str(bundle.manifest.get("territory", "FR")).replace(":", "-")
        target_root = workspace.published / COMPARISONS / territory
        genesis = bundle_chain(bundle.folder).genesis
        pin = target_root / GENESIS_PIN
        if pin.exists() and pin.read_text(encoding="utf-8").strip() != genesis:
            raise SenacsError(
                f"Refusé : le jeu {territory} {year} de {source_published} est approuvé sous une gouvernance "
                f"d'une autre identité ({genesis[:12]}…) que celle enregistrée au premier ajout "
                f"({pin.read_text(encoding='utf-8').strip()[:12]}…). Si le comité de ce territoire a réellement "
                f"recréé sa gouvernance, vérifiez l'empreinte avec lui puis supprimez {pin}."
            )
        existing = {read_manifest(p).get("bundle_hash") for p in released_versions(target_root, year)}
        if bundle.manifest.get("bundle_hash") in existing:
            lines.append(f"{territory} {year} : déjà présent, rien n'a changé.")
            continue
        versions = released_versions(target_root, year)
        target = target_root / str(year) / f"v{int(versions[-1].name[1:]) + 1 if versions else 1}"
        tmp = target.with_name(f".{target.name}.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(bundle.folder, tmp)
        tmp.rename(target)
        if not pin.exists():
            pin.write_text(genesis + "\n", encoding="utf-8")
        lines.append(f"{territory} {year} : ajouté pour comparaison ({target}).")
    return lines
