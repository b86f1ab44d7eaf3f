"""Ed25519 signatures of SENACS decisions: what is signed, how it is checked (charter 3.1).

A committee member decides by signing a *statement*: the kind of decision, the territory whose
committee decides, the SHA-256 of the exact thing decided, and the member's identifier::

    {"senacs": 1, "kind": "bundle", "territory": "departement:24", "hash": "<sha256>", "user": "caf.24"}

Kinds: ``bundle`` (approve a release bundle), ``plaquette`` (approve a plaquette PDF),
``governance`` (adopt a version of the governance file), ``withdrawal`` (withdraw a release).
The signature is over the statement's canonical JSON, so a signature of one bundle cannot be
replayed for another bundle, another territory, another kind of decision or another member.

Why Ed25519 with the ``cryptography`` package rather than SSH signatures: the verifier runs on
the committee side (the published reader, the dashboards) in-process and on every read; a
pure-library check with 32-byte public keys written in the governance file needs no
``ssh-keygen`` subprocess nor an allowed-signers file to keep in sync.

Demonstration keys: the demo's and the tests' fictitious committees have keys derived from the
member's identifier (:func:`demo_private_key`), so that anyone can sign as them. They are
accepted only in a governance marked ``demo: true`` (shown as such to readers); a real governance
that lists such a key is refused (:func:`is_demo_key`).

This module imports nothing of the package but :mod:`.errors`: the committee side verifies with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from senacs_workbench.core.errors import SenacsError

Kind = Literal["bundle", "plaquette", "governance", "withdrawal"]
KINDS: Final[tuple[str, ...]] = ("bundle", "plaquette", "governance", "withdrawal")
KEY_PREFIX: Final = "ed25519:"
STATEMENT_FORMAT: Final = 1
KIND_LABELS: Final[dict[str, str]] = {
    "bundle": "l'approbation du jeu de tableaux",
    "plaquette": "l'approbation de la plaquette",
    "governance": "l'adoption de la gouvernance",
    "withdrawal": "le retrait d'une publication",
}


class SignatureError(SenacsError):
    """A key or a signature cannot be read, or does not prove what it should."""


def public_key_text(key: Ed25519PublicKey) -> str:
    """``ed25519:<base64 of the 32 raw bytes>``: how a public key is written in the governance file."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def load_public_key(text: str, where: str = "") -> Ed25519PublicKey:
    """Parse ``ed25519:<base64>``; a French :class:`SignatureError` naming ``where`` otherwise."""
    prefix = f"{where} : " if where else ""
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise SignatureError(f"{prefix}clé publique illisible (attendu « {KEY_PREFIX}… »).")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{prefix}clé publique illisible ({exc}).") from exc


def demo_private_key(user: str) -> Ed25519PrivateKey:
    """The demonstration key of ``user``: derived from the identifier, so anyone can compute it."""
    seed = hashlib.sha256(b"senacs-workbench demonstration key\x00" + user.encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def is_demo_key(user: str, key_text: str) -> bool:
    """Whether ``key_text`` is ``user``'s derivable demonstration key (never valid outside a demo)."""
    return key_text == public_key_text(demo_private_key(user).public_key())


def statement(kind: str, territory: str, digest: str, user: str) -> dict[str, Any]:
    """The statement a member signs: this kind of decision, by this territory's committee, on this hash."""
    if kind not in KINDS:
        raise SignatureError(f"Type de décision inconnu : « {kind} ».")
    return {"senacs": STATEMENT_FORMAT, "kind": kind, "territory": territory, "hash": digest, "user": user}


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class SignedStatement:
    """A statement with its signature (base64) and the signer's public key (for display and lookup)."""

    statement: dict[str, Any]
    signature: str
    public_key: str

    @property
    def user(self) -> str:
        return str(self.statement.get("user", ""))

    def to_json(self) -> str:
        return json.dumps({"statement": self.statement, "signature": self.signature, "public_key": self.public_key},
                          ensure_ascii=False, indent=2, sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return {"statement": dict(self.statement), "signature": self.signature, "public_key": self.public_key}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "signature") -> SignedStatement:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("statement"), Mapping) \
                or not isinstance(raw.get("signature"), str):
            raise SignatureError(f"{where} : ce n'est pas une signature SENACS (statement, signature).")
        return cls(dict(raw["statement"]), raw["signature"], str(raw.get("public_key", "")))

    @classmethod
    def read(cls, path: Path) -> SignedStatement:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SignatureError(f"Le fichier de signature {path} n'existe pas.") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SignatureError(f"Le fichier de signature {path} est illisible ({exc}).") from exc
        return cls.from_dict(raw, where=str(path))


def sign(key: Ed25519PrivateKey, kind: str, territory: str, digest: str, user: str) -> SignedStatement:
    """Sign the statement (``kind``, ``territory``, ``digest``, ``user``) with ``key``."""
    body = statement(kind, territory, digest, user)
    signature = base64.b64encode(key.sign(_canonical(body))).decode("ascii")
    return SignedStatement(body, signature, public_key_text(key.public_key()))


def signature_valid(signed: SignedStatement, key_text: str) -> bool:
    """Whether ``signed`` is a valid signature of its statement by the key ``key_text``."""
    try:
        key = load_public_key(key_text)
        key.verify(base64.b64decode(signed.signature, validate=True), _canonical(signed.statement))
    except (SignatureError, InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def proves(signed: SignedStatement, kind: str, territory: str, digest: str, key_text: str | None) -> bool:
    """Whether ``signed`` is ``signed.user``'s valid signature (key ``key_text``) of exactly this decision."""
    expected = statement(kind, territory, digest, signed.user)
    return key_text is not None and dict(signed.statement) == expected and signature_valid(signed, key_text)
