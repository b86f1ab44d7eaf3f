"""The governance file's signed history: no committee, preparer or key changes without the committee.

``governance.yaml`` (who is on each committee, who is the preparer, their public keys) is in
force only as the head of ``governance-chain.json`` beside it: a list of versions, each with the
file's text, the hash of the version before it, and the signatures that adopted it::

    {"format": 1, "territory": "departement:24",
     "versions": [{"version": 1, "text": "...", "text_sha256": "...", "previous": null,
                   "hash": "...", "adopted_at": "...", "signatures": [{statement, signature, public_key}]}]}

A version's ``hash`` is SHA-256 of ``previous:text_sha256``; members sign the statement
``governance`` / owner territory / that hash (:mod:`.signatures`). The first version is adopted
by a CAF member and a federation member of the committee it names for the workspace's own
territory (the owner); every later version by a CAF member and a federation member of the
owner's committee *in the version before it*, so a preparer who edits the file cannot make the
edit count, and a committee hands over to the next one by signing it in. A governance marked
``demo: true`` cannot follow a real one.

Each released bundle carries a copy of the chain (``governance-chain.json``), so that the
committee side verifies approvals against the keys in force without reading the workspace.
A chain rewritten from its first version with new keys is consistent by itself: it is caught
by comparing its first hash (:func:`GovernanceChain.genesis`) with one kept outside the
workspace (``senacs compare add`` pins it for each source; committee members keep it; see
docs/governance.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import INSTITUTION_LABELS, missing_institutions
from senacs_workbench.core.atomic import write_text_atomic
from senacs_workbench.core.errors import GovernanceError
from senacs_workbench.core.governance import Governance, Member, load_governance_text, parse_governance
from senacs_workbench.core.signatures import SignedStatement, proves

CHAIN_FILE: Final = "governance-chain.json"
CHAIN_FORMAT: Final = 1


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_hash(previous: str | None, text_hash: str) -> str:
    """The hash members sign to adopt a version: its text, chained to the version before it."""
    return hashlib.sha256(f"{previous or ''}:{text_hash}".encode("ascii")).hexdigest()


def chain_path(governance_path: Path) -> Path:
    return governance_path.with_name(CHAIN_FILE)


def _parse(text: str, where: str) -> Governance:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise GovernanceError(f"{where} : texte illisible ({exc}).") from exc
    return parse_governance(raw, source=where)


def committee_of(governance: Governance, owner: geo.Territory) -> tuple[Member, ...]:
    entry = governance.for_territory(owner)
    return entry.committee if entry else ()


def valid_signers(signatures: Iterable[SignedStatement], kind: str, territory: str, digest: str,
                  committee: Sequence[Member]) -> list[Member]:
    """The committee members whose signature in ``signatures`` proves this decision (each counted once)."""
    by_user = {m.user: m for m in committee}
    found: dict[str, Member] = {}
    for signed in signatures:
        member = by_user.get(signed.user)
        if member is not None and proves(signed, kind, territory, digest, member.key):
            found[member.user] = member
    return list(found.values())


@dataclass(frozen=True)
class Version:
    number: int
    text: str
    hash: str
    governance: Governance
    signers: tuple[Member, ...]
    adopted_at: str


@dataclass(frozen=True)
class GovernanceChain:
    """A verified chain: every version adopted by the committee of the version before it."""

    owner: geo.Territory
    versions: tuple[Version, ...]

    @property
    def head(self) -> Version:
        return self.versions[-1]

    @property
    def genesis(self) -> str:
        """The first version's hash: the chain's identity, to be kept outside the workspace."""
        return self.versions[0].hash

    def pending_hash(self, text: str) -> str:
        """The hash to sign to adopt ``text`` as the next version."""
        return version_hash(self.head.hash, text_sha256(text))


def verify_chain(document: Mapping[str, Any], source: str) -> GovernanceChain:
    """Check every version's hashes, text and adopting signatures; a French error names the first fault."""
    try:
        owner = geo.parse_territory(str(document.get("territory", "")))
    except ValueError as exc:
        raise GovernanceError(f"{source} : territoire de la gouvernance illisible ({exc}).") from exc
    raw_versions = document.get("versions") or []
    if not raw_versions:
        raise GovernanceError(f"{source} : aucune version adoptée de la gouvernance.")
    versions: list[Version] = []
    previous: Version | None = None
    for index, raw in enumerate(raw_versions, start=1):
        where = f"{source}, version {index} de la gouvernance"
        text = str(raw.get("text", ""))
        expected = version_hash(previous.hash if previous else None, text_sha256(text))
        if raw.get("version") != index or raw.get("previous") != (previous.hash if previous else None) \
                or raw.get("hash") != expected or raw.get("text_sha256") != text_sha256(text):
            raise GovernanceError(
                f"{where} : la chaîne est rompue (version modifiée, insérée ou retirée après son adoption)."
            )
        governance = _parse(text, where)
        if previous is not None and previous.governance.demo is False and governance.demo:
            raise GovernanceError(
                f"{where} : une gouvernance réelle ne peut pas devenir une gouvernance de démonstration.")
        deciders = committee_of(previous.governance if previous else governance, owner)
        signatures = [SignedStatement.from_dict(s, where) for s in raw.get("signatures") or []]
        signers = valid_signers(signatures, "governance", owner.key, expected, deciders)
        lacking = missing_institutions(m.institution for m in signers)
        if lacking:
            whose = "du comité qu'elle institue" if previous is None else "du comité de la version précédente"
            raise GovernanceError(
                f"{where} : elle n'est pas adoptée par les signatures valides d'un membre Caf et d'un membre "
                f"fédération {whose} ({geo.LEVEL_LABELS[owner.level]} {owner.name}) ; il manque : "
                f"{' et '.join(INSTITUTION_LABELS[i] for i in lacking)}. Toute modification du comité, du "
                "préparateur ou d'une clé doit être signée (« senacs governance sign » puis « adopt »)."
            )
        previous = Version(index, text, expected, governance, tuple(signers), str(raw.get("adopted_at", "")))
        versions.append(previous)
    return GovernanceChain(owner, tuple(versions))


def read_chain_document(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise GovernanceError(
            f"La gouvernance n'a pas de version adoptée ({path} absent) : le comité de pilotage doit signer "
            "le fichier de gouvernance (« senacs governance status », « senacs governance sign », puis "
            "« senacs governance adopt »)."
        )
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GovernanceError(f"Le fichier {path} est illisible ({exc}).") from exc
    return loaded


def _owner_of_workspace(governance_path: Path) -> str | None:
    config = governance_path.with_name("workspace.yaml")
    if not config.exists():
        return None
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    territory = raw.get("territory")
    return None if territory is None else geo.parse_territory(str(territory)).key


def verify_workspace_chain(governance_path: Path) -> GovernanceChain:
    """The workspace's chain, verified, whose head is exactly ``governance.yaml`` (else a French refusal)."""
    path = chain_path(governance_path)
    chain = verify_chain(read_chain_document(path), path.name)
    owner = _owner_of_workspace(governance_path)
    if owner is not None and owner != chain.owner.key:
        raise GovernanceError(
            f"{path.name} : la gouvernance a été adoptée pour {chain.owner.name}, pas pour le territoire de "
            "cet espace de travail."
        )
    text = governance_path.read_text(encoding="utf-8")
    if text_sha256(text) != text_sha256(chain.head.text):
        raise GovernanceError(
            f"Le fichier {governance_path} a été modifié depuis la version {chain.head.number} adoptée par le "
            "comité de pilotage : la modification ne compte pas tant que le comité ne l'a pas signée "
            f"(empreinte à signer : {chain.pending_hash(text)} ; « senacs governance sign » puis "
            "« senacs governance adopt »), ou rétablissez la version adoptée."
        )
    return chain


def adopt(governance_path: Path, owner: geo.Territory, signatures: Sequence[SignedStatement]) -> GovernanceChain:
    """Append ``governance.yaml``'s text as the next version, adopted by ``signatures``; refuse if they do not suffice.

    The first adoption creates the chain (signed by the committee the text names for ``owner``).
    """
    load_governance_text(governance_path)  # the text itself must be valid
    text = governance_path.read_text(encoding="utf-8")
    path = chain_path(governance_path)
    document: dict[str, Any] = (read_chain_document(path) if path.exists()
                                else {"format": CHAIN_FORMAT, "territory": owner.key, "versions": []})
    if document["versions"]:
        current = verify_chain(document, path.name)
        if text_sha256(text) == text_sha256(current.head.text):
            raise GovernanceError("Cette version de la gouvernance est déjà adoptée : rien à faire.")
        previous: str | None = current.head.hash
    else:
        previous = None
    document["versions"].append({
        "version": len(document["versions"]) + 1,
        "text": text,
        "text_sha256": text_sha256(text),
        "previous": previous,
        "hash": version_hash(previous, text_sha256(text)),
        "adopted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "signatures": [s.to_dict() for s in signatures],
    })
    chain = verify_chain(document, path.name)  # refuses before anything is written
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2))
    return chain


def pending(governance_path: Path, owner: geo.Territory) -> tuple[str, GovernanceChain | None]:
    """The hash to sign to adopt ``governance.yaml`` as it is now, and the current chain (None before the first)."""
    text = governance_path.read_text(encoding="utf-8")
    path = chain_path(governance_path)
    if not path.exists():
        return version_hash(None, text_sha256(text)), None
    chain = verify_chain(read_chain_document(path), path.name)
    return chain.pending_hash(text), chain
