"""One run, in a worker process: execute the notebook with papermill, record its audience, render HTML.

Runs in a separate process (a ``ProcessPoolExecutor`` worker or a Dask worker): papermill's
``cwd`` would ``os.chdir`` the whole process, so it is not used; every path is absolute.
The three ways a run can fail are caught and recorded — ``PapermillExecutionError`` (a cell
raised), nbclient's ``CellTimeoutError`` (papermill writes no error banner for it) and
``DeadKernelError`` — and the partial notebook is kept under ``failed/`` for diagnosis.
A fourth is the run's own wall-clock limit (``max_duration``): papermill only bounds each cell, so
a watchdog thread kills the run's kernel once the limit is over; nbclient then sees a dead kernel,
and the run is recorded as ``run_timed_out`` (« durée maximale dépassée »), not as a crash.

Warm kernels (default): each worker process keeps one idle kernel per (kernel, audience) and
reuses it for its next run, after clearing the user namespace (``%reset -f``): imports,
codebook parsing and the released table stay loaded, which divides the cost of a thin
notebook by about two. A kernel is never shared between audiences, and it is discarded after
any failure. Notebooks must therefore not change process-wide state (environment, module
attributes); the tests compare the figures of a campaign with those of a fresh-kernel
papermill run. ``fresh_kernel=True`` in a job gives every run its own kernel.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import nbformat


class RunStatus(StrEnum):
    """How a run (or a plaquette build) ended. The value is what the campaign's state file and
    the notebook's ``senacs`` metadata record (a ``str``: those JSON files are unchanged)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    """A cell ran longer than the run's per-cell ``timeout``."""
    RUN_TIMED_OUT = "run_timed_out"
    """The whole run ran longer than its ``max_duration`` (wall clock): its kernel was stopped."""
    KERNEL_DIED = "kernel_died"
    SKIPPED = "skipped"


DONE = RunStatus.DONE
FAILED = RunStatus.FAILED
TIMED_OUT = RunStatus.TIMED_OUT
RUN_TIMED_OUT = RunStatus.RUN_TIMED_OUT
KERNEL_DIED = RunStatus.KERNEL_DIED
SKIPPED = RunStatus.SKIPPED
STATUS_LABELS: dict[str, str] = {
    DONE: "terminé",
    FAILED: "échec",
    TIMED_OUT: "délai dépassé",
    RUN_TIMED_OUT: "durée maximale dépassée",
    KERNEL_DIED: "noyau arrêté",
    SKIPPED: "inchangé (repris)",
}
PLOTLY_JS = "plotly.min.js"
PLOTLY_TAG = f'<script src="{PLOTLY_JS}" charset="utf-8"></script>'


@dataclass(frozen=True)
class RunMetadata:
    """What the executed notebook records about its run (its ``senacs`` metadata, with the status)."""

    audience: str
    declared_audience: str
    campaign: str
    run_id: str
    parameters: dict[str, Any]
    """The campaign file's parameters (without the runner's paths)."""
    fingerprint: str
    executed_at: str

    def as_json(self, status: RunStatus) -> dict[str, Any]:
        return asdict(self) | {"status": status.value}


@dataclass(frozen=True)
class RunJob:
    """One run, as sent to a worker process (a pool's or Dask's: picklable, paths absolute)."""

    run_id: str
    notebook_path: Path
    notebook_output: Path
    failed_output: Path
    html_output: Path
    artefacts: Path
    parameters: dict[str, Any]
    """Everything papermill injects: the campaign's parameters and the runner's (output_dir…)."""
    timeout: int
    title: str
    metadata: RunMetadata
    kernel: str = "python3"
    fresh_kernel: bool = False
    standalone: bool = False
    """Embed plotly.js in the page (a report that travels alone) instead of the folder's shared copy."""
    deny_read: tuple[str, ...] = ()
    """Folders the kernel may not read (a committee notebook's: the workspace's restricted zone), see
    :mod:`.confinement`."""
    max_duration: int | None = None
    """Seconds the whole run may take, wall clock (papermill's ``timeout`` is per cell only); None: no limit."""


@dataclass(frozen=True)
class RunResult:
    """How a run ended, as a worker sends it back: the notebook kept (under ``failed/`` when it
    did not succeed) and the HTML page (only when it did)."""

    run_id: str
    status: RunStatus
    message: str = ""
    html: Path | None = None
    notebook: Path | None = None
    duration: float = 0.0


_WARM: dict[tuple[str, str], Any] = {}
RESET_CODE = "get_ipython().run_line_magic('reset', '-f')\nimport gc as _gc; _gc.collect(); del _gc"


def _shutdown(key: tuple[str, str]) -> None:
    from jupyter_core.utils import run_sync

    km = _WARM.pop(key, None)
    if km is None:
        return
    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
        run_sync(km.cleanup_resources)()
    except Exception:  # the kernel is gone already
        pass


def _stop_kernel(km: Any) -> None:
    """Shut a fresh run's kernel down (it may be dead already)."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
        run_sync(km.cleanup_resources)()
    except Exception:  # the kernel is gone already
        pass


def shutdown_warm_kernels() -> None:
    for key in list(_WARM):
        _shutdown(key)


atexit.register(shutdown_warm_kernels)


def _manager_class(deny_read: tuple[str, ...]) -> Any:
    """The kernel manager class: confined away from ``deny_read`` when it names folders."""
    from jupyter_client.manager import AsyncKernelManager

    from senacs_workbench.restricted.campaign.confinement import confined_kernel_manager

    return confined_kernel_manager([Path(d) for d in deny_read]) if deny_read else AsyncKernelManager


def _warm_key(kernel: str, audience: str, deny_read: tuple[str, ...]) -> tuple[str, str]:
    """A warm kernel serves one kernel, audience and confinement only."""
    return kernel, audience + "|" + "|".join(deny_read)


def _warm_kernel(kernel: str, audience: str, deny_read: tuple[str, ...] = ()) -> Any:
    """This worker's idle kernel for ``audience`` (a kernel manager; nbclient starts it on first use)."""
    from jupyter_core.utils import run_sync

    key = _warm_key(kernel, audience, deny_read)
    km = _WARM.get(key)
    if km is not None and km.has_kernel and run_sync(km.is_alive)():
        return km
    for other in list(_WARM):
        _shutdown(other)
    km = _manager_class(deny_read)(kernel_name=kernel)
    _WARM[key] = km
    return km


def _reset_namespace(km: Any) -> bool:
    """Clear the kernel's user namespace for the next run; False if that failed."""
    from jupyter_core.utils import run_sync

    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=30)
        reply = run_sync(client.execute_interactive)(RESET_CODE, silent=True, store_history=False, timeout=30,
                                                      output_hook=lambda message: None)
        return bool(reply["content"]["status"] == "ok")
    except Exception:
        return False
    finally:
        client.stop_channels()


@functools.cache
def _engine() -> str:
    """Register a papermill engine that closes the kernel client it opens on a kernel it does not own."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, km: Any = None, **kwargs: Any) -> Any:
            client = PapermillNotebookClient(
                nb_man, km=km, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                **{k: v for k, v in kwargs.items() if k not in ("timeout", "startup_timeout", "input_path")},
            )
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register("senacs-warm", WarmKernelEngine)
    return "senacs-warm"


def init_worker(log_path: str) -> None:
    """Worker-process initialiser: its output and its kernels' (warnings, tracebacks) go to the campaign log."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


REPORT_TEMPLATE = "report"
"""``senacs_workbench/templates/report``: JupyterLab's page without scripts from the network."""


@functools.cache
def _exporter() -> Any:
    from nbconvert import HTMLExporter

    templates = Path(__file__).resolve().parents[2] / "templates"
    # language_code: the page declares French (<html lang="fr">, RGAA 8.3), read so by screen readers
    return HTMLExporter(template_name=REPORT_TEMPLATE, extra_template_basedirs=[str(templates)],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                        language_code="fr")


@functools.cache
def plotly_js() -> str:
    """plotly.js as shipped with the plotly package (plotly/package_data/plotly.min.js)."""
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / PLOTLY_JS).read_text(encoding="utf-8")


def _inline_tag() -> str:
    return f'<script type="text/javascript">{plotly_js()}</script>'


def inline_plotly(page: str) -> str:
    """``page`` with its reference to the shared plotly.min.js replaced by plotly.js itself."""
    return page.replace(PLOTLY_TAG, _inline_tag(), 1)


def share_plotly(page: str) -> str:
    """The converse of :func:`inline_plotly`: ``page`` loading plotly.min.js from beside it."""
    return page.replace(_inline_tag(), PLOTLY_TAG, 1)


def html_page(notebook: nbformat.NotebookNode, title: str, standalone: bool = False) -> str:
    """The executed notebook as an HTML page without code.

    Its charts use the folder's shared ``plotly.min.js``, or, with ``standalone``, plotly.js
    embedded in the page (~4.6 MB): a page that works alone, e.g. sent by e-mail. Either way the
    page refers to nothing on the network.
    """
    clean = copy.deepcopy(notebook)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    body, _ = _exporter().from_notebook_node(clean, resources={"metadata": {"name": title}})
    body = body.replace("<head>", f"<head>\n{PLOTLY_TAG}", 1)
    return inline_plotly(body) if standalone else body


def _error_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    if hasattr(exc, "ename"):
        return f"{exc.ename}: {getattr(exc, 'evalue', '')}"
    return text[-1] if text else type(exc).__name__


class Watchdog:
    """Kill a run's kernel once its wall-clock limit is over (a daemon thread; :meth:`stop` when the
    run ends). The kernel may not be started yet when the limit falls: it is then killed as soon as
    it has a process."""

    def __init__(self, km: Any, seconds: float | None) -> None:
        self.km = km
        self.seconds = seconds
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="senacs-run-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        if self.seconds is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        if self._stop.wait(self.seconds):
            return
        self.fired = True
        while not self._stop.is_set():
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            if process is not None:
                with contextlib.suppress(OSError):  # already gone
                    process.kill()
            self._stop.wait(0.5)


def _failure(exc: Exception, job: RunJob, overran: bool) -> tuple[RunStatus, str]:
    """The status and French message of a run that raised ``exc`` (``overran``: the watchdog
    stopped its kernel, whatever nbclient then raised)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if overran:
        return RUN_TIMED_OUT, (f"l'exécution du carnet a dépassé sa durée maximale de {job.max_duration} s "
                               f"(max_duration) : noyau arrêté ({type(exc).__name__})")
    if isinstance(exc, CellTimeoutError):
        return TIMED_OUT, f"une cellule a dépassé le délai de {job.timeout} s ({type(exc).__name__})"
    if isinstance(exc, DeadKernelError):
        return KERNEL_DIED, f"le noyau Python s'est arrêté en cours d'exécution ({type(exc).__name__})"
    if isinstance(exc, PapermillExecutionError):
        return FAILED, f"erreur dans la cellule {exc.exec_count} : {exc.ename}: {exc.evalue}"
    return FAILED, f"{type(exc).__name__}: {_error_message(exc)}"


def execute_run(job: RunJob) -> RunResult:
    """Execute one run and say how it ended."""
    import papermill

    started = time.perf_counter()
    working = job.notebook_output.with_name(f".{job.notebook_output.stem}.running.ipynb")
    working.parent.mkdir(parents=True, exist_ok=True)
    Path(job.parameters.get("output_dir", job.artefacts)).mkdir(parents=True, exist_ok=True)
    status, message = DONE, ""
    warm = not job.fresh_kernel
    key = _warm_key(job.kernel, job.metadata.audience, job.deny_read)
    # our own kernel manager, warm or fresh: the watchdog needs the kernel's process; a committee
    # notebook's kernel is confined away from the restricted zone (confinement.py)
    km = (_warm_kernel(job.kernel, job.metadata.audience, job.deny_read) if warm
          else _manager_class(job.deny_read)(kernel_name=job.kernel))
    watchdog = Watchdog(km, job.max_duration)
    try:
        with watchdog:
            papermill.execute_notebook(
                str(job.notebook_path), str(working), parameters=job.parameters, kernel_name=job.kernel,
                execution_timeout=job.timeout, progress_bar=False, log_output=False,
                request_save_on_cell_execute=True, report_mode=False, engine_name=_engine(), km=km,
            )
    except Exception as exc:
        status, message = _failure(exc, job, watchdog.fired)
    if warm and (status != DONE or not _reset_namespace(km)):
        _shutdown(key)
    elif not warm:
        _stop_kernel(km)
    html: Path | None = None
    kept: Path | None = None
    if not working.exists() and status != DONE:
        nbformat.write(nbformat.read(job.notebook_path, as_version=4), working)
    if working.exists():
        notebook = nbformat.read(working, as_version=4)
        if status in (TIMED_OUT, RUN_TIMED_OUT, KERNEL_DIED):
            banner = nbformat.v4.new_markdown_cell(f"**Exécution interrompue ({STATUS_LABELS[status]})** : {message}")
            banner.metadata["tags"] = ["senacs-error"]
            notebook.cells.insert(0, banner)
        notebook.metadata.setdefault("senacs", {}).update(job.metadata.as_json(status))
        kept = job.notebook_output if status == DONE else job.failed_output
        kept.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, kept)
        working.unlink()
        if status == DONE:
            job.failed_output.unlink(missing_ok=True)
            try:
                job.html_output.write_text(html_page(notebook, job.title, job.standalone), encoding="utf-8")
                html = job.html_output
            except Exception as exc:
                status, message = FAILED, f"rendu HTML impossible : {_error_message(exc)}"
                shutil.move(str(job.notebook_output), job.failed_output)
                kept = job.failed_output
    elif status == DONE:
        status, message = FAILED, "aucun carnet produit"
    return RunResult(job.run_id, status, message, html, kept, round(time.perf_counter() - started, 3))
