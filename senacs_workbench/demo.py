"""``senacs demo``: the whole cycle on embedded synthetic data, ending with a French summary.

Re-running it on the same folder reuses the workspace: imports of files already imported
change nothing. Issues after the foundation extend it (publication, campaign, plaquette…).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from senacs_workbench.codebook import load_codebook
from senacs_workbench.errors import WorkspaceError
from senacs_workbench.formatting import format_number, format_percent
from senacs_workbench.governance import acting_user, dump_governance
from senacs_workbench.summary import structures_by_region
from senacs_workbench.workspace import Workspace, init_workspace, open_workspace, write_text_atomic

Echo = Callable[[str], None]


def prepare_demo_workspace(path: Path) -> Workspace:
    """Create the demo workspace, or reuse it if it is one; the acting user becomes the preparer."""
    from senacs_workbench.demo_governance import demo_governance

    if (path / "workspace.yaml").exists():
        workspace = open_workspace(path)
        if not workspace.config.get("demo"):
            raise WorkspaceError(
                f"{path} est un espace de travail réel, pas un espace de démonstration : "
                "choisissez un autre dossier avec --workspace."
            )
    else:
        workspace = init_workspace(path, name="Démonstration SENACS", territory="FR", demo=True)
    write_text_atomic(workspace.governance_path, dump_governance(demo_governance(acting_user())))
    return workspace


def run_demo(path: Path, years: Sequence[int], *, scale: float = 1.0, seed: int = 2024, echo: Echo = print) -> None:
    from senacs_workbench.importing.run import import_file
    from senacs_workbench.store import RawDataStore
    from senacs_workbench.synth import generate

    started = time.perf_counter()
    workspace = prepare_demo_workspace(path)
    echo(f"Espace de démonstration : {workspace.root} (préparateur désigné : {acting_user()})")
    incoming = workspace.restricted / "incoming"
    echo(f"Génération des exports synthétiques {years[0]}–{years[-1]}…")
    generate(years, incoming, seed=seed, scale=scale)
    for year in years:
        outcome = import_file(workspace, incoming / f"senacs_{year}.csv", year)
        echo(f"  {outcome.message_fr}")

    last = years[-1]
    from senacs_workbench.coherence.demo import demo_coherence

    echo("")
    echo(f"Contrôle de cohérence de la campagne {last} :")
    demo_coherence(workspace, last, echo=lambda line: echo(f"  {line}"))

    store = RawDataStore(workspace)
    codebook = load_codebook(last)
    wide = store.wide(last, "FR", variables=[q.id for q in codebook.questions])
    table = structures_by_region(wide, codebook)
    echo("")
    echo(f"Campagne {last} : structures et taux de réponse par région")
    echo(f"{'Région':<32}{'Structures':>11}{'CS':>7}{'EVS':>7}{'Répondants':>12}{'Taux':>9}")
    for _, row in table.iterrows():
        echo(
            f"{row['region_name'][:31]:<32}{format_number(row['structures']):>11}{format_number(row['cs']):>7}"
            f"{format_number(row['evs']):>7}{format_number(row['respondents']):>12}"
            f"{format_percent(row['response_rate']):>9}"
        )
    elapsed = time.perf_counter() - started
    echo("")
    echo(f"Démonstration terminée en {format_number(elapsed)} s.")
    echo(f"Ce qui a été fait : un espace de travail créé dans {workspace.root}, les campagnes "
         f"{years[0]} à {years[-1]} générées puis importées dans l'espace restreint "
         f"({workspace.restricted}), le contrôle de cohérence {last} lancé et quelques constats traités, "
         "chaque accès inscrit au journal d'audit.")
    echo("Où regarder :")
    echo(f"  - « senacs status --workspace {workspace.root} » : campagnes, versions et fichiers importés ;")
    echo(f"  - « senacs findings list --workspace {workspace.root} » : constats de cohérence ouverts ;")
    echo(f"  - {workspace.restricted / 'coherence'} : fiches de questions et de relecture pour les centres ;")
    echo(f"  - « senacs audit verify --workspace {workspace.root} » : intégrité du journal d'audit ;")
    echo(f"  - {incoming} : les fichiers d'export synthétiques (et la vérité terrain des incohérences).")
