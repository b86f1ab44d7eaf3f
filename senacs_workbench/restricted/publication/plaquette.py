"""The plaquette in a workspace: audited builds, committee approval bound to the PDF, publication.

Charter 3.1: local plaquettes are validated beforehand by the members of the steering
committee. A built plaquette is a draft (``reports/committee/plaquettes/<year>/<slug>/``).
:func:`approve_plaquette` records the approval of the acting member of *that territory's*
committee, bound to the PDF's sha256, and refuses while the édito is still the placeholder
(the committee writes ``published/plaquette/edito/<slug>.md`` first); :func:`publish_plaquette`
refuses the same, and until a CAF member and a federation member have approved that exact
PDF, then writes the published copy to ``published/plaquettes/<year>/<slug>/`` with
``approval.json`` (who, when, which hash). Building again writes a new record without
approvals. Every step, refusals included, goes to the audit log.

For the CLI (wired by the lead): :func:`build_plaquette`, :func:`build_many`,
:func:`approve_plaquette`, :func:`publish_plaquette`; for ``senacs status``:
:func:`plaquette_states`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import REQUIRED_INSTITUTIONS, missing_phrase
from senacs_workbench.core.committee_decisions import approval_state
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.governance_chain import CHAIN_FILE, chain_path, verify_workspace_chain
from senacs_workbench.core.signatures import SignedStatement
from senacs_workbench.core.workspace import Workspace, open_workspace, write_text_atomic
from senacs_workbench.released.bundle_contract import sha256_file
from senacs_workbench.released.plaquette.build import (
    HTML_NAME,
    PDF_NAME,
    BuildResult,
    PlaquetteBuilder,
    draft_folder,
    read_record,
    write_record,
)
from senacs_workbench.released.plaquette.content import EDITO_PLACEHOLDER_HTML, parse, slug_of, territory_title
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.committee_approval import demo_signature, record_signature, require_committee_member
from senacs_workbench.trust.identity import acting_user

HASH_FIELD = "pdf_sha256"
APPROVAL_FILE = "approval.json"
Echo = Callable[[str], None]


class PlaquetteError(SenacsError):
    """A plaquette cannot be approved or published (message in French)."""


@dataclass(frozen=True)
class ApprovalResult:
    territory: str
    year: int
    approver: str
    pdf_hash: str
    missing: list[str]
    message_fr: str


def _workspace(workspace: Workspace | Path | str) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else open_workspace(Path(workspace))


def published_folder(workspace: Workspace, territory: str, year: int) -> Path:
    return workspace.published / "plaquettes" / str(year) / slug_of(parse(territory))


def _log(workspace: Workspace, user: str, action: str, territory: geo.Territory, details: dict[str, Any]) -> None:
    audit_log.append(workspace.audit_log_path, user=user, action=action, territory=territory.key,
                     details=details)


def _built(workspace: Workspace, user: str, territory: geo.Territory, year: int, result: BuildResult,
           previous: dict[str, Any] | None) -> None:
    invalidated = len(previous.get("approvals", [])) if previous else 0
    _log(workspace, user, "build_plaquette", territory,
         {"year": year, "plaquette": result.territory, HASH_FIELD: result.pdf_hash,
          "approvals_invalidated": invalidated})


def build_plaquette(source: Workspace | Path | str, territory: str, year: int, *,
                    reports_dir: Path | str | None = None, structures: pd.DataFrame | None = None,
                    builder: PlaquetteBuilder | None = None) -> BuildResult:
    """Build the draft plaquette of ``territory`` (``FR``, ``R75``, ``24``, ``region:75``…) for ``year``.

    ``source`` is a workspace (its ``published/`` and ``reports/``; the build is audited) or a
    ``published/`` folder together with ``reports_dir`` (no workspace, no audit log). A build
    replaces the draft and drops its approvals. ``structures``: optional public identity data
    (name, commune, type, management mode) for the list of structures.
    """
    where = parse(territory)
    workspace: Workspace | None = None
    if isinstance(source, Workspace) or (Path(source) / "workspace.yaml").exists():
        workspace = _workspace(source)
        published, reports = workspace.published, Path(reports_dir) if reports_dir else workspace.reports
        user = acting_user(workspace.governance_path)
    else:
        user = acting_user()
        if reports_dir is None:
            raise PlaquetteError(
                "Indiquez le dossier des rapports (reports_dir) pour construire hors espace de travail."
            )
        published, reports = Path(source), Path(reports_dir)
    previous = read_record(draft_folder(reports, territory, year))
    if builder is None:
        with PlaquetteBuilder() as own:
            result = own.build(published, reports, territory, year, structures=structures, user=user)
    else:
        result = builder.build(published, reports, territory, year, structures=structures, user=user)
    if workspace is not None:
        _built(workspace, user, where, year, result, previous)
    return result


def build_many(workspace: Workspace | Path | str, territories: Iterable[str], year: int, *,
               structures: pd.DataFrame | None = None, echo: Echo | None = None,
               builder: PlaquetteBuilder | None = None) -> list[BuildResult]:
    """Build several plaquettes with one kaleido server and one browser, each build audited.

    ``builder``: an already started :class:`PlaquetteBuilder` to reuse (else one is started and stopped here).
    """
    ws = _workspace(workspace)
    if builder is None:
        with PlaquetteBuilder() as own:
            return build_many(ws, territories, year, structures=structures, echo=echo, builder=own)
    results = []
    for territory in territories:
        result = build_plaquette(ws, territory, year, structures=structures, builder=builder)
        if echo:
            echo(f"  plaquette {territory_title(parse(territory))} : {result.pdf}")
        results.append(result)
    return results


def all_territories() -> list[str]:
    """Every territory that has a plaquette: the nation, the 18 régions, the 101 départements (120)."""
    return [geo.NATIONAL_CODE, *(f"R{c}" for c in geo.regions().code), *geo.departements().code]


def _draft(workspace: Workspace, territory: str, year: int) -> tuple[Path, dict[str, Any]]:
    folder = draft_folder(workspace.reports, territory, year)
    record = read_record(folder)
    if record is None or not (folder / PDF_NAME).exists():
        raise PlaquetteError(
            f"Aucune plaquette construite pour {territory_title(parse(territory))} (campagne {year}) : "
            f"lancez d'abord « senacs plaquette build --territory {territory} --year {year} »."
        )
    actual = sha256_file(folder / PDF_NAME)
    if actual != record.get(HASH_FIELD):
        raise PlaquetteError(
            f"Le fichier {folder / PDF_NAME} a été modifié depuis sa construction (empreinte différente) : "
            "reconstruisez la plaquette avant toute approbation ou publication."
        )
    return folder, record


def has_placeholder(folder: Path, record: dict[str, Any]) -> bool:
    """Whether the draft in ``folder`` still shows the placeholder édito (recorded at build; else read in its HTML)."""
    if "edito_placeholder" in record:
        return bool(record["edito_placeholder"])
    page = folder / HTML_NAME
    return page.is_file() and EDITO_PLACEHOLDER_HTML in page.read_text(encoding="utf-8")


def _refuse_placeholder(ws: Workspace, user: str, action: str, where: geo.Territory, year: int,
                        folder: Path, record: dict[str, Any]) -> None:
    if not has_placeholder(folder, record):
        return
    slug = slug_of(where)
    _log(ws, user, f"refused:{action}", where,
         {"year": year, "plaquette": slug, HASH_FIELD: record.get(HASH_FIELD), "reason": "edito_placeholder"})
    verb = "Approbation" if action == "approve_plaquette" else "Publication"
    raise PlaquetteError(
        f"{verb} refusée : l'édito de la plaquette {territory_title(where)} {year} est encore le texte provisoire. "
        f"Le comité de pilotage dépose son édito dans {ws.published / 'plaquette' / 'edito' / f'{slug}.md'} "
        "(le texte, précédé d'un en-tête YAML « caf: … » et « federation: … » pour les signataires), puis la "
        f"plaquette est reconstruite "
        f"(« senacs plaquette build --territory {slug} --year {year} »). Ce refus est inscrit au journal d'audit."
    )


def _approvals(ws: Workspace, where: geo.Territory, record: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The draft's approvals that are valid signatures of its PDF's hash by ``where``'s committee, and what lacks."""
    digest = record.get(HASH_FIELD)
    if not digest:
        return [], list(REQUIRED_INSTITUTIONS)
    return approval_state(record.get("approvals", []), "plaquette", where, HASH_FIELD, digest,
                          verify_workspace_chain(ws.governance_path))


def approve_plaquette(workspace: Workspace | Path | str, territory: str, year: int,
                      user: str | None = None, signature: SignedStatement | None = None) -> ApprovalResult:
    """Record a member of ``territory``'s steering committee's signed approval of the PDF's hash.

    ``signature``: the member's signature (``senacs plaquette sign``); without it, in a demonstration
    workspace only, the acting fictitious member signs with their demonstration key. Refused while
    the plaquette shows the placeholder édito.
    """
    ws = _workspace(workspace)
    where = parse(territory)
    slug = slug_of(where)
    if signature is None:
        user = user or acting_user(ws.governance_path)
        require_committee_member(ws, where, user, "approve_plaquette", {"year": year, "plaquette": slug})
    else:
        user = signature.user
    folder, record = _draft(ws, territory, year)
    _refuse_placeholder(ws, user, "approve_plaquette", where, year, folder, record)
    digest = record[HASH_FIELD]
    if signature is None:
        signature = demo_signature(ws, user, "plaquette", where, digest)
    member, approvals = record_signature(ws, record.get("approvals", []), signature, "plaquette", where, HASH_FIELD,
                                         digest, "approve_plaquette", {"year": year, "plaquette": slug})
    record["approvals"] = approvals
    write_record(folder, record)
    _log(ws, member.user, "approve_plaquette", where,
         {"year": year, "plaquette": slug, HASH_FIELD: digest, "institution": member.institution})
    _, missing = _approvals(ws, where, record)
    name = territory_title(where)
    if missing:
        message = (f"Approbation signée de {member.name} enregistrée pour la plaquette {name} {year} ; il manque "
                   f"encore l'approbation d'{missing_phrase(missing)} pour la publier.")
    else:
        message = (f"Approbation signée de {member.name} enregistrée : la plaquette {name} {year} peut être publiée "
                   f"(« senacs plaquette publish --territory {slug} --year {year} »).")
    return ApprovalResult(slug, year, member.user, digest, missing, message)


def publish_plaquette(workspace: Workspace | Path | str, territory: str, year: int,
                      user: str | None = None) -> Path:
    """Publish the approved PDF (and its HTML) with its signed approvals; refuse without CAF + federation signatures."""
    ws = _workspace(workspace)
    where = parse(territory)
    user = user or acting_user(ws.governance_path)
    slug = slug_of(where)
    folder, record = _draft(ws, territory, year)
    _refuse_placeholder(ws, user, "publish_plaquette", where, year, folder, record)
    digest = record[HASH_FIELD]
    approvals, missing = _approvals(ws, where, record)
    if missing:
        _log(ws, user, "refused:publish_plaquette", where,
             {"year": year, "plaquette": slug, HASH_FIELD: digest, "missing": missing})
        raise PlaquetteError(
            f"Publication refusée : la plaquette {territory_title(where)} {year} n'a pas l'approbation signée "
            f"d'{missing_phrase(missing)} du comité de pilotage pour ce PDF (empreinte {digest[:12]}…). "
            "Chaque nouvelle construction annule les approbations précédentes. Ce refus est inscrit au journal d'audit."
        )
    target = published_folder(ws, territory, year)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    shutil.copyfile(folder / PDF_NAME, tmp / PDF_NAME)
    shutil.copyfile(folder / HTML_NAME, tmp / HTML_NAME)
    shutil.copyfile(chain_path(ws.governance_path), tmp / CHAIN_FILE)  # the keys that verify the approvals
    if sha256_file(tmp / PDF_NAME) != digest:
        shutil.rmtree(tmp)
        raise PlaquetteError("Le PDF a changé pendant la publication : recommencez.")
    published_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    approval = {
        "territory": slug,
        "territory_name": territory_title(where),
        "year": year,
        HASH_FIELD: digest,
        "bundle_version": record.get("bundle_version"),
        "built_at": record.get("built_at"),
        "approvals": approvals,
        "published_at": published_at,
        "published_by": user,
    }
    write_text_atomic(tmp / APPROVAL_FILE, json.dumps(approval, ensure_ascii=False, indent=2, sort_keys=True))
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    if old.exists():
        shutil.rmtree(old)
    record["published"] = {HASH_FIELD: digest, "published_at": published_at, "folder": str(target)}
    write_record(folder, record)
    _log(ws, user, "publish_plaquette", where,
         {"year": year, "plaquette": slug, HASH_FIELD: digest, "approvers": [a["user"] for a in approvals]})
    return target


STATE_LABELS = {
    "draft": "brouillon (aucune approbation)",
    "partially_approved": "brouillon (approbation incomplète)",
    "approved": "approuvée, prête à publier",
    "published": "publiée",
    "altered": "PDF modifié depuis sa construction",
}


def plaquette_states(workspace: Workspace | Path | str) -> list[dict[str, Any]]:
    """Every plaquette of the workspace (drafts and published), for ``senacs status``."""
    ws = _workspace(workspace)
    states: list[dict[str, Any]] = []
    root = ws.reports / "committee" / "plaquettes"
    published_root = ws.published / "plaquettes"
    keys: set[tuple[str, str]] = set()
    for base in (root, published_root):
        if base.is_dir():
            keys |= {(y.name, t.name) for y in base.iterdir() if y.is_dir() and y.name.isdigit()
                     for t in y.iterdir() if t.is_dir() and not t.name.startswith(".")}
    for year_name, slug in sorted(keys):
        year = int(year_name)
        record = read_record(root / year_name / slug) or {}
        published_file = published_root / year_name / slug / APPROVAL_FILE
        published = json.loads(published_file.read_text(encoding="utf-8")) if published_file.exists() else None
        digest = record.get(HASH_FIELD)
        territory = parse(slug)
        approvals, missing = _approvals(ws, territory, record)
        pdf = root / year_name / slug / PDF_NAME
        if digest and pdf.exists() and sha256_file(pdf) != digest:
            state = "altered"
        elif published and published.get(HASH_FIELD) == digest:
            state = "published"
        elif approvals and not missing:
            state = "approved"
        elif approvals:
            state = "partially_approved"
        elif digest:
            state = "draft"
        else:
            state = "published"
        states.append({
            "year": year,
            "territory": slug,
            "territory_key": territory.key,
            "territory_name": territory_title(territory),
            "state": state,
            "state_fr": STATE_LABELS[state],
            HASH_FIELD: digest,
            "built_at": record.get("built_at"),
            "approvals": [{"user": a["user"], "institution": a["institution"], "time": a["time"]} for a in approvals],
            "missing": missing if state not in ("published",) else [],
            "published": None if published is None else {
                HASH_FIELD: published.get(HASH_FIELD), "published_at": published.get("published_at"),
                "current": published.get(HASH_FIELD) == digest or digest is None,
            },
        })
    return states


def render_states(states: list[dict[str, Any]]) -> str:
    """French lines for ``senacs status``."""
    if not states:
        return "Plaquettes : aucune"
    lines = ["Plaquettes :"]
    for s in states:
        line = f"  {s['year']} {s['territory_name']} : {s['state_fr']}"
        if s["missing"] and s["state"] in ("draft", "partially_approved"):
            line += f" — il manque l'approbation d'{missing_phrase(s['missing'])}"
        if s["published"] and not s["published"]["current"]:
            line += f" — une version antérieure est publiée ({s['published']['published_at']})"
        lines.append(line)
    return "\n".join(lines)
