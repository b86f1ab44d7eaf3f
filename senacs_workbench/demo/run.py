"""``senacs demo``: the whole cycle on embedded synthetic data, ending with a French summary.

Steps: a demo workspace (the acting user is designated preparer of fictitious committees),
synthetic exports generated and imported, the coherence check with a few findings resolved,
every year published through the disclosure-control gate and approved by the demo
committee, the demo région's and département's workspaces built from the same answers and
published after the nation (:mod:`.demo_territories`), the committee's tables exported, a
demo campaign of notebooks (a few territories of each level), and three plaquettes built,
approved and published. Re-running it on the same folder reuses the workspace: what is
already imported or released is not redone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from senacs_workbench.core.approvals import REQUIRED_PHRASE
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import WorkspaceError
from senacs_workbench.core.formatting import format_number, format_percent
from senacs_workbench.core.governance import dump_governance, load_governance
from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace, init_workspace, open_workspace, write_text_atomic
from senacs_workbench.demo.governance import demo_preparer
from senacs_workbench.demo.summary import structures_by_region
from senacs_workbench.trust.demo_keys import adopt_demo_governance, write_demo_keys

Echo = Callable[[str], None]


DEMO_INFRA_DEPARTEMENT = "95"
"""The département of the demo's infra-départemental analysis: the Val-d'Oise has EPCI that
straddle other départements (Roissy Pays de France with Seine-et-Marne, the Métropole du
Grand Paris…), the non-nested case the joint protection must handle."""


def prepare_demo_workspace(path: Path) -> Workspace:
    """Create the demo workspace, or reuse it if it is one; the acting user becomes the preparer."""
    from senacs_workbench.demo.governance import demo_governance

    if (path / "workspace.yaml").exists():
        workspace = open_workspace(path)
        if not workspace.config.get("demo"):
            raise WorkspaceError(
                f"{path} est un espace de travail réel, pas un espace de démonstration : "
                "choisissez un autre dossier avec --workspace."
            )
    else:
        workspace = init_workspace(path, name="Démonstration SENACS", territory="FR", demo=True)
    write_text_atomic(workspace.governance_path, dump_governance(demo_governance(demo_preparer())))
    adopt_demo_governance(workspace)
    return workspace


def demo_campaign_file(workspace: Workspace, years: Sequence[int]) -> Path:
    """``parameters/demo.yaml`` with the demo's own years (last year; trends over all of them)."""
    import yaml

    from senacs_workbench.demo.release import DEMO_CAMPAIGN

    raw = yaml.safe_load(DEMO_CAMPAIGN.read_text(encoding="utf-8"))
    raw["notebooks"] = str(shipped("notebooks"))
    for run in raw["runs"]:
        parameters = run.setdefault("parameters", {})
        if "year" in parameters:
            parameters["year"] = years[-1]
        if "first_year" in parameters:
            parameters["first_year"], parameters["last_year"] = years[0], years[-1]
    target = workspace.reports / ".campaigns" / "demo.yaml"
    write_text_atomic(target, yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return target


def _section(echo: Echo, title: str) -> None:
    echo("")
    echo(f"== {title}")


def _import_years(workspace: Workspace, years: Sequence[int], scale: float, seed: int, echo: Echo) -> Path:
    from senacs_workbench.demo.synthetic import generate
    from senacs_workbench.restricted.intake import import_file

    incoming = workspace.restricted / "incoming"
    echo(f"Génération des exports synthétiques {years[0]}–{years[-1]}…")
    generate(years, incoming, seed=seed, scale=scale)
    for year in years:
        echo(f"  {import_file(workspace, incoming / f'senacs_{year}.csv', year).message_fr}")
    return incoming


def _print_summary(workspace: Workspace, year: int, echo: Echo) -> None:
    from senacs_workbench.restricted.store import RawDataStore

    codebook = load_codebook(year)
    wide = RawDataStore(workspace).wide(year, "FR", variables=[q.id for q in codebook.questions])
    table = structures_by_region(wide, codebook)
    echo(f"Campagne {year} : structures et taux de réponse par région (vue du préparateur)")
    echo(f"{'Région':<32}{'Structures':>11}{'CS':>7}{'EVS':>7}{'Répondants':>12}{'Taux':>9}")
    for _, row in table.iterrows():
        echo(
            f"{row['region_name'][:31]:<32}{format_number(row['structures']):>11}{format_number(row['cs']):>7}"
            f"{format_number(row['evs']):>7}{format_number(row['respondents']):>12}"
            f"{format_percent(row['response_rate']):>9}"
        )


def run_demo(path: Path, years: Sequence[int], *, scale: float = 1.0, seed: int = 2024, echo: Echo = print,
             campaign: bool = True, plaquettes: bool = True) -> Workspace:
    from senacs_workbench.demo.coherence import demo_coherence
    from senacs_workbench.demo.release import release_demo_years
    from senacs_workbench.released.committee_exports import write_committee_exports

    started = time.perf_counter()
    workspace = prepare_demo_workspace(path)
    last = years[-1]
    if len(years) > 1:
        from senacs_workbench.restricted.constant_panel import panel_window, set_panel_window

        if panel_window(workspace) is None:
            set_panel_window(workspace, years[0], last)
    echo(f"Espace de démonstration : {workspace.root} (préparateur désigné : {demo_preparer()})")
    keys_dir = write_demo_keys(path.with_name(f"{path.name}-cles-demo"), load_governance(workspace.governance_path))
    echo(f"Clés de signature du comité fictif (clés de démonstration, calculables par tous) : {keys_dir}")

    _section(echo, "1. Saisie : exports synthétiques importés dans la zone restreinte")
    incoming = _import_years(workspace, years, scale, seed, echo)
    _print_summary(workspace, last, echo)

    _section(echo, f"2. Contrôle de cohérence de la campagne {last}")
    from senacs_workbench.restricted.coherence.resolution import coherence_status

    if any(item["year"] == last for item in coherence_status(workspace)["years"]):
        echo(f"  Déjà fait lors d'une démonstration précédente : « senacs findings list --year {last} ».")
    else:
        demo_coherence(workspace, last, echo=lambda line: echo(f"  {line}"))

    _section(echo, "3. Publication : agrégation, secret statistique, audit, approbation du comité")
    release_demo_years(workspace, tuple(years), echo=lambda line: echo(f"  {line}"))
    from senacs_workbench.restricted.publication.authorised import publish_authorised

    infra = publish_authorised(workspace, last, DEMO_INFRA_DEPARTEMENT)
    echo(f"  {infra.message_fr}")
    from senacs_workbench.demo.territories import release_territories

    _section(echo, f"3 bis. Espaces régional et départemental, alimentés par la publication nationale ({last})")
    hierarchy = release_territories(workspace, last, echo=lambda line: echo(f"  {line}"))
    from senacs_workbench.demo.territories import audit_hierarchy

    echo(f"  {audit_hierarchy(hierarchy, last)}")
    exports_dir = workspace.reports / "committee" / "tableaux" / str(last)
    exports = write_committee_exports(workspace.published, last, exports_dir)
    echo(f"  Tableaux par question pour le comité : {exports[0]} et {exports[1]}")

    campaign_outputs = None
    if campaign:
        from senacs_workbench.restricted.campaign.runner import run_campaign

        _section(echo, "4. Analyses : campagne de carnets (quelques territoires de chaque niveau)")
        report = run_campaign(workspace, demo_campaign_file(workspace, years), resume=True, workers=2)
        echo(report.summary_fr())
        campaign_outputs = workspace.reports
    if plaquettes:
        from senacs_workbench.demo.release import demo_plaquettes

        _section(echo, "5. Plaquettes : construites, approuvées par le comité, publiées")
        demo_plaquettes(hierarchy, last, echo=lambda line: echo(f"  {line}"))

    elapsed = time.perf_counter() - started
    _section(echo, f"Démonstration terminée en {format_number(elapsed)} s")
    echo(f"Ce qui a été fait : les campagnes {years[0]} à {years[-1]} générées puis importées dans l'espace "
         f"restreint ; le contrôle de cohérence {last} lancé et quelques constats traités (une correction crée une "
         "nouvelle version, l'originale reste lisible) ; chaque campagne agrégée, protégée par le secret "
         f"statistique, auditée puis approuvée par la signature {REQUIRED_PHRASE} du comité de démonstration "
         "(une approbation falsifiée refusée)"
         + "; les vues infra-départementales (EPCI, communes) du Val-d'Oise protégées conjointement avec les "
         f"tableaux publiés ; les espaces de la région et du département de démonstration créés à partir des mêmes "
         f"réponses, leur campagne {last} publiée après la publication nationale et en cohérence avec elle"
         + ("; une campagne d'analyses exécutée" if campaign else "")
         + ("; trois plaquettes publiées" if plaquettes else "") + ". Chaque accès aux données brutes est inscrit "
         "au journal d'audit.")
    echo("Où regarder :")
    echo(f"  - « senacs status --workspace {workspace.root} » : campagnes, versions, constats, publications ;")
    echo(f"  - {workspace.published / 'released'} : les jeux de tableaux publiés (Parquet + manifest.json) ;")
    for territory_workspace in hierarchy[1:]:
        echo(f"  - {territory_workspace.root} : l'espace de travail « {territory_workspace.config.get('name')} » "
             "(ses tableaux publiés, et ceux des niveaux supérieurs ajoutés pour comparaison) ;")
    echo(f"  - {exports[0]} : les tableaux par question, « s » pour les cases soumises au secret ;")
    if campaign_outputs is not None:
        echo(f"  - {campaign_outputs / 'committee'} : les analyses (ouvrez les fichiers index.html) ;")
        echo(f"  - {campaign_outputs / 'restricted'} : l'analyse infra-départementale du Val-d'Oise (EPCI, "
             "communes), réservée au préparateur et aux correspondants ;")
    if plaquettes:
        echo(f"  - {workspace.published / 'plaquettes'} (France), puis le dossier published/plaquettes de l'espace "
             "régional et de l'espace départemental : les plaquettes publiées (PDF), chacune dans l'espace de son "
             "comité, avec la région et la France en comparaison ;")
    echo(f"  - {workspace.restricted / 'coherence'} : fiches de questions et de relecture (réservées) ;")
    echo(f"  - {incoming} : les exports synthétiques et la vérité terrain des incohérences ;")
    echo(f"  - « senacs serve --workspace {workspace.root} » : les tableaux de bord du comité dans le navigateur ;")
    echo(f"  - « senacs serve --workspace {hierarchy[-1].root} » : ceux du comité départemental, comparés à "
         "sa région et à la France à partir des publications reçues.")
    return workspace
