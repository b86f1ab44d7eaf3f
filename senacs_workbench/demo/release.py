"""What the demo publishes on its own: the demo years' bundles and the plaquettes, approved by the
fictitious demo committee (:mod:`senacs_workbench.demo.governance`).

Demo workspaces only: product code never approves on anyone's behalf, so these steps live in
the demo zone, above the publication code they call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import WorkspaceError
from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace, open_workspace, write_text_atomic
from senacs_workbench.demo.governance import DEMO_CAF, DEMO_DEPARTEMENT, DEMO_FEDERATION, DEMO_REGION
from senacs_workbench.released.bundle_contract import RELEASED, released_versions
from senacs_workbench.released.plaquette.build import PDF_NAME, PlaquetteBuilder
from senacs_workbench.released.plaquette.content import parse, slug_of, territory_title
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.plaquette import (
    approve_plaquette,
    build_many,
    publish_plaquette,
    published_folder,
)
from senacs_workbench.restricted.publication.publish import publish_year

DEMO_CAMPAIGN = shipped("parameters") / "demo.yaml"
DEMO_YEARS = (2024, 2025)
"""Campaign years that ``parameters/demo.yaml`` reads."""
Echo = Callable[[str], None]


def release_demo_years(workspace: Workspace, years: tuple[int, ...] = DEMO_YEARS, echo: Echo = print) -> None:
    """Demo workspaces only: publish each year not yet released and have the fictitious demo committee approve it."""
    if not workspace.config.get("demo"):
        raise WorkspaceError(f"{workspace.root} n'est pas un espace de démonstration : rien n'est publié d'office.")
    for year in years:
        if released_versions(workspace.published / RELEASED, year):
            continue
        echo(publish_year(workspace, year).message_fr)
        if year == years[0]:
            echo(forged_approval_refused(workspace, year))
        approve(workspace, year, user=DEMO_CAF.user)
        echo(approve(workspace, year, user=DEMO_FEDERATION.user).message_fr)


def forged_approval_refused(workspace: Workspace, year: int) -> str:
    """Show that a forged approval is refused: the federation member's name, signed with another key."""
    from senacs_workbench.core.errors import AccessDenied
    from senacs_workbench.core.signatures import demo_private_key, sign
    from senacs_workbench.released.bundle_contract import bundle_hash, read_manifest
    from senacs_workbench.restricted.publication.approval import draft_dir

    digest = bundle_hash(read_manifest(draft_dir(workspace, year)))
    forged = sign(demo_private_key("intrus"), "bundle", workspace.territory.key, digest, DEMO_FEDERATION.user)
    try:
        approve(workspace, year, signature=forged)
    except AccessDenied as refusal:
        return f"Essai d'approbation falsifiée (au nom de {DEMO_FEDERATION.name}, avec une autre clé) : {refusal}"
    raise AssertionError("a forged approval was accepted")


def demo_committee(territory: str) -> tuple[str, str]:
    """The demo governance's CAF and federation approvers of ``territory``."""
    where = parse(territory)
    if where.level == "national":
        return "caf.demo", "federation.demo"
    dep = where.code if where.level == "departement" else DEMO_DEPARTEMENT
    return f"caf.{dep}", f"federation.{dep}"


DEMO_EDITO = """\
---
caf: {caf}
federation: {federation}
---
Chaque année, les centres sociaux et les espaces de vie sociale {where} répondent à l'observatoire
SENACS. Leurs réponses dessinent le portrait d'un réseau de proximité : des structures ouvertes à
tous les habitants, qui accueillent les familles, accompagnent les jeunes, luttent contre
l'isolement des aînés et aident chacun à faire valoir ses droits.

Ce portrait est aussi celui d'un travail partagé. Les habitants participent aux instances et aux
projets, les bénévoles donnent de leur temps aux côtés des équipes salariées, et les communes, les
intercommunalités, le département et la Caf soutiennent ensemble ces projets sociaux.

La Caf et la fédération des centres sociaux remercient les structures qui ont pris le temps de
répondre : ces chiffres sont les leurs. Ils éclairent les choix de ceux qui les financent et les
accompagnent, et donnent à voir ce qui se fait, chaque jour, près de chez vous.

Texte de démonstration : les chiffres de cette plaquette sont issus de données synthétiques.
"""


def write_demo_edito(workspace: Workspace, territory: str) -> Path:
    """Demo workspaces only: the fictitious committee's édito of ``territory`` (kept if one exists)."""
    if not workspace.config.get("demo"):
        raise WorkspaceError(f"{workspace.root} n'est pas un espace de démonstration : aucun édito n'est écrit "
                             "à la place du comité.")
    where = parse(territory)
    folder = workspace.published / "plaquette" / "edito"
    path = folder / f"{slug_of(where)}.md"
    if path.exists() or (folder / f"{slug_of(where)}.yaml").exists():
        return path
    phrase = {"national": "de France", "region": f"de la région {where.name}"}.get(
        where.level, f"du département {territory_title(where)}")
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, DEMO_EDITO.format(caf="La Caf (comité de démonstration)",
                                              federation="La fédération des centres sociaux (comité de "
                                                         "démonstration)", where=phrase))
    return path


def demo_plaquettes(workspaces: Workspace | Path | str | Sequence[Workspace], year: int, echo: Echo = print,
                    builder: PlaquetteBuilder | None = None) -> list[Path]:
    """``senacs demo``: build, approve (demo CAF + federation members) and publish FR, a région, a département.

    Given the demo's workspaces (national, région, département), each plaquette is made in its own
    committee's workspace: the région's and the département's compare their territory with the
    figures of the bundles they received (``senacs compare add``). Given one workspace, all three there.
    A plaquette already published for ``year`` (a demo run again) is left as it is."""
    if isinstance(workspaces, Sequence) and not isinstance(workspaces, str):
        pairs = [(ws, slug_of(ws.territory)) for ws in workspaces]
    else:
        ws = workspaces if isinstance(workspaces, Workspace) else open_workspace(Path(workspaces))
        pairs = [(ws, territory) for territory in (geo.NATIONAL_CODE, f"R{DEMO_REGION}", DEMO_DEPARTEMENT)]
    done = [(ws, t) for ws, t in pairs if (published_folder(ws, t, year) / PDF_NAME).exists()]
    for ws, territory in done:
        echo(f"  plaquette {territory_title(parse(territory))} {year} déjà publiée : "
             f"{published_folder(ws, territory, year) / PDF_NAME}")
    pairs = [pair for pair in pairs if pair not in done]
    if not pairs:
        return [published_folder(ws, t, year) for ws, t in done]
    for ws, territory in pairs:
        write_demo_edito(ws, territory)
    echo(f"Plaquettes {year} : construction (France, région, département)…")
    with contextlib.ExitStack() as stack:
        shared = builder or stack.enter_context(PlaquetteBuilder())
        for ws, territory in pairs:
            build_many(ws, [territory], year, echo=echo, builder=shared)
    published = []
    for ws, territory in pairs:
        for approver in demo_committee(territory):
            echo(f"  {approve_plaquette(ws, territory, year, user=approver).message_fr}")
        target = publish_plaquette(ws, territory, year)
        echo(f"  publiée : {target / PDF_NAME}")
        published.append(target)
    return [*(published_folder(ws, t, year) for ws, t in done), *published]
