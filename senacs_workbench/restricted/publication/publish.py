"""``senacs publish``: aggregate every question of a year, protect, audit and write the draft bundle.

The steps, all inside the restricted zone until the last one:

1. open one authorised raw-data session on the workspace's territory
   (:meth:`RawDataStore.session`: access checked and logged once, the store opened once) and
   read from it the latest data version, the constant panel's members and last year's released
   microdata; the session is closed before the engine runs, which gets plain frames;
2. for every tabulated question (not dates nor free text), build its microdata and protect
   all its views at once (national, régions, départements; total and by each breakdown)
   with the disclosure-control engine, jointly with what was already released for that
   year (the ledger);
   and with every bundle of that year added from another workspace (``senacs compare add``:
   a département's workspace holds the national release's cells of its département, fixed
   at their released status; see :mod:`.compared`);
3. audit every protected table independently; a question whose audit finds a disclosure is
   withheld from the bundle whole (and named in the manifest), never published; so is a
   question the ledger refuses (a released cell whose value the new data version changes in a
   way that would reveal the change, or a cell another workspace released with another value
   or status), with a French message naming the cell and the release;
4. write the draft bundle (values blanked where suppressed) atomically into
   ``published/drafts/<year>/``; the committee then approves it (approval.py).

Re-publishing the same data version with the same rule set changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import REQUIRED_PHRASE
from senacs_workbench.core.codebook import (
    BREAKDOWNS,
    DERIVED_BREAKDOWNS,
    PANEL_BREAKDOWN,
    PANEL_IN,
    PANEL_OUT,
    Question,
    QuestionType,
    load_codebook,
)
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.released.bundle_contract import (
    DIRECTORY_COLUMNS,
    directory_name,
    read_manifest,
    released_versions,
)
from senacs_workbench.released.bundle_contract import RELEASED as RELEASED_DIR
from senacs_workbench.restricted.constant_panel import PANEL_VARIABLES
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.restricted.publication.bundle_writer import (
    BundleDescription,
    PublicationRefused,
    write_draft,
    write_suppression_reasons,
)
from senacs_workbench.restricted.publication.compared import compared_cells, conflict_message, mismatch, releases_of
from senacs_workbench.restricted.publication.protection import ProtectedQuestion, QuestionJob, protect_questions
from senacs_workbench.restricted.publication.review_decisions import (
    CurrentReview,
    current_review,
    decisions_digest,
    load_decisions,
)
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.identity import acting_user

TABULATED_TYPES = frozenset(t for t in QuestionType if t not in (QuestionType.DATE, QuestionType.TEXT))
GEOGRAPHY = ("structure_id", "region", "departement")
REVIEW_DIGEST = "review_decisions"
"""The manifest's audit key holding the digest of the review decisions in force (see :mod:`.review_decisions`)."""
INFRA_GEOGRAPHY = ("epci", "commune")
LEVELS_OF_WORKSPACE = {
    "national": ("national", "region", "departement"),
    "region": ("region", "departement"),
    "departement": ("departement",),
}
"""The committee levels a workspace can publish: a région's workspace holds no national figure."""


@dataclass(frozen=True)
class PublishOutcome:
    year: int
    data_version: int
    changed: bool
    cells: int
    suppressed: int
    audit: dict[str, Any]
    message_fr: str


def tabulated_questions(year: int) -> list[Question]:
    return [q for q in load_codebook(year).questions if q.type in TABULATED_TYPES]


@functools.cache
def parent_commune_codes() -> dict[str, str]:
    """Commune code of every commune and municipal arrondissement (Paris, Lyon, Marseille)."""
    frame = geo.communes(with_arrondissements=True)
    return dict(zip(frame["code"], frame["parent"].where(frame["parent"] != "", frame["code"]), strict=True))


def microdata(wide: pd.DataFrame, question: Question, geography: pd.DataFrame | None = None) -> pd.DataFrame:
    """The engine's input for one question: geography (with EPCI and commune, a municipal
    arrondissement counted in its commune), breakdowns and ``value``.

    The EPCI and commune columns are used only when infra-départemental views join the
    release (the authorised bundle, or a committee release made after one). ``geography``:
    :func:`microdata_geography` of ``wide``, when the caller builds it once for every question.
    """
    frame = (microdata_geography(wide) if geography is None else geography).copy()
    frame["value"] = wide[question.id].to_numpy()
    return frame


def microdata_geography(wide: pd.DataFrame) -> pd.DataFrame:
    """The columns of :func:`microdata` that every question shares (all but ``value``)."""
    columns = [*GEOGRAPHY, *BREAKDOWNS, *(b for b in DERIVED_BREAKDOWNS if b in wide.columns)]
    frame = wide[columns].copy()
    commune = wide["code_commune"].astype("string") if "code_commune" in wide else pd.Series(pd.NA, index=wide.index)
    frame["epci"] = (wide["epci"] if "epci" in wide else pd.Series(None, index=wide.index)).astype(object)
    frame["commune"] = commune.map(parent_commune_codes()).astype(object)
    return frame


def public_directory(wide: pd.DataFrame) -> bytes:
    """The public directory of the structures of this data version (identity data only, as on
    senacs.fr), CSV in UTF-8: released with the bundle for the plaquette's list and commune map."""
    names = geo.communes(with_arrondissements=True).set_index("code")["nom"]
    frame = pd.DataFrame({
        "nom_structure": wide["nom_structure"],
        "code_commune": wide["code_commune"],
        "commune": wide["code_commune"].map(names),
        "departement": wide["departement"],
        "type_structure": wide["type_structure"],
        "mode_gestion": wide["mode_gestion"],
    })[list(DIRECTORY_COLUMNS)]
    frame = frame.sort_values(["departement", "code_commune", "nom_structure"], kind="stable")
    return frame.to_csv(index=False, sep=";").encode("utf-8")


def only_released_infra(frame: pd.DataFrame, released: pd.DataFrame | None) -> pd.DataFrame:
    """Keep the EPCI and commune of a structure only where an authorised bundle released them:
    those cells join a committee release jointly (the ledger), the others are not views at all."""
    frame = frame.copy()
    for level in INFRA_GEOGRAPHY:
        shown = set() if released is None else set(released.loc[released["level"] == level, "territory"])
        frame[level] = frame[level].where(frame[level].isin(shown), None)
    return frame


def _combine_audits(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for summary in summaries:
        for key, value in summary.items():
            if isinstance(value, bool):
                total[key] = total.get(key, True) and value
            elif isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    total["variables"] = len(summaries)
    return total


def _same_as(manifest: dict[str, Any], version: int, rules_hash: str, panel: tuple[int, int] | None,
             compared: list[str], reviewed: str = "") -> bool:
    return (manifest.get("data_version") == version and manifest.get("rules_hash") == rules_hash
            and manifest.get("panel_years") == (list(panel) if panel else None)
            and manifest.get("audit", {}).get("compared_releases", []) == compared
            and manifest.get("audit", {}).get(REVIEW_DIGEST, "") == reviewed)


def _compared_in_release(compared: pd.DataFrame | None, spec: ReleaseSpec, plain: ReleaseSpec) -> pd.DataFrame | None:
    """The compared cells of the views this release holds (a breakdown the release does not
    cross for a question is not a view of it: nothing to agree with)."""
    if compared is None:
        return None
    breakdown, variable = compared["breakdown"], compared["variable"]
    held = (breakdown.eq("") | breakdown.isin(plain.breakdowns)
            | (breakdown.isin(spec.breakdowns) & variable.isin(list(PANEL_VARIABLES))))
    return compared[held].reset_index(drop=True)


def _refusals(questions: Sequence[Question], results: Sequence[ProtectedQuestion],
              compared: pd.DataFrame | None) -> dict[str, str]:
    """French reason of every question refused by the ledger or by a compared release (a
    question the audit rejects is withheld without one: see the message of :func:`publish_year`)."""
    reasons: dict[str, str] = {}
    for question, result in zip(questions, results, strict=True):
        if result.refusal is not None:
            reasons[question.id] = conflict_message(question.id, result.refusal,
                                                    result.conflict if result.conflict is not None
                                                    else pd.DataFrame(), compared)
        elif result.audit_ok and (message := mismatch(question.id, result.cells, compared)) is not None:
            reasons[question.id] = message
    return reasons


def _panel_note(window: tuple[int, int] | None, year: int, period: tuple[int, int] | None,
                members: set[str] | None) -> str:
    """The French note on the constant panel a release carries (``period``, of the workspace's
    ``window``), or cannot carry yet."""
    if period is None:
        if window is None or not window[0] <= year <= window[1]:
            return ""
        return (f" Panel constant {window[0]}–{window[1]} non publié : toutes ses campagnes ne sont "
                "pas encore importées.")
    return (f" Panel constant {period[0]}–{period[1]} : {format_number(len(members or ()))} "
            "structures présentes chaque année.")


@dataclass(frozen=True)
class PublishInputs:
    """What a publication reads of the raw data, read in one authorised session, then handed as
    plain data to the engine and the bundle writer (the store is closed by then)."""

    version: int
    panel: tuple[int, int] | None
    members: set[str] | None
    panel_note: str
    questions: list[Question]
    wide: pd.DataFrame
    last_year: tuple[pd.DataFrame, pd.DataFrame] | None
    review: CurrentReview | None = None
    """The review decisions on the cells of status R that apply to this data version."""


def _unchanged(workspace: Workspace, year: int, version: int, rules_hash: str, panel: tuple[int, int] | None,
               compared_ids: list[str], reviewed: str = "") -> PublishOutcome | None:
    """The outcome of a publication that would change nothing (a bundle of this data version, rule
    set, panel and comparisons is released or awaits approval already), else None."""
    existing = [read_manifest(p) for p in released_versions(workspace.published / RELEASED_DIR, year)]
    if (draft_dir(workspace, year) / "manifest.json").exists():
        existing.append(read_manifest(draft_dir(workspace, year)))
    for manifest in existing:
        if _same_as(manifest, version, rules_hash, panel, compared_ids, reviewed):
            state = "publié" if manifest.get("state") == "released" else "en attente d'approbation"
            return PublishOutcome(year, version, False, manifest.get("cells", 0), manifest.get("suppressed", 0),
                                  manifest.get("audit", {}),
                                  f"Campagne {year} : la version {version} des données est déjà {state} ; "
                                  "rien n'a changé.")
    return None


def publish_year(workspace: Workspace, year: int, *, user: str | None = None, workers: int | None = None,
                 only: Sequence[str] | None = None, data_version: int | None = None) -> PublishOutcome:
    """Publish ``year`` (see the module docs); ``only`` restricts the bundle to these questions
    (tests and benchmarks: the committee bundle normally holds every tabulated question);
    ``data_version``: publish from that data version instead of the latest (e.g. to re-release
    what was right before a wrong import; the ledger keeps it consistent with earlier releases).

    The raw data is read in one authorised session (:meth:`RawDataStore.session`: the access to
    the workspace's territory checked and logged once, the store opened once); the engine, the
    audits and the bundle writer then work on what it read. The whole publication holds the
    workspace lock (:mod:`senacs_workbench.core.workspace_lock`): no campaign reads the bundles
    meanwhile, no backup copies a half-written draft."""
    from senacs_workbench.core.workspace_lock import workspace_lock

    with workspace_lock(workspace.root, f"la publication de la campagne {year}"):
        return _read_and_publish(workspace, year, user=user, workers=workers, only=only, data_version=data_version)


def _named_version(raw: Any, year: int, version: int) -> int:
    """``version`` if ``year`` has that data version, else a French error listing those it has."""
    known = [int(v) for v in raw.versions(year)["version"]]
    if version not in known:
        raise SenacsError(f"La campagne {year} n'a pas de version {version} des données "
                           f"(versions : {', '.join(map(str, known)) or 'aucune'}).")
    return version


def review_in_force(workspace: Workspace, year: int, wide: pd.DataFrame, levels: Sequence[str]) -> CurrentReview:
    """The review decisions that apply to the cells of status R of ``wide`` (:mod:`.cell_review`)."""
    from senacs_workbench.restricted.publication.cell_review import cells_of

    return current_review(cells_of(wide, year, levels), load_decisions(workspace.restricted, year))


def _read_and_publish(workspace: Workspace, year: int, *, user: str | None, workers: int | None,
                      only: Sequence[str] | None, data_version: int | None = None) -> PublishOutcome:
    """:func:`publish_year` under the workspace lock."""
    from senacs_workbench.disclosure.rules import load_rules
    from senacs_workbench.restricted import constant_panel
    from senacs_workbench.restricted.store import RawDataStore

    user = user or acting_user(workspace.governance_path)
    territory = workspace.territory
    levels = LEVELS_OF_WORKSPACE[territory.level]
    with RawDataStore(workspace, user).session("publish", territory, details={"year": year}) as raw:
        version = raw.latest_version(year) if data_version is None else _named_version(raw, year, data_version)
        rules_hash = load_rules().hash
        window = constant_panel.panel_window(workspace)
        panel = constant_panel.panel_period(window, raw, year)
        compared = compared_cells(workspace, year, territory, levels)
        compared_ids = releases_of(compared)
        reviewed = decisions_digest(load_decisions(workspace.restricted, year))
        unchanged = _unchanged(workspace, year, version, rules_hash, panel, compared_ids, reviewed)
        if unchanged is not None:
            return unchanged  # the panel's members (raw data of every campaign) are not read
        members = None if panel is None else constant_panel.panel_members(raw, territory, *panel) or set()
        questions = [q for q in tabulated_questions(year) if only is None or q.id in only]
        read = PublishInputs(
            version, panel, members, _panel_note(window, year, panel, members), questions,
            raw.wide(year, territory, version, variables=[*BREAKDOWNS, *(q.id for q in questions)]),
            last_year_release(workspace, raw, territory, year, questions, members))
    read = replace(read, review=review_in_force(workspace, year, read.wide, levels))
    return _publish(workspace, territory, year, user, workers, read, compared, compared_ids, rules_hash)


def _publish(workspace: Workspace, territory: geo.Territory, year: int, user: str, workers: int | None,
             read: PublishInputs, compared: pd.DataFrame | None, compared_ids: list[str],
             rules_hash: str) -> PublishOutcome:
    """Protect, audit and write the draft bundle from what :func:`publish_year` read (no raw-data access)."""
    from senacs_workbench.restricted.publication.ledger_store import released_cells

    version, questions, wide, last_year, members = read.version, read.questions, read.wide, read.last_year, read.members
    levels = LEVELS_OF_WORKSPACE[territory.level]
    panel_note = read.panel_note + (read.review.stale_message_fr if read.review else "")
    released = released_cells(workspace, year)
    breakdowns: tuple[str, ...] = BREAKDOWNS
    if members is not None:
        with_panel_column(wide, members)
        breakdowns = (*BREAKDOWNS, PANEL_BREAKDOWN)
    spec = ReleaseSpec(levels=levels, breakdowns=breakdowns)
    plain = ReleaseSpec(levels=spec.levels)
    compared = _compared_in_release(compared, spec, plain)
    # Other workspaces' releases first, the workspace's own after (the latest wins a key both hold;
    # a disagreement between them is then caught by ``mismatch``, and the question refused).
    ledger = _ledger_for(_concat([compared, None if last_year is None else last_year[0], released]))
    # the geography columns are the same for every question: built once (infra views kept where released)
    geography = only_released_infra(microdata_geography(wide), released)
    last_geography = None if last_year is None else microdata_geography(last_year[1])
    ledgers = None if ledger is None else ledger.by_variable([q.id for q in questions])
    jobs = [QuestionJob(microdata(wide, q, geography), q, year,
                        spec if q.id in PANEL_VARIABLES else plain, None if ledgers is None else ledgers[q.id],
                        microdata(last_year[1], q, last_geography)
                        if last_year is not None and q.id in last_year[1].columns else None,
                        read.review.reviewed.get(q.id) if read.review else None)
            for q in questions]
    results = protect_questions(jobs, workers)
    # A question whose protection the independent audit does not accept is withheld whole
    # (the strongest suppression): each question is its own linear system, so leaving one out
    # weakens no other. It is named in the manifest and in the message for the committee. So is
    # a question the ledger refuses: a released cell (this workspace's or another's) that this
    # data version cannot publish as it was released.
    reasons = _refusals(questions, results, compared)
    withheld = [q.id for q, r in zip(questions, results, strict=True) if not r.audit_ok or q.id in reasons]
    # Issue 16: the independent audit of the union (this draft, this year's releases, the
    # comparison bundles) withholds the linked questions it rejects (publication/union_gate.py).
    from senacs_workbench.restricted.publication.union_gate import union_withheld

    union_rejected, union_summary = union_withheld(
        workspace, year, wide, [r.cells for q, r in zip(questions, results, strict=True) if q.id not in withheld],
        released)
    withheld += union_rejected
    kept = [r for q, r in zip(questions, results, strict=True) if q.id not in withheld]
    if not kept:
        raise PublicationRefused(
            f"L'audit du secret statistique de la campagne {year} n'accepte aucune question : rien n'est publié."
            + "".join(f" {reason}" for reason in reasons.values())
        )
    cells = pd.concat([r.cells for r in kept], ignore_index=True)
    audit_summary = _combine_audits([r.audit for r in kept]) | union_summary
    audit_ok = all(r.audit_ok for r in kept)  # the writer refuses a table whose audit did not pass
    if withheld:
        audit_summary["withheld_variables"] = withheld
    if compared_ids:
        audit_summary["compared_releases"] = compared_ids
    if read.review is not None and read.review.digest:
        audit_summary[REVIEW_DIGEST] = read.review.digest
    manifest = write_draft(
        workspace.published, cells,
        BundleDescription(year, territory.key, version, rules_hash, audit_summary, audit_ok, user,
                          panel_years=read.panel, audit_anchor=audit_log.head(workspace.audit_log_path)),
        extra_files={directory_name(year): public_directory(wide)},
    )
    write_suppression_reasons(workspace.restricted, year, manifest["bundle_hash"], cells)
    from senacs_workbench.restricted.publication.rejection import rejections

    if any(r.get("bundle_hash") == manifest["bundle_hash"] for r in rejections(workspace)):
        panel_note += (" Attention : ce jeu de tableaux est identique à un jeu déjà rejeté ; il ne pourra pas être "
                       "approuvé (corrigez les données ou relancez la publication).")
    audit_log.append(workspace.audit_log_path, user=user, action="publish_draft", territory=territory.key,
                     details={"year": year, "data_version": version, "bundle_hash": manifest["bundle_hash"]})
    return PublishOutcome(
        year, version, True, manifest["cells"], manifest["suppressed"], audit_summary,
        f"Campagne {year} (version {version} des données) : {format_number(manifest['cells'])} cellules, dont "
        f"{format_number(manifest['suppressed'])} masquées par le secret statistique ; audit réussi"
        + (f" ; non publiée(s) faute de protection garantie : {', '.join(withheld)}" if withheld else "")
        + "." + "".join(f" {reason}" for reason in reasons.values()) + panel_note + " "
        f"Le jeu de tableaux attend l'approbation {REQUIRED_PHRASE} du comité "
        "(« senacs release approve »).",
    )


def with_panel_column(wide: pd.DataFrame, members: set[str]) -> None:
    """Add the constant-panel breakdown (``panel`` / ``hors_panel``) to ``wide``, in place."""
    wide[PANEL_BREAKDOWN] = wide["structure_id"].astype(str).isin(members).map({True: PANEL_IN, False: PANEL_OUT})


def last_year_release(workspace: Workspace, raw: Any, territory: geo.Territory, year: int,
                       questions: Sequence[Question], members: set[str] | None
                       ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Last year's released cells and its microdata at the released data version (both
    restricted), for the year-over-year rules of the engine, read from ``raw`` (an open session
    or a store); None when last year was never released by the committee."""
    from senacs_workbench.restricted.publication.ledger_store import committee_releases, released_cells

    releases = committee_releases(workspace, year - 1)
    cells = released_cells(workspace, year - 1)
    if not releases or cells is None:
        return None
    version = int(releases[-1]["data_version"])
    asked = {q.id for q in questions}
    known = [q.id for q in tabulated_questions(year - 1) if q.id in asked]
    wide = raw.wide(year - 1, territory, version, variables=[*BREAKDOWNS, *known])
    if members is not None:
        with_panel_column(wide, members)
    return cells, wide


def _concat(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame | None:
    present = [frame for frame in frames if frame is not None and len(frame)]
    return pd.concat(present, ignore_index=True) if present else None


def _ledger_for(released: pd.DataFrame | None) -> Any:
    if released is None:
        return None
    from senacs_workbench.disclosure.ledger import Ledger

    return Ledger.from_released(released)
