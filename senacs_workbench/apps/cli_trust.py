"""Commands of trust: members' keys, signatures of decisions, the governance's adoption.

``senacs keys init`` / ``show``; ``senacs release sign`` and ``senacs plaquette sign`` (a member,
on their own machine, from the hash alone); ``senacs governance status`` / ``sign`` / ``adopt``.
Recording a signature is ``senacs release approve --signature`` and ``senacs plaquette approve
--signature`` (:mod:`senacs_workbench.apps.cli`). See docs/governance.md.
"""

from __future__ import annotations

from pathlib import Path

import click

from senacs_workbench.core import territories as geo
from senacs_workbench.core.signatures import KIND_LABELS, SignatureError, sign
from senacs_workbench.trust.identity import os_account
from senacs_workbench.trust.keys import default_key_dir, init_key, key_path, load_private_key


def _territory(text: str) -> geo.Territory:
    try:
        return geo.parse_territory(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--territory") from None


def _passphrase(asked: bool) -> str | None:
    return click.prompt("Phrase de passe", hide_input=True) if asked else None


@click.group(help="Clés de signature des membres du comité et du préparateur (Ed25519).")
def keys() -> None:
    pass


@keys.command(name="init", help="Créer sa paire de clés dans son dossier personnel (jamais dans un espace).")
@click.option("--user", default=None, help="Identifiant dans la gouvernance (par défaut : le compte du système).")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=f"Dossier des clés (par défaut : {default_key_dir()}).")
@click.option("--passphrase", "ask", is_flag=True, help="Protéger la clé privée par une phrase de passe.")
def keys_init(user: str | None, folder: Path | None, ask: bool) -> None:
    who = user or os_account()
    path, public = init_key(who, folder, click.prompt("Phrase de passe", hide_input=True,
                                                      confirmation_prompt=True) if ask else None)
    click.echo(f"Clé privée créée : {path} (lisible par vous seul ; ne la copiez dans aucun espace de travail).")
    click.echo("Clé publique à inscrire dans la gouvernance (champ « key ») :")
    click.echo(public)


@keys.command(name="show", help="Afficher sa clé publique.")
@click.option("--user", default=None, help="Identifiant (par défaut : le compte du système).")
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Dossier des clés.")
@click.option("--passphrase", "ask", is_flag=True, help="La clé privée est protégée par une phrase de passe.")
def keys_show(user: str | None, folder: Path | None, ask: bool) -> None:
    from senacs_workbench.core.signatures import public_key_text

    key = load_private_key(key_path(user or os_account(), folder), _passphrase(ask))
    click.echo(public_key_text(key.public_key()))


def sign_command(kind: str, help_text: str, name: str = "sign") -> click.Command:
    """``sign``: the member signs ``kind`` for a territory's committee on a hash; writes a signature file."""

    @click.command(name=name, help=help_text)
    @click.option("--territory", required=True, help="Territoire du comité : FR, region:75, departement:24…")
    @click.option("--hash", "digest", required=True, help="Empreinte SHA-256 de ce qui est approuvé.")
    @click.option("--user", default=None, help="Votre identifiant dans la gouvernance (par défaut : votre compte).")
    @click.option("--key", "key_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help="Votre clé privée (par défaut : celle de « senacs keys init »).")
    @click.option("--passphrase", "ask", is_flag=True, help="La clé privée est protégée par une phrase de passe.")
    @click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                  help="Fichier de signature à écrire (par défaut : dans le dossier courant).")
    def command(territory: str, digest: str, user: str | None, key_file: Path | None, ask: bool,
                output: Path | None) -> None:
        where = _territory(territory)
        who = user or os_account()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise SignatureError(f"Empreinte illisible : « {digest} » (64 caractères hexadécimaux attendus).")
        key = load_private_key(key_file or key_path(who), _passphrase(ask))
        signed = sign(key, kind, where.key, digest, who)
        target = output or Path(f"signature-{kind}-{where.key.replace(':', '-')}-{who}-{digest[:12]}.json")
        target.write_text(signed.to_json(), encoding="utf-8")
        click.echo(f"Signature de {who} pour {KIND_LABELS[kind]} ({where.name}, empreinte {digest[:12]}…) : {target}")
        click.echo("Transmettez ce fichier au préparateur ; il ne contient aucune clé privée.")

    return command


@click.group(help="Gouvernance signée : comité, préparateur et clés, adoptés par le comité.")
def governance() -> None:
    pass


governance.add_command(sign_command("governance", "Signer l'adoption d'une version de la gouvernance (membre)."))
