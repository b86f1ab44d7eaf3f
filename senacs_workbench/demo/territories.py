"""The territory workspaces of ``senacs demo``: a région and a département fed by the nation.

Most SENACS committees are départemental, then régional. The demo therefore also builds, from
the same answers as its national workspace, the workspace of the demo région and of the demo
département (``<demo>/territoires/<territory>``), in the documented order of publication
across the hierarchy (``docs/disclosure-control.md``): the nation publishes first; each lower
workspace adds the released bundles above it (``senacs compare add``) before it publishes, so
that every cell it shares with them is published exactly as released there.

"The same answers": each territory imports the rows of its own structures from the national
export (what a territory's preparer downloads from senacs.fr), then the corrections the
national coherence review made to those structures are made again there (a correction is
data, not a national privilege); a territory whose data differed would see the questions
concerned withheld, not published differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace, open_workspace, write_text_atomic
from senacs_workbench.demo.governance import DEMO_DEPARTEMENT, DEMO_REGION, demo_governance, demo_preparer
from senacs_workbench.restricted.store import connect, corrections_log
from senacs_workbench.trust.demo_keys import adopt_demo_governance

Echo = Callable[[str], None]

TERRITORIES_DIR = "territoires"


@dataclass(frozen=True)
class DemoTerritory:
    level: geo.Level
    code: str
    caf: str
    federation: str

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}"

    @property
    def folder(self) -> str:
        return f"{self.level}-{self.code}"


def demo_territories() -> tuple[DemoTerritory, ...]:
    """The demo région, then the demo département (publication order: top down)."""
    first = geo.departements_of(DEMO_REGION)[0]
    return (
        DemoTerritory("region", DEMO_REGION, f"caf.{first}", f"federation.{first}"),
        DemoTerritory("departement", DEMO_DEPARTEMENT, f"caf.{DEMO_DEPARTEMENT}", f"federation.{DEMO_DEPARTEMENT}"),
    )


def territory_workspace(national: Workspace, territory: DemoTerritory) -> Workspace:
    """The demo workspace of ``territory`` beside the national one (created on first use)."""
    path = national.root / TERRITORIES_DIR / territory.folder
    if (path / "workspace.yaml").exists():
        workspace = open_workspace(path)
    else:
        name = f"Démonstration SENACS — {geo.territory(territory.level, territory.code).name}"
        workspace = init_workspace(path, name=name, territory=territory.key, demo=True)
    write_text_atomic(workspace.governance_path, dump_governance(demo_governance(demo_preparer())))
    adopt_demo_governance(workspace)
    return workspace


def territory_export(national_export: Path, territory: DemoTerritory, target: Path) -> Path:
    """The rows of ``territory``'s structures from the national export, in the same format."""
    text = national_export.read_text(encoding="utf-8-sig")
    header, *rows = text.splitlines()
    columns = header.split(";")
    position = columns.index("departement")
    departements = set(geo.departements_of(territory.code)) if territory.level == "region" else {territory.code}
    kept = [row for row in rows if row.split(";")[position] in departements]
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, "\ufeff" + "\n".join([header, *kept]) + "\n")
    return target


def national_corrections(national: Workspace, year: int) -> pd.DataFrame:
    """The corrections the national workspace made to ``year`` (oldest first)."""
    with connect(national, read_only=True) as con:
        return corrections_log(con, year)


def _export_ids(export: Path) -> set[str]:
    rows = export.read_text(encoding="utf-8-sig").splitlines()[1:]
    return {row.split(";", 1)[0] for row in rows if row}


def release_territories(national: Workspace, year: int, echo: Echo = print) -> list[Workspace]:
    """Build, publish and approve the demo région's and département's workspaces for ``year``,
    top down after the national release; return every workspace of the hierarchy (nation first)."""
    from senacs_workbench.released.bundle_contract import RELEASED, released_versions
    from senacs_workbench.restricted.coherence.corrections import correct_answer
    from senacs_workbench.restricted.intake import import_file
    from senacs_workbench.restricted.publication.approval import approve
    from senacs_workbench.restricted.publication.comparisons import add_comparison
    from senacs_workbench.restricted.publication.publish import publish_year

    hierarchy = [national]
    for territory in demo_territories():
        workspace = territory_workspace(national, territory)
        name = geo.territory(territory.level, territory.code).name  # type: ignore[arg-type]
        echo(f"{name} : espace de travail {workspace.root}")
        if released_versions(workspace.published / RELEASED, year):
            echo(f"  Campagne {year} déjà publiée lors d'une démonstration précédente.")
            hierarchy.append(workspace)
            continue
        export = territory_export(national.restricted / "incoming" / f"senacs_{year}.csv", territory,
                                  workspace.restricted / "incoming" / f"senacs_{year}.csv")
        echo(f"  {import_file(workspace, export, year).message_fr}")
        ids = _export_ids(export)
        for row in national_corrections(national, year).itertuples():
            if str(row.structure_id) in ids:
                echo("  " + correct_answer(workspace, year, str(row.structure_id), str(row.variable), row.new_value,
                                           why="Même correction que dans l'espace national (démonstration).",
                                           source=str(row.provenance)).message_fr)
        for above in hierarchy:
            for line in add_comparison(workspace, above.published):
                if f" {year} :" in line:  # the other years are added too, quietly
                    echo(f"  Comparaison : {line}")
        echo(f"  {publish_year(workspace, year).message_fr}")
        approve(workspace, year, user=territory.caf)
        echo(f"  {approve(workspace, year, user=territory.federation).message_fr}")
        hierarchy.append(workspace)
    return hierarchy


def audit_hierarchy(hierarchy: list[Workspace], year: int) -> str:
    """The independent audit (:mod:`senacs_workbench.release_audit`) of the union of the
    hierarchy's releases of ``year``, on every question they release (the union a département's
    committee member holds: the linked questions with their relations, the others with the
    hierarchy and the margins); a French line saying the verdict."""
    from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
    from senacs_workbench.release_audit import audit_union
    from senacs_workbench.released.bundle_contract import RELEASED, released_versions, table_name
    from senacs_workbench.restricted.store import RawDataStore

    tables = [pd.read_parquet(versions[-1] / table_name(year)) for workspace in hierarchy
              if (versions := released_versions(workspace.published / RELEASED, year))]
    questions = sorted({str(v) for table in tables for v in table["variable"].unique()})
    store = RawDataStore(hierarchy[0])
    wide = store.wide(year, geo.territory("national", geo.NATIONAL_CODE), store.latest_version(year),
                      variables=[*BREAKDOWNS, *questions])
    result = audit_union(tables, wide, load_codebook(year), variables=questions, exact=False)
    names = ", ".join(w.territory.key for w in hierarchy)
    if result.ok:
        return (f"Audit indépendant de l'union des publications {year} ({names}) : réussi, "
                f"aucune case sensible retrouvée ({len(result.variables)} questions, "
                f"{result.seconds:.0f} s).")
    return (f"Audit indépendant de l'union des publications {year} ({names}) : ÉCHEC sur "
            f"{', '.join(result.rejected_variables)}.")
