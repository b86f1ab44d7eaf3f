"""Members' private keys: created and kept in the member's own home, never in a workspace.

``senacs keys init`` writes ``~/.config/senacs/keys/<user>.pem`` (``$XDG_CONFIG_HOME`` if set),
PKCS#8 PEM, the folder mode 0700 and the file 0600, optionally encrypted with a passphrase
(``BestAvailableEncryption``). It refuses a folder inside a SENACS workspace (the preparer's
account must never hold the committee's keys). The public key it prints goes in the governance
file under the member's ``key``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from senacs_workbench.core.atomic import write_bytes_atomic
from senacs_workbench.core.signatures import SignatureError, public_key_text


def default_key_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "senacs" / "keys"


def key_path(user: str, folder: Path | None = None) -> Path:
    return (folder or default_key_dir()) / f"{user}.pem"


def _inside_workspace(folder: Path) -> Path | None:
    for parent in (folder.resolve(), *folder.resolve().parents):
        if (parent / "workspace.yaml").exists():
            return parent
    return None


def init_key(user: str, folder: Path | None = None, passphrase: str | None = None) -> tuple[Path, str]:
    """Create ``user``'s key pair; return the private key's path and the public key text. Never overwrites."""
    target = key_path(user, folder)
    workspace = _inside_workspace(target.parent)
    if workspace is not None:
        raise SignatureError(
            f"Refusé : {target.parent} est dans l'espace de travail {workspace}. La clé privée d'un membre "
            "reste dans son propre dossier personnel (par défaut ~/.config/senacs/keys), jamais dans un espace."
        )
    if target.exists():
        raise SignatureError(f"Une clé existe déjà pour {user} ({target}) : elle n'est pas remplacée.")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
        else serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    write_bytes_atomic(target, pem, mode=0o600)
    return target, public_key_text(key.public_key())


def load_private_key(path: Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    """Read a member's private key; refuse one that others can read (French message)."""
    if not path.exists():
        raise SignatureError(f"Clé privée introuvable : {path} (créez-la avec « senacs keys init »).")
    if path.stat().st_mode & 0o077:
        raise SignatureError(
            f"La clé privée {path} est lisible par d'autres comptes : rendez-la privée (chmod 600 {path})."
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(),
                                                 passphrase.encode("utf-8") if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"La clé privée {path} est illisible ou la phrase de passe est fausse ({exc}).") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"La clé {path} n'est pas une clé Ed25519.")
    return key
