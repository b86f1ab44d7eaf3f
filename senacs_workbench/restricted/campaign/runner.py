"""``senacs run``: run a whole campaign of parameterised notebooks.

1. take the workspace lock (:mod:`senacs_workbench.core.workspace_lock`, shared with
   publications, backups and erasures): two campaigns never run at once, nor a campaign while a
   publication replaces the bundles it reads;
2. load and validate the campaign file (nothing runs if anything is wrong);
3. compute each run's fingerprint (notebook, parameters, released bundles it reads, analysis
   code) and, with ``resume``, skip runs that succeeded with the same fingerprint;
4. compute the constant panel's size for ``trends`` runs (restricted zone, logged);
5. execute the runs in parallel worker *processes* (local pool, or a Dask cluster), with a
   progress bar; record each run's status; render HTML without code;
6. build the plaquettes of the campaign's ``plaquettes`` section as drafts (see
   :mod:`senacs_workbench.restricted.campaign.plaquettes`);
7. print a PDF of the reports whose audience (or run) asks for one (``pdf``), through the
   plaquette's chromium (:mod:`.report_pdf`);
8. copy ``plotly.min.js`` once into each output folder whose reports share it, and write an
   ``index.html`` per folder linking each report's HTML and PDF (the committee index also lists
   the plaquettes). A report marked ``standalone`` (always a centre's) embeds plotly.js instead
   and works alone, e.g. sent by e-mail.

The outputs of the audiences narrower than the committee (``reports/restricted/<territory>/``,
``reports/centre/<structure_id>/``) are owner-only whatever the umask: their folders are made
0700 before any run writes there, and everything under them 0700/0600 once the campaign ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.fingerprint import package_fingerprint
from senacs_workbench.core.workspace import (
    OWNER_ONLY_REPORTS,
    Workspace,
    make_owner_only,
    restrict_tree,
    write_text_atomic,
)
from senacs_workbench.core.workspace_lock import WorkspaceBusy, workspace_lock
from senacs_workbench.released.analysis.audience import AUDIENCE_LABELS, CENTRE, COMMITTEE, RESTRICTED
from senacs_workbench.released.bundle_contract import (
    COMPARISONS,
    RELEASED,
    bundle_hash,
    read_manifest,
    released_versions,
)
from senacs_workbench.restricted.campaign.execute import (
    DONE,
    FAILED,
    PLOTLY_JS,
    SKIPPED,
    STATUS_LABELS,
    RunJob,
    RunMetadata,
    RunResult,
    RunStatus,
    execute_run,
    init_worker,
)
from senacs_workbench.restricted.campaign.plaquettes import (
    PlaquetteOutcome,
    build_campaign_plaquettes,
    index_section,
    summary_lines,
)
from senacs_workbench.restricted.campaign.report_pdf import export_pdfs
from senacs_workbench.restricted.campaign.spec import Campaign, RunSpec, load_campaign

STATE_DIR = ".campaigns"
INDEX = "index.html"
EXECUTORS = ("local", "dask")


class CampaignLocked(WorkspaceBusy):
    """Another campaign, a publication, a backup or an erasure holds the workspace's lock."""


@contextmanager
def campaign_lock(workspace: Workspace, name: str = "") -> Iterator[Path]:
    """Hold the workspace lock (:mod:`senacs_workbench.core.workspace_lock`, shared with the
    publication, the backup and the erasure) for a campaign; raise :class:`CampaignLocked` naming
    the holder once the bounded wait is over."""
    operation = f"la campagne « {name} »" if name else "une campagne"
    try:
        with workspace_lock(workspace.root, operation) as path:
            yield path
    except WorkspaceBusy as busy:
        raise CampaignLocked(busy.message, **busy.details) from None


@dataclass
class RunOutcome:
    run_id: str
    notebook: str
    label: str
    audience: str
    group: str
    parameters: dict[str, Any]
    status: RunStatus
    message: str = ""
    duration: float = 0.0
    html: Path | None = None
    notebook_output: Path | None = None
    artefacts: Path | None = None
    pdf: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status in (DONE, SKIPPED)


@dataclass
class CampaignReport:
    name: str
    outcomes: list[RunOutcome] = field(default_factory=list)
    indexes: list[Path] = field(default_factory=list)
    elapsed: float = 0.0
    plaquettes: list[PlaquetteOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes) and all(p.ok for p in self.plaquettes)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def summary_fr(self) -> str:
        parts = ", ".join(f"{STATUS_LABELS.get(s, s)} : {n}" for s, n in sorted(self.counts().items()))
        lines = ([f"Campagne {self.name} : {len(self.outcomes)} carnets ({parts}) en {self.elapsed:.0f} s."]
                 if self.outcomes else [f"Campagne {self.name} : aucun carnet, en {self.elapsed:.0f} s."])
        for outcome in self.outcomes:
            if not outcome.ok:
                lines.append(f"  {STATUS_LABELS.get(outcome.status, outcome.status).upper()} {outcome.run_id} : "
                             f"{outcome.message} (carnet conservé : {outcome.notebook_output})")
        lines += summary_lines(self.plaquettes)
        lines += [f"  Index : {path}" for path in self.indexes]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- fingerprints


def _bundle_hashes(workspace: Workspace, year: int) -> dict[str, str]:
    hashes: dict[str, str] = {}
    roots = {"local": workspace.published / RELEASED}
    comparisons = workspace.published / COMPARISONS
    if comparisons.is_dir():
        roots.update({p.name: p for p in comparisons.iterdir() if p.is_dir()})
    for source, root in roots.items():
        versions = released_versions(root, year)
        if versions:
            hashes[source] = bundle_hash(read_manifest(versions[-1]))
    return hashes


def _years(run: RunSpec) -> list[int]:
    params = run.parameters
    if "first_year" in params and "last_year" in params:
        return list(range(int(params["first_year"]), int(params["last_year"]) + 1))
    return [int(params["year"])] if "year" in params else []


def fingerprint(workspace: Workspace, run: RunSpec, parameters: dict[str, Any], code_hash: str) -> str:
    """What a run's output depends on: notebook, parameters, input bundles (and data version), analysis code."""
    inputs: dict[str, Any] = {str(y): _bundle_hashes(workspace, y) for y in _years(run)}
    if run.audience == CENTRE and "year" in run.parameters:
        from senacs_workbench.restricted.store import RawDataStore

        versions = RawDataStore(workspace).versions(int(run.parameters["year"]))
        inputs["data_version"] = None if versions.empty else int(versions["version"].max())
    if run.audience == RESTRICTED:
        # restricted notebooks read the store (coherence findings, identity data) and the
        # authorised infra-départemental bundles: any write to either reruns them
        if workspace.store_path.exists():
            stat = workspace.store_path.stat()
            inputs["store"] = [stat.st_size, stat.st_mtime_ns]
        authorised = workspace.restricted / "authorised"
        if authorised.is_dir():
            inputs["authorised"] = sorted(
                (str(p.parent.relative_to(authorised)), bundle_hash(read_manifest(p.parent)))
                for p in authorised.rglob("manifest.json"))
    body = {
        "notebook": hashlib.sha256(run.notebook_path.read_bytes()).hexdigest(),
        "parameters": parameters,
        "audience": run.audience,
        "standalone": run.standalone,
        "inputs": inputs,
        "code": code_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------- jobs


def _panel_sizes(workspace: Workspace, runs: list[RunSpec]) -> dict[tuple[str, int, int], int]:
    """Constant-panel sizes for the trends runs (read from the store as the preparer; -1 if unknown)."""
    wanted = {
        (str(r.parameters.get("territory", "FR")), int(r.parameters["first_year"]), int(r.parameters["last_year"]))
        for r in runs if "panel_structures" in r.runner_parameters
        and {"first_year", "last_year"} <= set(r.parameters)
    }
    if not wanted or not workspace.store_path.exists():
        return {key: -1 for key in wanted}
    from senacs_workbench.restricted.analysis.panel import panel_size

    sizes = {}
    for territory, first, last in sorted(wanted):
        size = panel_size(workspace, territory, first, last)
        sizes[(territory, first, last)] = -1 if size is None else size
    return sizes


def _title(run: RunSpec) -> str:
    params = run.parameters
    bits = [run.label]
    if "territory" in params:
        place = geo.parse_territory(str(params["territory"]))
        bits.append(place.name)
    if "theme" in params:
        bits.append(str(params["theme"]))
    if "structure_id" in params:
        bits.append(str(params["structure_id"]))
    if "first_year" in params:
        bits.append(f"{params['first_year']}–{params['last_year']}")
    elif "year" in params:
        bits.append(str(params["year"]))
    return " — ".join(bits)


def _job(workspace: Workspace, campaign: Campaign, run: RunSpec, parameters: dict[str, Any], finger: str,
         fresh_kernel: bool) -> RunJob:
    folder = workspace.reports / run.folder
    return RunJob(
        run_id=run.run_id,
        notebook_path=run.notebook_path,
        notebook_output=folder / "notebooks" / f"{run.run_id}.ipynb",
        failed_output=folder / "failed" / f"{run.run_id}.ipynb",
        html_output=folder / f"{run.run_id}.html",
        artefacts=folder / "artefacts" / run.run_id,
        parameters=parameters,
        timeout=run.timeout,
        title=_title(run),
        metadata=RunMetadata(
            audience=run.audience,
            declared_audience=run.declared_audience,
            campaign=campaign.name,
            run_id=run.run_id,
            parameters=run.parameters,
            fingerprint=finger,
            executed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        ),
        fresh_kernel=fresh_kernel,
        standalone=run.standalone,
        # a committee notebook's kernel cannot read the restricted zone (confinement.py)
        deny_read=(str(workspace.restricted),) if run.declared_audience == COMMITTEE else (),
        max_duration=run.max_duration,
    )


def _full_parameters(workspace: Workspace, run: RunSpec, panels: dict[tuple[str, int, int], int]) -> dict[str, Any]:
    folder = workspace.reports / run.folder
    params = dict(run.parameters)
    runner = {
        "published_dir": str(workspace.published),
        "workspace_dir": str(workspace.root),
        "output_dir": str(folder / "artefacts" / run.run_id),
    }
    if "panel_structures" in run.runner_parameters:
        key = (str(params.get("territory", "FR")), int(params.get("first_year", 0)), int(params.get("last_year", 0)))
        runner["panel_structures"] = panels.get(key, -1)  # type: ignore[assignment]
    params.update({k: v for k, v in runner.items() if k in run.runner_parameters})
    return params


# ---------------------------------------------------------------------------- executors


Done = Callable[[RunResult], None]


def _run_local(jobs: list[RunJob], workers: int, on_done: Done, log_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=context,
                             initializer=init_worker, initargs=(str(log_path),)) as pool:
        futures = {pool.submit(execute_run, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                on_done(future.result())
            except Exception as exc:  # a worker process crashed
                on_done(RunResult(job.run_id, RunStatus.FAILED, f"processus arrêté : {exc}"))


def _run_dask(jobs: list[RunJob], scheduler: str | None, workers: int, on_done: Done) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise SenacsError("L'exécuteur dask demande le paquet « dask[distributed] » (pip install "
                          "\"dask[distributed]\").") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {client.submit(execute_run, job, key=f"senacs-{job.run_id}-{os.getpid()}-{time.time_ns()}",
                                 pure=False): job for job in jobs}
        for future in dask_completed(list(futures)):
            job = futures[future]
            try:
                on_done(future.result())
            except Exception as exc:
                on_done(RunResult(job.run_id, RunStatus.FAILED, f"tâche Dask en échec : {exc}"))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------- outputs


def _export_pdfs(campaign: Campaign, by_id: dict[str, RunOutcome], state: dict[str, Any], progress: bool) -> None:
    """Print the PDF of every successful run that asks for one (one browser); a failed print fails its run."""
    wanted = {outcome.html: outcome for run in campaign.runs
              if run.pdf and (outcome := by_id[run.run_id]).ok and outcome.html is not None}
    if not wanted:
        return
    if progress:
        print(f"Campagne {campaign.name} : export PDF de {len(wanted)} rapport(s)…", flush=True)
    for result in export_pdfs(list(wanted)):
        outcome = wanted[result.html]
        if result.ok:
            outcome.pdf = result.pdf
            continue
        outcome.status, outcome.message = FAILED, f"export PDF impossible : {result.message}"
        state[outcome.run_id] = state.get(outcome.run_id, {}) | {"status": FAILED, "message": outcome.message}


def copy_plotly(folder: Path) -> Path:
    """One shared plotly.min.js per output folder (plotly/package_data/plotly.min.js)."""
    source = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    target = folder / PLOTLY_JS
    folder.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return target


def _group_heading(group: str) -> tuple[tuple[int, str], str]:
    if group.startswith("structure:"):
        return (3, group), f"Structure {group.split(':', 1)[1]}"
    try:
        place = geo.parse_territory(group)
    except ValueError:
        return (4, group), group
    rank = {"national": 0, "region": 1, "departement": 2}.get(place.level, 4)
    label = "France" if place.level == "national" else f"{geo.LEVEL_LABELS[place.level].capitalize()} {place.name} " \
                                                        f"({place.code})"
    return (rank, place.code), label


def write_index(folder: Path, campaign: str, audience: str, outcomes: list[RunOutcome], extra: str = "") -> Path:
    """``index.html`` of a folder's outputs, grouped by territory (French); ``extra``: HTML put after them."""
    groups: dict[str, list[RunOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.group, []).append(outcome)
    parts = []
    for group in sorted(groups, key=lambda g: _group_heading(g)[0]):
        items = []
        for outcome in sorted(groups[group], key=lambda o: o.run_id):
            params = ", ".join(f"{k} = {v}" for k, v in outcome.parameters.items() if k != "territory")
            if outcome.ok and outcome.html is not None:
                link = f'<a href="{html.escape(outcome.html.name)}">{html.escape(outcome.label)}</a>'
                if outcome.pdf is not None:
                    link += f' (<a href="{html.escape(outcome.pdf.name)}">PDF</a>)'
            else:
                link = html.escape(outcome.label)
            status = "" if outcome.ok else f' <strong class="echec">({html.escape(STATUS_LABELS[outcome.status])})' \
                                            "</strong>"
            items.append(f"<li>{link} <small>{html.escape(params)}</small>{status}</li>")
        parts.append(f"<h2>{html.escape(_group_heading(group)[1])}</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    done = sum(o.ok for o in outcomes)
    page = f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>Campagne {html.escape(campaign)} — sorties</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} .echec{{color:#b00}}</style></head>
<body>
<h1>Campagne {html.escape(campaign)}</h1>
<p>Destinataires : {html.escape(AUDIENCE_LABELS.get(audience, audience))}. {done} sortie(s) disponible(s) sur
{len(outcomes)}, par territoire. Mis à jour le {dt.datetime.now(dt.UTC).strftime("%d/%m/%Y à %H:%M")} UTC.</p>
{chr(10).join(parts)}
{extra}
</body>
</html>
"""
    path = folder / INDEX
    write_text_atomic(path, page)
    return path


# ---------------------------------------------------------------------------- the campaign


def _state_path(workspace: Workspace, name: str) -> Path:
    return workspace.reports / STATE_DIR / f"{name}.json"


def _load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return loaded


def run_campaign(
    workspace: Workspace,
    campaign_file: Path | str,
    *,
    resume: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int = 2,
    progress: bool = True,
    fresh_kernels: bool = False,
) -> CampaignReport:
    """Run every notebook of ``campaign_file`` on ``workspace``; see the module docstring.

    Raises :class:`CampaignError` (invalid file, nothing run) or :class:`CampaignLocked`.
    The report's ``exit_code`` is 1 if any run failed, timed out or lost its kernel.
    ``fresh_kernels``: one new kernel per run instead of each worker's warm kernel (see
    :mod:`senacs_workbench.restricted.campaign.execute`).
    """
    from tqdm.auto import tqdm

    if executor not in EXECUTORS:
        raise SenacsError(f"Exécuteur inconnu « {executor} » (choix : {', '.join(EXECUTORS)}).")
    started = time.perf_counter()
    with campaign_lock(workspace, Path(campaign_file).stem):
        campaign = load_campaign(workspace, campaign_file)
        narrow = sorted({run.folder.parts[0] for run in campaign.runs} & set(OWNER_ONLY_REPORTS))
        for run in campaign.runs:
            if run.folder.parts[0] in narrow:
                for depth in range(1, len(run.folder.parts) + 1):
                    make_owner_only(workspace.reports / Path(*run.folder.parts[:depth]))
        code_hash = package_fingerprint()
        state_path = _state_path(workspace, campaign.name)
        state = _load_state(state_path)
        panels = _panel_sizes(workspace, campaign.runs)
        report = CampaignReport(campaign.name)
        by_id: dict[str, RunOutcome] = {}
        jobs: list[RunJob] = []
        for run in campaign.runs:
            parameters = _full_parameters(workspace, run, panels)
            finger = fingerprint(workspace, run, parameters, code_hash)
            folder = workspace.reports / run.folder
            outcome = RunOutcome(run.run_id, run.notebook, run.label, run.audience, run.group, run.parameters,
                                 status=RunStatus.PENDING, artefacts=folder / "artefacts" / run.run_id)
            by_id[run.run_id] = outcome
            report.outcomes.append(outcome)
            previous = state.get(run.run_id, {})
            html_path = folder / f"{run.run_id}.html"
            if resume and previous.get("status") == DONE and previous.get("fingerprint") == finger \
                    and html_path.exists():
                outcome.status, outcome.html = SKIPPED, html_path
                outcome.notebook_output = folder / "notebooks" / f"{run.run_id}.ipynb"
                continue
            if not run.standalone:
                copy_plotly(folder)
            jobs.append(_job(workspace, campaign, run, parameters, finger, fresh_kernels))
            state[run.run_id] = {"fingerprint": finger, "status": RunStatus.PENDING.value}

        def on_done(result: RunResult) -> None:
            outcome = by_id[result.run_id]
            outcome.status = result.status
            outcome.message = result.message
            outcome.duration = result.duration
            outcome.html = result.html
            outcome.notebook_output = result.notebook
            state[outcome.run_id] = state.get(outcome.run_id, {}) | {
                "status": outcome.status.value, "message": outcome.message,
                "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            write_text_atomic(state_path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))
            bar.update(1)
            if not outcome.ok:
                bar.write(f"{STATUS_LABELS.get(outcome.status, outcome.status)} : {outcome.run_id} — {outcome.message}")

        with tqdm(total=len(jobs), desc=f"Campagne {campaign.name}", unit="carnet", disable=not progress) as bar:
            if jobs:
                if executor == "dask":
                    _run_dask(jobs, scheduler, workers, on_done)
                else:
                    _run_local(jobs, workers, on_done, state_path.with_suffix(".log"))
        _export_pdfs(campaign, by_id, state, progress)
        write_text_atomic(state_path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))
        if campaign.plaquettes is not None:
            report.plaquettes = build_campaign_plaquettes(workspace, campaign.name, campaign.plaquettes,
                                                          resume=resume, progress=progress)
        folders: dict[Path, list[RunOutcome]] = {}
        shared = {run.folder for run in campaign.runs if not run.standalone}
        for run in campaign.runs:
            folders.setdefault(run.folder, []).append(by_id[run.run_id])
        plaquettes_folder = Path(COMMITTEE) / campaign.name  # the committee index lists the plaquettes
        if report.plaquettes:
            folders.setdefault(plaquettes_folder, [])
        for relative, outcomes in sorted(folders.items()):
            folder = workspace.reports / relative
            if relative in shared:
                copy_plotly(folder)
            audience = outcomes[0].audience if outcomes else COMMITTEE
            extra = index_section(folder, report.plaquettes) if relative == plaquettes_folder else ""
            report.indexes.append(write_index(folder, campaign.name, audience, outcomes, extra))
        for name in narrow:
            restrict_tree(workspace.reports / name)
    report.elapsed = time.perf_counter() - started
    return report
