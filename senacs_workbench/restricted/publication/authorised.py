"""The authorised bundle: infra-départemental views (EPCI, commune) for the preparer and correspondents.

Charter 3.1 lets SENACS data serve infra-départemental analyses; charter 2.3 keeps every
analysis anonymous. EPCI and commune cells therefore never enter the committee bundle
(``published/``, read by dashboards and guests): they live in separate bundles in the
restricted zone, one per département, ``restricted/authorised/<year>/<département>/v<N>/``,
that only the preparer and the SENACS correspondents of that département (or of a territory
containing it) may read (:mod:`senacs_workbench.restricted.authorised_reader`, access-checked and logged).

A département's release holds its EPCI — whole, a straddling EPCI included — and its communes
with enough structures to show anything (the frequency threshold); every structure of the
workspace stays in the linear system.

Protection is *joint* with the committee release of the same year: the released committee
cells (national, régions, départements, every breakdown) join the engine's linear system
through the ledger, fixed at their released status, together with the EPCI and commune cells
of this release. So an EPCI figure combined with the published département and région figures
reveals no suppressed cell, and EPCI straddling two départements (non-nested groupings) are
kept — the engine partitions structures by département × EPCI × commune. Each département's release
is joint with every release made before it (the committee's and other départements'), so two
départements sharing an EPCI see the same EPCI cells. The independent audit
checks the joint table (committee cells and infra cells together); a question it rejects is
withheld whole. The release is then recorded in the ledger, so that a later committee release
of the same year (a new data version) is protected jointly with these infra cells too.

No committee approval is needed (the audience is the restricted zone itself), but the bundle
follows the contract of DESIGN.md (levels ``epci`` and ``commune``), its versions are immutable
and every step is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, Question, load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure.cells import INFRA_LEVELS, ReleaseSpec
from senacs_workbench.released.bundle_contract import MANIFEST, read_manifest, version_folders
from senacs_workbench.restricted.publication.bundle_writer import (
    BundleDescription,
    PublicationRefused,
    write_bundle,
    write_suppression_reasons,
)
from senacs_workbench.restricted.publication.ledger_store import AUTHORISED_KIND, committee_releases, record_release
from senacs_workbench.restricted.publication.protection import QuestionJob, protect_questions
from senacs_workbench.restricted.publication.publish import (
    LEVELS_OF_WORKSPACE,
    TABULATED_TYPES,
    microdata,
    review_in_force,
)
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.identity import acting_user

AUTHORISED_DIR: Final = "authorised"
INFRA_BREAKDOWNS: Final = ()
"""Crossed at EPCI and commune level: none (totals only; breakdowns of a few structures would
mostly be suppressed and force more suppressions in the EPCI totals)."""
INFRA_SPEC: Final = ReleaseSpec(levels=INFRA_LEVELS, breakdowns=(), infra_breakdowns=INFRA_BREAKDOWNS)
INFRA_QUESTIONS: Final = (
    "personnes_touchees",
    "actions_petite_enfance", "actions_enfance", "actions_jeunesse", "actions_familles", "actions_seniors",
    "actions_numerique", "actions_acces_droits", "actions_insertion", "actions_langue_francaise",
    "actions_culture", "actions_sante", "actions_environnement", "actions_vacances",
    "actions_accompagnement_scolaire",
    "benevoles_activite", "salaries", "etp",
    "budget_total", "financement_caf", "financement_communes", "financement_interco",
)
"""What the infra-départemental notebook shows: people reached, actions by theme, human
resources, finances (a short list keeps the joint protection quick)."""


@dataclass(frozen=True)
class AuthorisedOutcome:
    year: int
    data_version: int
    changed: bool
    folder: Path
    cells: int
    suppressed: int
    withheld: tuple[str, ...]
    message_fr: str


def authorised_root(workspace: Workspace) -> Path:
    return workspace.restricted / AUTHORISED_DIR


def authorised_versions(workspace: Workspace, year: int, departement: str) -> list[Path]:
    """The authorised bundles of ``departement`` for ``year``, oldest first (``v1``, ``v2``…)."""
    return version_folders(authorised_root(workspace) / str(year) / departement, MANIFEST)


def released_departements(workspace: Workspace, year: int) -> list[str]:
    """Départements that already have an authorised release for ``year``."""
    folder = authorised_root(workspace) / str(year)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and authorised_versions(workspace, year, p.name))


def released_views(wide: pd.DataFrame, departement: str, min_structures: int) -> pd.DataFrame:
    """The infra geography of one département's release, on every structure of the workspace.

    Every structure stays in the system (the committee views cover them all); only the groups
    released change: the EPCI touching ``departement`` — whole, including their structures in
    other départements (a straddling EPCI is a non-nested group, kept) — and the communes of
    ``departement`` with at least ``min_structures`` structures (a commune with fewer would be
    suppressed anyway). Other structures get no EPCI nor commune here.
    """
    touching = set(geo.epci_departements().query("departement == @departement")["epci"])
    frame = wide.copy()
    frame["epci"] = frame["epci"].where(frame["epci"].isin(touching), None)
    in_dep = frame["departement"].astype(str) == departement
    counts = frame.loc[in_dep, "commune"].value_counts()
    enough = set(counts[counts >= min_structures].index)
    frame["commune"] = frame["commune"].where(in_dep & frame["commune"].isin(enough), None)
    return frame


def infra_questions(year: int) -> list[Question]:
    codebook = load_codebook(year)
    return [codebook.question(q) for q in INFRA_QUESTIONS
            if q in codebook and codebook.question(q).type in TABULATED_TYPES]


def _infra_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The EPCI and commune cells of a joint result (the committee cells it joined are released already)."""
    return cells[cells["level"].isin(INFRA_LEVELS)].reset_index(drop=True)


def publish_authorised(workspace: Workspace, year: int, departement: str, *, user: str | None = None,
                       workers: int | None = None) -> AuthorisedOutcome:
    """Protect, audit and write the EPCI and commune views of ``departement`` for ``year``, jointly
    with the committee release of ``year`` and every authorised release made before."""
    from senacs_workbench.disclosure.ledger import Ledger
    from senacs_workbench.disclosure.rules import load_rules
    from senacs_workbench.restricted.publication.ledger_store import released_cells
    from senacs_workbench.restricted.publication.publish import _combine_audits, last_year_release
    from senacs_workbench.restricted.store import RawDataStore

    user = user or acting_user(workspace.governance_path)
    territory = workspace.territory
    place = geo.territory("departement", departement)
    if (territory.level == "region" and geo.region_of(departement) != territory.code) or (
            territory.level == "departement" and departement != territory.code):
        raise PublicationRefused(
            f"Le département {place.name} ({departement}) n'est pas dans le territoire de cet espace de travail."
        )
    # One authorised session on the workspace's territory (every structure stays in the system):
    # the access checked and logged once, the store opened once, closed before the engine runs.
    with RawDataStore(workspace, user).session("publish", territory, details={
            "year": year, "infra": True, "departement": departement}) as raw:
        version = raw.latest_version(year)
        rules_hash = load_rules().hash
        committee = [e for e in committee_releases(workspace, year) if e.get("data_version") == version]
        if not committee:
            raise PublicationRefused(
                f"Campagne {year} : les vues infra-départementales (EPCI, communes) sont protégées conjointement "
                f"avec les tableaux publiés pour le comité. Publiez d'abord la version {version} des données et "
                f"faites-la approuver (« senacs publish --year {year} », puis « senacs release approve »)."
            )
        for folder in authorised_versions(workspace, year, departement):
            manifest = read_manifest(folder)
            if manifest.get("data_version") == version and manifest.get("rules_hash") == rules_hash:
                return AuthorisedOutcome(year, version, False, folder, manifest.get("cells", 0),
                                         manifest.get("suppressed", 0), tuple(manifest.get("audit", {}).get(
                                             "withheld_variables", [])),
                                         f"Campagne {year} : les vues infra-départementales de {place.name} pour "
                                         f"la version {version} existent déjà ({folder}) ; rien n'a changé.")
        questions = infra_questions(year)
        wide = raw.wide(year, territory, version, variables=[*BREAKDOWNS, *(q.id for q in questions)])
        # last year's releases (committee and infra) and microdata: the year-over-year rules
        last_year = last_year_release(workspace, raw, territory, year, questions, None)
    # the review decisions on the committee's status R cells (joint views: as released)
    review = review_in_force(workspace, year, wide, LEVELS_OF_WORKSPACE[territory.level])
    released = released_cells(workspace, year)
    frames = [frame for frame in (None if last_year is None else last_year[0], released) if frame is not None]
    ledger = Ledger.from_released(pd.concat(frames, ignore_index=True)) if frames else None
    rules = load_rules()
    complete = frozenset({departement, *released_departements(workspace, year)})
    jobs = [QuestionJob(released_views(microdata(wide, q), departement, rules.min_contributors), q, year, INFRA_SPEC,
                        ledger and ledger.for_variable(q.id),
                        microdata(last_year[1], q) if last_year is not None and q.id in last_year[1].columns
                        else None, review.reviewed.get(q.id))
            for q in questions]
    # The audit sees the joint table: released committee cells and the new infra cells (and
    # those of départements released before, whose EPCI are all present too).
    results = protect_questions(jobs, workers, joint_output=True, complete_epci_departements=complete)
    withheld = tuple(r.question_id for r in results if not r.audit_ok)
    kept = [(_infra_cells(r.cells), r.audit, r.audit_ok) for r in results if r.audit_ok]
    if not kept:
        raise PublicationRefused(
            f"L'audit du secret statistique n'accepte aucune vue infra-départementale de la campagne {year} : "
            "rien n'est écrit."
        )
    cells = pd.concat([r[0] for r in kept], ignore_index=True)
    summary = _combine_audits([r[1] for r in kept])
    if withheld:
        summary["withheld_variables"] = list(withheld)
    existing = authorised_versions(workspace, year, departement)
    number = int(existing[-1].name[1:]) + 1 if existing else 1
    folder = authorised_root(workspace) / str(year) / departement / f"v{number}"
    manifest = write_bundle(
        folder, cells,
        BundleDescription(year, place.key, version, rules_hash, summary, all(r[2] for r in kept), user),
        levels=INFRA_LEVELS, state="authorised",
    )
    write_suppression_reasons(workspace.restricted, year, manifest["bundle_hash"], cells)
    record_release(workspace, year, folder, manifest, kind=AUTHORISED_KIND)
    audit_log.append(workspace.audit_log_path, user=user, action="publish_authorised",
                     territory=place.key,
                     details={"year": year, "data_version": version, "bundle_hash": manifest["bundle_hash"],
                              "folder": str(folder.relative_to(workspace.root))})
    epci = cells.loc[cells["level"] == "epci", "territory"].nunique()
    communes = cells.loc[cells["level"] == "commune", "territory"].nunique()
    return AuthorisedOutcome(
        year, version, True, folder, manifest["cells"], manifest["suppressed"], withheld,
        f"Campagne {year} (version {version}), {place.name} : vues infra-départementales de "
        f"{format_number(epci)} EPCI et {format_number(communes)} communes, "
        f"{format_number(manifest['cells'])} cellules dont "
        f"{format_number(manifest['suppressed'])} masquées, protégées conjointement avec les tableaux du comité ; "
        "audit réussi"
        + (f" ; non diffusée(s) faute de protection garantie : {', '.join(withheld)}" if withheld else "")
        + f". Réservées au préparateur et aux correspondants : {folder}.",
    )
