"""Plaquettes as part of a campaign: the ``plaquettes`` section of a campaign file.

::

    plaquettes:
      territories: [national, regions, departements]   # same vocabulary as runs: FR, region:75, departement:24, 24
      year: 2024

The section is validated with the rest of the file (:func:`parse_section`, called by
``spec.load_campaign``): unknown keys, unknown territories, a year without a codebook or
without a released bundle are refused in French, naming the file and the key, before anything
runs. ``senacs run`` then builds each plaquette as a *draft* (``reports/committee/plaquettes/
<year>/<slug>/``) with one kaleido server and one browser for all of them, records a status
per plaquette (done, skipped, failed with its French error), lists them in the committee index
of the campaign, and exits 1 if one failed.

``--resume`` skips a plaquette whose inputs have not changed since its last successful build
in this campaign and whose draft is still that build (same PDF hash): the released bundle of
the year, the édito of the territory, the public directory of structures (départements), the
template, the plaquette code and its packaged data. Skipping matters: building again gives a
new PDF, which drops the committee's approvals. Without ``--resume`` every plaquette is built
again, except one whose unchanged draft carries approvals: a scheduled run never drops what the
committee approved unless what it approved has changed. The state is kept in
``reports/.campaigns/<campaign>.plaquettes.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senacs_workbench.core.approvals import REQUIRED_PHRASE
from senacs_workbench.core.codebook import available_years
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.fingerprint import package_fingerprint
from senacs_workbench.core.workspace import Workspace, write_text_atomic
from senacs_workbench.released.bundle_contract import (
    RELEASED,
    bundle_hash,
    read_manifest,
    released_versions,
    sha256_file,
)
from senacs_workbench.released.plaquette.content import DIRECTORY, parse, slug_of, territory_title
from senacs_workbench.restricted.campaign.execute import DONE, FAILED, SKIPPED, STATUS_LABELS, RunStatus

SECTION = "plaquettes"
KEYS = ("territories", "year")
PLAQUETTE_LABELS = {
    DONE: "construite (brouillon à faire approuver)",
    SKIPPED: "inchangée, non reconstruite (approbations conservées)",
    FAILED: "échec",
}


@dataclass(frozen=True)
class PlaquetteSpec:
    """What the campaign builds: these territories' plaquettes for ``year``."""

    territories: tuple[str, ...]
    """Territory keys: ``FR``, ``region:<code>``, ``departement:<code>``."""
    year: int


def parse_section(raw: Any, released: set[int]) -> tuple[PlaquetteSpec | None, list[str]]:
    """Validate a campaign file's ``plaquettes`` section; (spec, []) or (None, French problems)."""
    from senacs_workbench.restricted.campaign.spec import expand_territories

    if not isinstance(raw, dict):
        return None, [f"{SECTION} : un dictionnaire est attendu (clés : {', '.join(KEYS)}), "
                      f"par exemple {{territories: [national, regions, departements], year: 2024}}."]
    problems = []
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        problems.append(f"{SECTION} : clé(s) inconnue(s) {', '.join(unknown)} (clés admises : {', '.join(KEYS)}).")
    keys: list[str] = []
    if "territories" not in raw or raw["territories"] in (None, [], ""):
        problems.append(f"{SECTION}.territories : indiquez les territoires (national, regions, departements, "
                        "region:75, departement:24…).")
    else:
        keys, territory_problems = expand_territories(raw["territories"])
        problems += [f"{SECTION}.territories : {p}" for p in territory_problems]
    year = raw.get("year")
    if "year" not in raw:
        problems.append(f"{SECTION}.year : indiquez l'année de la campagne (par exemple year: 2024).")
    elif not isinstance(year, int) or isinstance(year, bool):
        problems.append(f"{SECTION}.year = {year!r} : une année (nombre entier) est attendue.")
    elif year not in available_years():
        problems.append(f"{SECTION}.year = {year} : aucun questionnaire pour cette campagne.")
    elif year not in released:
        problems.append(f"{SECTION}.year = {year} : aucun jeu de tableaux validé par le comité pour cette campagne "
                        "(« senacs publish » puis « senacs release approve »).")
    if problems:
        return None, problems
    return PlaquetteSpec(tuple(keys), int(year)), []  # type: ignore[arg-type]


@dataclass
class PlaquetteOutcome:
    territory: str
    slug: str
    title: str
    year: int
    status: RunStatus
    message: str = ""
    pdf: Path | None = None
    html: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (DONE, SKIPPED)

    @property
    def key(self) -> str:
        return f"{self.year}/{self.slug}"


# ---------------------------------------------------------------------------- resume


def code_hash() -> str:
    """The package (code, templates, packaged data: :mod:`senacs_workbench.core.fingerprint`) and
    pygal_maps_fr's map, which the plaquette draws with."""
    from importlib import resources

    pygal_map = resources.files("pygal_maps_fr").joinpath("fr.departments.svg").read_bytes()
    return hashlib.sha256(package_fingerprint().encode() + hashlib.sha256(pygal_map).digest()).hexdigest()


def fingerprint(workspace: Workspace, territory: str, year: int, code: str) -> str:
    """What a plaquette depends on: released bundle of the year, édito, public directory (départements), code."""
    where = parse(territory)
    versions = released_versions(workspace.published / RELEASED, year)
    edito = workspace.published / "plaquette" / "edito"
    inputs = [edito / f"{slug_of(where)}.md", edito / f"{slug_of(where)}.yaml"]
    if where.level == "departement":
        inputs.append(workspace.published / DIRECTORY / f"{year}.csv")
    body = {
        "territory": slug_of(where),
        "year": year,
        "bundle": [versions[-1].name, bundle_hash(read_manifest(versions[-1]))] if versions else None,
        "inputs": {p.name: (sha256_file(p) if p.is_file() else None) for p in inputs},
        "code": code,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def state_path(workspace: Workspace, campaign: str) -> Path:
    return workspace.reports / ".campaigns" / f"{campaign}.{SECTION}.json"


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded


def _unchanged_draft(workspace: Workspace, territory: str, year: int, previous: dict[str, Any]) -> Path | None:
    """The draft's PDF if it is still the one this campaign built last (same hash in its record and on disk)."""
    from senacs_workbench.released.plaquette.build import PDF_NAME, draft_folder, read_record

    folder = draft_folder(workspace.reports, territory, year)
    record = read_record(folder) or {}
    pdf = folder / PDF_NAME
    digest = previous.get("pdf_sha256")
    if digest and record.get("pdf_sha256") == digest and pdf.is_file() and sha256_file(pdf) == digest:
        return pdf
    return None


def _approved(folder: Path) -> bool:
    """Whether the draft in ``folder`` carries approvals (a rebuild would drop them)."""
    from senacs_workbench.released.plaquette.build import read_record

    return bool((read_record(folder) or {}).get("approvals"))


# ---------------------------------------------------------------------------- building


def _message(exc: BaseException) -> str:
    if isinstance(exc, SenacsError | ValueError):
        return str(exc)
    return f"erreur inattendue ({type(exc).__name__}) : {exc}"


def build_campaign_plaquettes(workspace: Workspace, campaign: str, spec: PlaquetteSpec, *, resume: bool = False,
                              progress: bool = True) -> list[PlaquetteOutcome]:
    """Build the section's plaquettes as drafts (audited), one renderer for all; one outcome per plaquette."""
    from tqdm.auto import tqdm

    from senacs_workbench.released.plaquette.build import HTML_NAME, PlaquetteBuilder
    from senacs_workbench.restricted.publication.plaquette import build_plaquette

    path = state_path(workspace, campaign)
    state = _load(path)
    code = code_hash()
    outcomes: list[PlaquetteOutcome] = []
    todo: list[tuple[PlaquetteOutcome, str]] = []
    for territory in spec.territories:
        where = parse(territory)
        outcome = PlaquetteOutcome(territory, slug_of(where), territory_title(where), spec.year,
                                   RunStatus.PENDING)
        outcomes.append(outcome)
        finger = fingerprint(workspace, territory, spec.year, code)
        previous = state.get(outcome.key, {})
        pdf = _unchanged_draft(workspace, territory, spec.year, previous) if \
            previous.get("status") == DONE and previous.get("fingerprint") == finger else None
        if pdf is not None and (resume or _approved(pdf.parent)):
            outcome.status, outcome.pdf, outcome.html = SKIPPED, pdf, pdf.with_name(HTML_NAME)
        else:
            todo.append((outcome, finger))

    def record(outcome: PlaquetteOutcome, finger: str, digest: str | None) -> None:
        state[outcome.key] = {"fingerprint": finger, "status": outcome.status.value, "message": outcome.message,
                              "pdf_sha256": digest,
                              "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        write_text_atomic(path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))

    if not todo:
        return outcomes
    path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(todo), desc=f"Plaquettes {spec.year}", unit="plaquette", disable=not progress) as bar:
        try:
            builder = PlaquetteBuilder().__enter__()  # one kaleido server and one browser for every plaquette
        except Exception as exc:
            for outcome, finger in todo:
                outcome.status = FAILED
                outcome.message = f"le moteur de rendu (kaleido, chromium) n'a pas démarré : {_message(exc)}"
                record(outcome, finger, None)
            bar.write(f"Plaquettes : {todo[0][0].message}")
            return outcomes
        try:
            for outcome, finger in todo:
                started = time.perf_counter()
                try:
                    result = build_plaquette(workspace, outcome.territory, spec.year, builder=builder)
                except Exception as exc:
                    outcome.status, outcome.message = FAILED, _message(exc)
                    bar.write(f"{STATUS_LABELS[FAILED].capitalize()} : plaquette {outcome.title} — {outcome.message}")
                    record(outcome, finger, None)
                else:
                    outcome.status, outcome.pdf, outcome.html = DONE, result.pdf, result.html
                    record(outcome, finger, result.pdf_hash)
                outcome.seconds = time.perf_counter() - started
                bar.update(1)
        finally:
            builder.__exit__(None, None, None)
    return outcomes


# ---------------------------------------------------------------------------- reporting


def _rank(outcome: PlaquetteOutcome) -> tuple[int, str]:
    return {"national": 0, "region": 1, "departement": 2}[parse(outcome.territory).level], outcome.slug


def index_section(folder: Path, outcomes: list[PlaquetteOutcome]) -> str:
    """The plaquettes' part of a committee ``index.html`` in ``folder`` (French; links relative to it)."""
    if not outcomes:
        return ""
    parts = []
    for year in sorted({o.year for o in outcomes}):
        items = []
        for outcome in sorted((o for o in outcomes if o.year == year), key=_rank):
            if outcome.ok and outcome.pdf is not None:
                pdf = os.path.relpath(outcome.pdf, folder)
                link = f'<a href="{html.escape(pdf)}">{html.escape(outcome.title)}</a>'
                if outcome.html is not None:
                    link += f' (<a href="{html.escape(os.path.relpath(outcome.html, folder))}">HTML</a>)'
                status = f" <small>{html.escape(PLAQUETTE_LABELS[outcome.status])}</small>"
            else:
                link = html.escape(outcome.title)
                status = (f' <strong class="echec">({html.escape(STATUS_LABELS[FAILED])} : '
                          f"{html.escape(outcome.message)})</strong>")
            items.append(f"<li>{link}{status}</li>")
        done = sum(o.ok for o in outcomes if o.year == year)
        parts.append(
            f"<h2>Plaquettes {year}</h2>\n<p>{done} plaquette(s) disponible(s) sur "
            f"{sum(o.year == year for o in outcomes)}. Chaque plaquette construite est un brouillon : elle se publie "
            f"après l'approbation {REQUIRED_PHRASE} du comité de pilotage du territoire "
            "(« senacs plaquette approve », puis « senacs plaquette publish »).</p>\n<ul>\n"
            + "\n".join(items) + "\n</ul>"
        )
    return "\n".join(parts)


def summary_lines(outcomes: list[PlaquetteOutcome]) -> list[str]:
    """French lines for the campaign summary: counts, then each failure with its error."""
    if not outcomes:
        return []
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    parts = ", ".join(f"{STATUS_LABELS.get(s, s)} : {n}" for s, n in sorted(counts.items()))
    lines = [f"Plaquettes : {len(outcomes)} ({parts})."]
    lines += [f"  {STATUS_LABELS[FAILED].upper()} plaquette {o.title} ({o.year}) : {o.message}"
              for o in outcomes if not o.ok]
    return lines
