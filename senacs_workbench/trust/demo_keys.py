"""Demonstration committees sign with derivable keys: the demo and the tests, never a real workspace.

:func:`adopt_demo_governance` marks a workspace's governance file ``demo: true``, gives every
person without a key their demonstration key (:func:`senacs_workbench.core.signatures.demo_private_key`)
and adopts the file as the next version of the signed chain, signed by the demonstration keys of a
Caf and a federation member of the deciding committee. :func:`write_demo_keys` writes those private
keys as files, so that a demo user can try ``senacs release sign --key`` by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from senacs_workbench.core.atomic import write_bytes_atomic, write_text_atomic
from senacs_workbench.core.errors import GovernanceError
from senacs_workbench.core.governance import Governance, load_governance_text
from senacs_workbench.core.governance_chain import GovernanceChain, adopt, committee_of, pending
from senacs_workbench.core.signatures import demo_private_key, public_key_text, sign
from senacs_workbench.core.workspace import Workspace


def demo_key_text(user: str) -> str:
    return public_key_text(demo_private_key(user).public_key())


def _with_demo_keys(raw: dict[str, Any]) -> dict[str, Any]:
    raw = {"demo": True, **{k: v for k, v in raw.items() if k != "demo"}}
    for item in raw.get("territories") or []:
        people = [*(item.get("committee") or []), item.get("preparer") or {}, *(item.get("correspondents") or [])]
        for person in people:
            if person.get("user") and not person.get("key"):
                person["key"] = demo_key_text(str(person["user"]))
    return raw


def adopt_demo_governance(workspace: Workspace) -> GovernanceChain | None:
    """Make ``governance.yaml`` a signed demonstration governance in force (a no-op when it already is)."""
    path = workspace.governance_path
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    completed = _with_demo_keys(raw)
    if completed != raw:
        write_text_atomic(path, yaml.safe_dump(completed, allow_unicode=True, sort_keys=False))
    digest, chain = pending(path, workspace.territory)
    if chain is not None and chain.head.text == path.read_text(encoding="utf-8"):
        return chain
    deciders_of: Governance = chain.head.governance if chain is not None else load_governance_text(path)
    if chain is not None and not chain.head.governance.demo:
        raise GovernanceError("Refusé : la gouvernance en vigueur n'est pas une gouvernance de démonstration.")
    committee = committee_of(deciders_of, workspace.territory)
    signers = [next((m for m in committee if m.institution == i), None) for i in ("caf", "federation")]
    signatures = [sign(demo_private_key(m.user), "governance", workspace.territory.key, digest, m.user)
                  for m in signers if m is not None]
    return adopt(path, workspace.territory, signatures)


def write_demo_keys(folder: Path, governance: Governance) -> Path:
    """Write the demonstration private keys of every committee member as ``<user>.pem`` (mode 0600)."""
    from cryptography.hazmat.primitives import serialization

    folder.mkdir(parents=True, exist_ok=True)
    for entry in governance.territories:
        for member in entry.committee:
            pem = demo_private_key(member.user).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            write_bytes_atomic(folder / f"{member.user}.pem", pem, mode=0o600)
    return folder
