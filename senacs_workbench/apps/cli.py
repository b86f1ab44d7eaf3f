"""The ``senacs`` command (French help and messages).

Each subcommand is a thin wrapper: parse options, call one package function, print the
result in French. Errors deriving from :class:`SenacsError` are printed without traceback
and exit with status 2; so are click's own usage errors, translated (``apps/cli_errors.py``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from senacs_workbench.apps.cli_errors import usage_error
from senacs_workbench.apps.cli_trust import governance, keys, sign_command
from senacs_workbench.core.approvals import REQUIRED_INSTITUTIONS, missing_phrase
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import ENV_VAR, Workspace, default_workspace_path, open_workspace

F = TypeVar("F", bound=Callable[..., Any])


def parse_years(text: str) -> list[int]:
    """``2019-2025`` → 2019…2025; ``2019,2021`` → [2019, 2021]."""
    years: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                first, last = (int(p) for p in part.split("-", 1))
                years.extend(range(first, last + 1))
            elif part:
                years.append(int(part))
    except ValueError:
        raise click.BadParameter(f"années illisibles « {text} » (exemples : 2019-2025 ou 2019,2021)") from None
    if not years:
        raise click.BadParameter("aucune année indiquée")
    return sorted(set(years))


def workspace_option(func: F) -> F:
    """Add ``--workspace`` and pass an opened :class:`Workspace` as ``workspace``."""

    @click.option(
        "--workspace",
        "workspace_path",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help=f"Dossier de l'espace de travail (par défaut : ${ENV_VAR}, sinon ./senacs-workspace).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, workspace_path: Path | None, **kwargs: Any) -> Any:
        return func(*args, workspace=open_workspace(workspace_path or default_workspace_path()), **kwargs)

    return wrapper  # type: ignore[return-value]


HELP_TEXT = "Afficher cette aide et quitter."


class FrenchHelpCommand(click.Command):
    """A command whose ``--help`` option is described in French."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option


class SenacsGroup(click.Group):
    """Print :class:`SenacsError` messages in French, without a traceback; French ``--help``."""

    command_class = FrenchHelpCommand
    group_class = type

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SenacsError as exc:
            report_error(exc)
            sys.exit(2)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but its own usage errors (missing or invalid parameters, unknown options
        or commands, missing files) are printed in French like a :class:`SenacsError` (exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            report_error(usage_error(exc))
            sys.exit(2)
        except SenacsError as exc:
            report_error(exc)
            sys.exit(2)
        except click.Abort:
            click.echo("Interrompu.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def report_error(error: SenacsError) -> None:
    """Print a :class:`SenacsError` for the user: its French message, no traceback."""
    click.secho(f"Erreur : {error}", fg="red", err=True)


@click.group(cls=SenacsGroup, help="Atelier d'analyse des données SENACS (centres sociaux et EVS).")
@click.version_option(package_name="senacs-workbench", message="senacs-workbench %(version)s",
                      help="Afficher la version et quitter.")
def main() -> None:
    pass


@main.command(help="Créer un espace de travail (dossiers restricted/, published/, reports/).")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", default=None, help="Nom de l'espace de travail.")
@click.option("--territory", default="FR", show_default=True,
              help="Territoire de l'espace : FR, region:CODE ou departement:CODE.")
def init(directory: Path, name: str | None, territory: str) -> None:
    from senacs_workbench.core.territories import parse_territory
    from senacs_workbench.core.workspace import init_workspace

    try:
        parse_territory(territory)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--territory") from None
    workspace = init_workspace(directory, name=name, territory=territory)
    click.echo(f"Espace de travail créé : {workspace.root}")
    click.echo(f"  - {workspace.restricted} (données brutes, accès réservé au propriétaire)")
    click.echo(f"  - {workspace.published} (résultats agrégés et protégés)")
    click.echo(f"  - {workspace.reports} (rapports)")
    click.echo(
        f"Étape suivante : décrivez le comité de pilotage, le préparateur désigné et les correspondants "
        f"dans {workspace.governance_path} (voir docs/governance.md)."
    )


@main.command(help="Afficher l'état de l'espace de travail.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (pour les scripts).")
@workspace_option
def status(workspace: Workspace, as_json: bool) -> None:
    from senacs_workbench.apps.status import render_status, workspace_status

    state = workspace_status(workspace)
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render_status(state))


@main.command(help="Générer des fichiers d'export SENACS synthétiques (démonstration, tests).")
@click.option("--years", default="2019-2025", show_default=True, help="Campagnes : 2019-2025 ou 2019,2021.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Dossier où écrire les fichiers.")
@click.option("--seed", default=2024, show_default=True, help="Graine du générateur (résultats reproductibles).")
@click.option("--scale", default=1.0, show_default=True, help="Échelle (1 = France entière).")
def synth(years: str, out_dir: Path, seed: int, scale: float) -> None:
    from senacs_workbench.demo.synthetic import generate

    paths = generate(parse_years(years), out_dir, seed=seed, scale=scale)
    for path in paths:
        click.echo(f"Écrit : {path}")


@main.command(name="import", help="Importer un fichier d'export SENACS (CSV ou XLSX) dans l'espace restreint.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--year", type=int, required=True, help="Campagne (année de l'enquête).")
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Fichier YAML de correspondance des colonnes, pour une autre mise en page.")
@click.option("--partial", is_flag=True,
              help="Accepter les lignes valides et écrire les lignes rejetées dans un fichier à part.")
@click.option("--replace", is_flag=True,
              help="Le fichier remplace toute la campagne : les structures qu'il n'a pas en sortent.")
@click.option("--update", is_flag=True,
              help="Le fichier ne met à jour que ses structures : les autres sont gardées telles quelles.")
@workspace_option
def import_command(workspace: Workspace, file: Path, year: int, mapping: Path | None, partial: bool,
                   replace: bool, update: bool) -> None:
    from senacs_workbench.restricted.intake import import_file

    if replace and update:
        raise click.UsageError("--replace et --update s'excluent : choisissez l'un ou l'autre.")
    mode = "replace" if replace else "update" if update else None
    outcome = import_file(workspace, file, year, mapping=mapping, partial=partial, mode=mode)
    click.echo(outcome.message_fr)


@main.group(help="Journal d'audit des accès aux données brutes.")
def audit() -> None:
    pass


@audit.command(name="verify", help="Vérifier que le journal d'audit n'a pas été altéré (chaînage et ancres).")
@workspace_option
def audit_verify(workspace: Workspace) -> None:
    from senacs_workbench.restricted.publication.audit_anchors import workspace_anchors
    from senacs_workbench.trust.audit_log import verify

    anchors = workspace_anchors(workspace)
    result = verify(workspace.audit_log_path, anchors)
    click.echo(f"Journal d'audit intact : {result.entries} entrées, dernière empreinte {result.last_hash} ; "
               f"{len(anchors)} ancre(s) vérifiée(s) dans les jeux de tableaux signés.")


@audit.command(name="show", help="Afficher les dernières entrées du journal d'audit.")
@click.option("--last", default=20, show_default=True, help="Nombre d'entrées.")
@workspace_option
def audit_show(workspace: Workspace, last: int) -> None:
    from senacs_workbench.trust.audit_log import entries

    for entry in entries(workspace.audit_log_path)[-last:]:
        click.echo(
            f"{entry['seq']:>5}  {entry['time']}  {entry['user']:<20} {entry['action']:<24} {entry['territory']}"
        )


@main.command(help="Contrôle de cohérence d'une campagne (données brutes : préparateur et correspondants).")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--territory", default=None, help="Territoire (par défaut : celui de l'espace de travail).")
@workspace_option
def check(workspace: Workspace, year: int, territory: str | None) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.check(workspace, year, territory))


@main.group(help="Constats du contrôle de cohérence : lister, interroger les centres, clore.")
def findings() -> None:
    pass


@findings.command(name="list", help="Lister les constats (ouverts par défaut).")
@click.option("--year", type=int, default=None, help="Campagne.")
@click.option("--territory", default=None, help="Territoire.")
@click.option("--status", default=None, help="État : open, asked, confirmed, corrected, withdrawn.")
@click.option("--structure", default=None, help="Identifiant de la structure.")
@click.option("--rule", default=None, help="Identifiant de la règle.")
@click.option("--all", "show_all", is_flag=True, help="Tous les constats, y compris clos.")
@workspace_option
def findings_list(workspace: Workspace, year: int | None, territory: str | None, status: str | None,
                  structure: str | None, rule: str | None, show_all: bool) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.findings_list(workspace, year, territory, status, structure, rule, show_all))


@findings.command(name="ask", help="Écrire les fiches de questions aux centres et marquer les constats « interrogés ».")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--territory", default=None, help="Territoire.")
@click.option("--structure", "structures", multiple=True, help="Limiter à ces structures (option répétable).")
@click.option("--exchange", default=None, help="Référence de l'échange (courriel, réunion…).")
@workspace_option
def findings_ask(workspace: Workspace, year: int, territory: str | None, structures: tuple[str, ...],
                 exchange: str | None) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.findings_ask(workspace, year, territory, list(structures) or None, exchange))


@findings.command(name="resolve", help="Clore un constat : confirm (la réponse est juste) ou withdraw (retiré).")
@click.argument("finding_id", type=int)
@click.argument("outcome", type=click.Choice(["confirm", "confirmer", "withdraw", "retirer"]))
@click.option("--why", required=True, help="Motif (réponse du centre, explication).")
@click.option("--exchange", default=None, help="Référence de l'échange.")
@workspace_option
def findings_resolve(workspace: Workspace, finding_id: int, outcome: str, why: str, exchange: str | None) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.findings_resolve(workspace, finding_id, outcome, why=why, exchange=exchange))


@main.command(help="Corriger une réponse : crée une nouvelle version, l'originale reste lisible.")
@click.argument("structure")
@click.argument("variable")
@click.argument("value")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--why", required=True, help="Motif de la correction.")
@click.option("--finding", type=int, default=None, help="Constat corrigé.")
@click.option("--exchange", default=None, help="Référence de l'échange avec le centre.")
@click.option("--source", type=click.Choice(["centre", "caf", "federation"]), default="centre", show_default=True,
              help="Qui fournit la valeur corrigée.")
@workspace_option
def correct(workspace: Workspace, structure: str, variable: str, value: str, year: int, why: str,
            finding: int | None, exchange: str | None, source: str) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.correct(workspace, structure, variable, value, why=why, year=year, finding=finding,
                                exchange=exchange, source=source))


@main.group(help="Corrections reçues des centres.")
def corrections() -> None:
    pass


@corrections.command(name="import", help="Importer une fiche de questions remplie par un centre.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--year", type=int, default=None, help="Campagne.")
@click.option("--source", type=click.Choice(["centre", "caf", "federation"]), default="centre", show_default=True)
@workspace_option
def corrections_import(workspace: Workspace, file: Path, year: int | None, source: str) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.corrections_import(workspace, file, year=year, source=source))


@main.command(name="review-sheets", help="Fiches de relecture : valeurs saisies par la Caf ou la fédération.")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--territory", default=None, help="Territoire.")
@workspace_option
def review_sheets(workspace: Workspace, year: int, territory: str | None) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.review_sheets(workspace, year, territory))


@main.group(help="Droit de regard des centres sur les valeurs saisies pour eux.")
def review() -> None:
    pass


@main.group(help="Secret statistique : cellules à relire par une personne avant publication (statut R) — "
                 "lister, décider.")
def secret() -> None:
    pass


@secret.command(name="list", help="Lister les cellules à relire (statut R : somme avec une contribution négative), "
                                  "avec l'avis et la décision en vigueur (données restreintes).")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--xlsx", "xlsx", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Écrire aussi la liste dans ce fichier XLSX (lisible par vous seul ; à garder dans restricted/).")
@workspace_option
def secret_list(workspace: Workspace, year: int, xlsx: Path | None) -> None:
    from senacs_workbench.restricted.publication import cell_review

    frame = cell_review.review_list(workspace, year)
    click.echo(cell_review.render_list(frame, year))
    if xlsx is not None:
        click.echo(f"Liste écrite dans {cell_review.write_list_xlsx(frame, year, xlsx)}.")


@secret.command(name="decide", help="Décider de publier ou de masquer des cellules à relire (motif obligatoire) ; "
                                    "la décision s'applique à la prochaine « senacs publish ».")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--cell", "cells", multiple=True, metavar="ID", help="Cellule (identifiant de « senacs secret list », "
                                                                   "option répétable).")
@click.option("--publier", "decision", flag_value="publier", default=None, help="Publier la cellule.")
@click.option("--masquer", "decision", flag_value="masquer", help="Masquer la cellule.")
@click.option("--selon-avis", "follow_advice", is_flag=True,
              help="Appliquer l'avis à chaque cellule sans décision en vigueur (ou aux cellules --cell).")
@click.option("--motif", default="", help="Motif de la décision (obligatoire).")
@workspace_option
def secret_decide(workspace: Workspace, year: int, cells: tuple[str, ...], decision: str | None,
                  follow_advice: bool, motif: str) -> None:
    from senacs_workbench.restricted.publication.cell_review import decide

    click.echo(decide(workspace, year, list(cells), decision, motif, follow_advice=follow_advice))


@review.command(name="import", help="Importer une fiche de relecture annotée par un centre (objections).")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@workspace_option
def review_import(workspace: Workspace, file: Path) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.review_import(workspace, file))


@main.command(help="Historique d'une valeur (toutes ses versions).")
@click.argument("structure")
@click.argument("variable")
@click.option("--year", type=int, required=True, help="Campagne.")
@workspace_option
def history(workspace: Workspace, structure: str, variable: str, year: int) -> None:
    from senacs_workbench.restricted.coherence import commands

    click.echo(commands.history(workspace, structure, variable, year))


@main.command(help="Calculer, protéger et auditer les tableaux agrégés d'une campagne (jeu en attente d'approbation).")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--infra", "infra", multiple=True, metavar="DÉPARTEMENT",
              help="Produire plutôt les vues infra-départementales (EPCI, communes) de ce département, réservées "
                   "au préparateur et aux correspondants, protégées avec les tableaux déjà publiés (répétable).")
@click.option("--data-version", "data_version", type=int, default=None,
              help="Publier à partir de cette version des données (par défaut : la dernière).")
@workspace_option
def publish(workspace: Workspace, year: int, infra: tuple[str, ...], data_version: int | None) -> None:
    if infra:
        from senacs_workbench.core.workspace_lock import workspace_lock
        from senacs_workbench.restricted.publication.authorised import publish_authorised

        with workspace_lock(workspace.root, f"la publication infra-départementale de la campagne {year}"):
            for departement in infra:
                click.echo(publish_authorised(workspace, year, departement).message_fr)
        return
    from senacs_workbench.restricted.publication.publish import publish_year

    click.echo(publish_year(workspace, year, data_version=data_version).message_fr)


@main.command(help="Période du panel constant (structures présentes chaque année) publié avec les tableaux.")
@click.option("--years", default=None, metavar="DÉBUT-FIN",
              help="Fixer la période, par exemple 2019-2024 ; sans option, affiche la période actuelle.")
@workspace_option
def panel(workspace: Workspace, years: str | None) -> None:
    from senacs_workbench.restricted.constant_panel import panel_window, parse_period, set_panel_window

    if years:
        first, last = parse_period(years)
        set_panel_window(workspace, first, last)
        click.echo(f"Panel constant : {first}–{last}. Les campagnes de cette période seront publiées avec leurs "
                   "indicateurs sur le panel (« senacs publish --year ANNÉE », y compris celles déjà publiées).")
        return
    window = panel_window(workspace)
    click.echo(f"Panel constant : {window[0]}–{window[1]}." if window else
               "Aucun panel constant défini (« senacs panel --years 2019-2024 »).")


@main.group(help="Approbation des jeux de tableaux par le comité de pilotage avant publication.")
def release() -> None:
    pass


@release.command(name="show", help="Lister les jeux de tableaux (en attente et publiés) avec leur audit.")
@workspace_option
def release_show(workspace: Workspace) -> None:
    from senacs_workbench.restricted.publication.review import describe_releases

    click.echo(describe_releases(workspace))


@release.command(name="approve", help="Enregistrer l'approbation signée d'un membre du comité (jeu en attente).")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--signature", "signature_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Fichier de signature du membre (« senacs release sign »). Sans lui : espace de démonstration.")
@workspace_option
def release_approve(workspace: Workspace, year: int, signature_file: Path | None) -> None:
    from senacs_workbench.core.signatures import SignedStatement
    from senacs_workbench.core.workspace_lock import workspace_lock
    from senacs_workbench.restricted.publication.approval import approve

    signature = SignedStatement.read(signature_file) if signature_file else None
    with workspace_lock(workspace.root, f"l'approbation du jeu de tableaux {year}"):
        click.echo(approve(workspace, year, signature=signature).message_fr)


@release.command(name="revoke", help="Retirer l'approbation d'un membre avant la publication.")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--user", required=True, help="Membre dont l'approbation est retirée.")
@workspace_option
def release_revoke(workspace: Workspace, year: int, user: str) -> None:
    from senacs_workbench.restricted.publication.approval import revoke

    click.echo(revoke(workspace, year, user))


@release.command(name="hash", help="Afficher l'empreinte du jeu en attente, à signer par les membres.")
@click.option("--year", type=int, required=True, help="Campagne.")
@workspace_option
def release_hash(workspace: Workspace, year: int) -> None:
    from senacs_workbench.released.bundle_contract import bundle_hash
    from senacs_workbench.restricted.publication.approval import draft_manifest

    _, manifest = draft_manifest(workspace, year)
    click.echo(f"Territoire : {workspace.territory.key}")
    click.echo(f"Empreinte : {bundle_hash(manifest)}")
    click.echo(f"Signature : senacs release sign --territory {workspace.territory.key} --hash {bundle_hash(manifest)}")


@release.command(name="reject", help="Rejeter le jeu de tableaux en attente (membre du comité ou préparateur) : "
                                     "il ne pourra plus être approuvé.")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--reason", required=True, help="Motif du rejet (inscrit au journal d'audit).")
@workspace_option
def release_reject(workspace: Workspace, year: int, reason: str) -> None:
    from senacs_workbench.restricted.publication.rejection import reject_draft

    click.echo(reject_draft(workspace, year, reason).message_fr)


@main.command(name="export", help="Exporter les tableaux publiés par question (XLSX et CSV) pour le comité.")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Dossier de sortie (par défaut : reports/committee/tableaux/ANNÉE).")
@workspace_option
def export(workspace: Workspace, year: int, out_dir: Path | None) -> None:
    from senacs_workbench.released.committee_exports import write_committee_exports

    target = out_dir or workspace.reports / "committee" / "tableaux" / str(year)
    for path in write_committee_exports(workspace.published, year, target):
        click.echo(f"Écrit : {path}")


@main.group(help="Jeux de tableaux publiés ailleurs (région, national), ajoutés pour comparaison.")
def compare() -> None:
    pass


@compare.command(name="add", help="Ajouter le jeu publié d'un autre territoire (dossier published/ d'un autre espace).")
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@workspace_option
def compare_add(workspace: Workspace, source: Path) -> None:
    from senacs_workbench.restricted.publication.comparisons import add_comparison

    for line in add_comparison(workspace, source):
        click.echo(line)


@main.group(help="Plaquette de communication : construire, faire approuver par le comité, publier.")
def plaquette() -> None:
    pass


@plaquette.command(name="build", help="Construire la plaquette (HTML et PDF) d'un territoire, en brouillon.")
@click.option("--territory", required=True, help="FR, R75 (région), 24 (département), region:75…")
@click.option("--year", type=int, required=True, help="Campagne.")
@workspace_option
def plaquette_build(workspace: Workspace, territory: str, year: int) -> None:
    from senacs_workbench.restricted.publication.plaquette import build_plaquette

    result = build_plaquette(workspace, territory, year)
    click.echo(f"Plaquette construite (brouillon à faire approuver) : {result.pdf} et {result.html}")


@plaquette.command(name="approve", help="Enregistrer l'approbation signée d'un membre du comité du territoire.")
@click.option("--territory", required=True, help="Territoire.")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--signature", "signature_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Fichier de signature du membre (« senacs plaquette sign »). Sans lui : espace de démonstration.")
@workspace_option
def plaquette_approve(workspace: Workspace, territory: str, year: int, signature_file: Path | None) -> None:
    from senacs_workbench.core.signatures import SignedStatement
    from senacs_workbench.restricted.publication.plaquette import approve_plaquette

    signature = SignedStatement.read(signature_file) if signature_file else None
    click.echo(approve_plaquette(workspace, territory, year, signature=signature).message_fr)


@plaquette.command(name="publish", help=f"Publier la plaquette approuvée par {missing_phrase(REQUIRED_INSTITUTIONS)}.")
@click.option("--territory", required=True, help="Territoire.")
@click.option("--year", type=int, required=True, help="Campagne.")
@workspace_option
def plaquette_publish(workspace: Workspace, territory: str, year: int) -> None:
    from senacs_workbench.core.workspace_lock import workspace_lock
    from senacs_workbench.restricted.publication.plaquette import publish_plaquette

    with workspace_lock(workspace.root, f"la publication de la plaquette {territory} {year}"):
        click.echo(f"Plaquette publiée : {publish_plaquette(workspace, territory, year)}")


@main.command(help="Exécuter une campagne de carnets (fichier YAML de parameters/).")
@click.argument("campaign_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--resume", is_flag=True, help="Ne pas relancer les exécutions inchangées.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Exécution locale (processus) ou sur une grappe Dask.")
@click.option("--scheduler", default=None, help="Adresse de l'ordonnanceur Dask (avec --executor dask).")
@click.option("--workers", default=2, show_default=True, help="Nombre de processus d'exécution.")
@click.option("--fresh-kernels", is_flag=True, help="Un noyau neuf pour chaque carnet (plus lent).")
@workspace_option
def run(workspace: Workspace, campaign_file: Path, resume: bool, executor: str, scheduler: str | None, workers: int,
        fresh_kernels: bool) -> None:
    from senacs_workbench.restricted.campaign.commands import run_command

    sys.exit(run_command(workspace, campaign_file, resume=resume, executor=executor, scheduler=scheduler,
                         workers=workers, fresh_kernels=fresh_kernels, echo=click.echo))


@main.command(help="Ouvrir JupyterLab (préparateur) sur sa copie des carnets, dans l'espace, en local uniquement.")
@click.option("--port", type=int, default=None, help="Port (par défaut : un port libre).")
@workspace_option
def lab(workspace: Workspace, port: int | None) -> None:
    from senacs_workbench.restricted.campaign.commands import lab_command_line

    sys.exit(lab_command_line(workspace, port, echo=click.echo))


@main.command(help="Servir les tableaux de bord du comité (Voilà, agrégats publiés uniquement).")
@click.option("--port", default=8866, show_default=True, help="Premier port (un port par tableau de bord).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute (locale par défaut).")
@click.option("--token", "use_token", is_flag=True, help="Exiger un jeton secret dans l'adresse (petit comité).")
@click.option("--pool-size", default=2, show_default=True, help="Noyaux préchauffés par tableau de bord.")
@workspace_option
def serve(workspace: Workspace, port: int, host: str, use_token: bool, pool_size: int) -> None:
    import secrets

    from senacs_workbench.apps.serve import serve_blocking

    serve_blocking(workspace.published, port=port, host=host, token=secrets.token_urlsafe(16) if use_token else None,
                   preheat=True, pool_size=pool_size, echo=click.echo)


@main.command(help="Sauvegarder tout l'espace de travail dans une archive (données brutes comprises).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Fichier de l'archive (par défaut : senacs-sauvegarde-NOM-DATE.tar.gz dans le dossier courant).")
@workspace_option
def backup(workspace: Workspace, out_path: Path | None) -> None:
    from senacs_workbench.restricted.operations.backup import backup_workspace

    click.echo(backup_workspace(workspace, out_path).message_fr)


@main.command(help="Restaurer une sauvegarde dans un dossier vide, après vérification de toutes ses empreintes.")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--workspace", "target", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Dossier vide (ou inexistant) où restaurer l'espace de travail.")
@click.option("--erasures", "registers", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Copie d'un registre d'effacements (restricted/erasures.jsonl) : les effacements postérieurs à "
                   "la sauvegarde sont réappliqués (option répétable).")
def restore(archive: Path, target: Path, registers: tuple[Path, ...]) -> None:
    from senacs_workbench.restricted.operations.backup import restore_workspace

    click.echo(restore_workspace(archive, target, erasures=registers).message_fr)


@main.command(help="Effacer les réponses brutes d'une structure de tout l'espace de travail (RGPD) ; "
                   "les jeux de tableaux publiés sont conservés.")
@click.argument("structure")
@click.option("--reason", required=True, help="Motif (demande reçue, date) : inscrit au journal d'audit.")
@workspace_option
def erase(workspace: Workspace, structure: str, reason: str) -> None:
    from senacs_workbench.restricted.operations.erasure import erase_structure

    click.echo(erase_structure(workspace, structure, reason).message_fr)


@main.command(help="Démonstration de bout en bout sur des données synthétiques.")
@click.option("--workspace", "workspace_path", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Dossier de l'espace de démonstration (par défaut : ~/senacs-demo).")
@click.option("--years", default="2024-2025", show_default=True,
              help="Campagnes à générer, importer et publier (2019-2025 pour toutes : plus long).")
@click.option("--scale", default=1.0, show_default=True, help="Échelle (1 = France entière).")
@click.option("--seed", default=2024, show_default=True, help="Graine du générateur.")
@click.option("--serve", "then_serve", is_flag=True, help="Servir ensuite les tableaux de bord du comité.")
@click.option("--port", default=8866, show_default=True, help="Premier port des tableaux de bord (avec --serve).")
def demo(workspace_path: Path | None, years: str, scale: float, seed: int, then_serve: bool, port: int) -> None:
    from senacs_workbench.demo.run import run_demo

    workspace = run_demo(workspace_path or Path.home() / "senacs-demo", parse_years(years), scale=scale, seed=seed,
                         echo=click.echo)
    if then_serve:
        from senacs_workbench.apps.serve import serve_blocking

        click.echo("")
        serve_blocking(workspace.published, port=port, preheat=True, pool_size=2, echo=click.echo)


main.add_command(keys)
main.add_command(governance)
release.add_command(sign_command("bundle", "Signer l'approbation d'un jeu de tableaux (membre, sur son poste)."))
release.add_command(sign_command("withdrawal", "Signer le retrait d'un jeu de tableaux publié (membre, sur son poste).",
                                 name="sign-withdrawal"))


@release.command(name="withdraw", help="Retirer un jeu de tableaux publié (signé par le comité comme une approbation).")
@click.option("--year", type=int, required=True, help="Campagne.")
@click.option("--version", type=int, default=None, help="Version publiée (par défaut : la dernière).")
@click.option("--reason", required=True, help="Motif du retrait (inscrit au journal d'audit).")
@click.option("--signature", "signature_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Signature de retrait d'un membre (« senacs release sign-withdrawal ») ; répéter.")
@workspace_option
def release_withdraw(workspace: Workspace, year: int, version: int | None, reason: str,
                     signature_files: tuple[Path, ...]) -> None:
    from senacs_workbench.core.signatures import SignedStatement
    from senacs_workbench.restricted.publication.withdrawal import withdraw

    click.echo(withdraw(workspace, year, reason, [SignedStatement.read(p) for p in signature_files], version))
plaquette.add_command(sign_command("plaquette", "Signer l'approbation d'une plaquette (membre, sur son poste)."))


@governance.command(name="status", help="Version adoptée de la gouvernance et empreinte à signer pour la modifier.")
@workspace_option
def governance_status(workspace: Workspace) -> None:
    from senacs_workbench.core.governance_chain import pending

    digest, chain = pending(workspace.governance_path, workspace.territory)
    if chain is None:
        click.echo("Aucune version adoptée : le comité doit signer la première version.")
    else:
        click.echo(f"Version adoptée : {chain.head.number} (empreinte {chain.head.hash}) ; "
                   f"identité de la chaîne (première version) : {chain.genesis}")
        if chain.head.text == workspace.governance_path.read_text(encoding="utf-8"):
            click.echo("Le fichier de gouvernance est la version adoptée.")
            return
    click.echo(f"Le fichier {workspace.governance_path} attend l'adoption : empreinte à signer {digest}")
    click.echo(f"  senacs governance sign --territory {workspace.territory.key} --hash {digest}")


@governance.command(name="adopt", help="Adopter le fichier de gouvernance avec les signatures du comité.")
@click.option("--signature", "signature_files", multiple=True, required=True,
              type=click.Path(path_type=Path, dir_okay=False), help="Fichier de signature (plusieurs : répéter).")
@workspace_option
def governance_adopt(workspace: Workspace, signature_files: tuple[Path, ...]) -> None:
    from senacs_workbench.core.governance_chain import adopt
    from senacs_workbench.core.signatures import SignedStatement
    from senacs_workbench.trust import audit_log
    from senacs_workbench.trust.identity import acting_user

    chain = adopt(workspace.governance_path, workspace.territory, [SignedStatement.read(p) for p in signature_files])
    audit_log.append(workspace.audit_log_path, user=acting_user(workspace.governance_path),
                     action="adopt_governance", territory=workspace.territory.key,
                     details={"version": chain.head.number, "hash": chain.head.hash})
    click.echo(f"Gouvernance adoptée : version {chain.head.number}, signée par "
               + ", ".join(f"{m.name} ({m.institution})" for m in chain.head.signers) + ".")


if __name__ == "__main__":
    main()
