"""One run, in a worker process: execute the notebook with papermill, record its audience, render HTML.

Runs in a separate process (a ``ProcessPoolExecutor`` worker or a Dask worker): papermill's
``cwd`` would ``os.chdir`` the whole process, so it is not used; every path is absolute.
The three ways a run can fail are caught and recorded — ``PapermillExecutionError`` (a cell
raised), nbclient's ``CellTimeoutError`` (papermill writes no error banner for it) and
``DeadKernelError`` — and the partial notebook is kept under ``failed/`` for diagnosis.

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
import copy
import functools
import os
import shutil
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
    KERNEL_DIED = "kernel_died"
    SKIPPED = "skipped"


DONE = RunStatus.DONE
FAILED = RunStatus.FAILED
TIMED_OUT = RunStatus.TIMED_OUT
KERNEL_DIED = RunStatus.KERNEL_DIED
SKIPPED = RunStatus.SKIPPED
STATUS_LABELS: dict[str, str] = {
    DONE: "terminé",
    FAILED: "échec",
    TIMED_OUT: "délai dépassé",
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


def shutdown_warm_kernels() -> None:
    for key in list(_WARM):
        _shutdown(key)


atexit.register(shutdown_warm_kernels)


def _warm_kernel(kernel: str, audience: str) -> Any:
    """This worker's idle kernel for ``audience`` (a kernel manager; nbclient starts it on first use)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    key = (kernel, audience)
    km = _WARM.get(key)
    if km is not None and km.has_kernel and run_sync(km.is_alive)():
        return km
    for other in list(_WARM):
        _shutdown(other)
    km = AsyncKernelManager(kernel_name=kernel)
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
    body = body.replace("<html>", '<html lang="fr">', 1)
    body = body.replace("<head>", f"<head>\n{PLOTLY_TAG}", 1)
    return inline_plotly(body) if standalone else body


def _error_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    if hasattr(exc, "ename"):
        return f"{exc.ename}: {getattr(exc, 'evalue', '')}"
    return text[-1] if text else type(exc).__name__


def execute_run(job: RunJob) -> RunResult:
    """Execute one run and say how it ended."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    working = job.notebook_output.with_name(f".{job.notebook_output.stem}.running.ipynb")
    working.parent.mkdir(parents=True, exist_ok=True)
    Path(job.parameters.get("output_dir", job.artefacts)).mkdir(parents=True, exist_ok=True)
    status, message = DONE, ""
    warm = not job.fresh_kernel
    key = (job.kernel, job.metadata.audience)
    extra: dict[str, Any] = {}
    if warm:
        extra = {"engine_name": _engine(), "km": _warm_kernel(job.kernel, key[1])}
    try:
        papermill.execute_notebook(
            str(job.notebook_path), str(working), parameters=job.parameters, kernel_name=job.kernel,
            execution_timeout=job.timeout, progress_bar=False, log_output=False,
            request_save_on_cell_execute=True, report_mode=False, **extra,
        )
    except CellTimeoutError as exc:
        status, message = TIMED_OUT, f"une cellule a dépassé le délai de {job.timeout} s ({type(exc).__name__})"
    except DeadKernelError as exc:
        status, message = KERNEL_DIED, f"le noyau Python s'est arrêté en cours d'exécution ({type(exc).__name__})"
    except PapermillExecutionError as exc:
        status, message = FAILED, f"erreur dans la cellule {exc.exec_count} : {exc.ename}: {exc.evalue}"
    except Exception as exc:
        status, message = FAILED, f"{type(exc).__name__}: {_error_message(exc)}"
    if warm and (status != DONE or not _reset_namespace(extra["km"])):
        _shutdown(key)
    html: Path | None = None
    kept: Path | None = None
    if not working.exists() and status != DONE:
        nbformat.write(nbformat.read(job.notebook_path, as_version=4), working)
    if working.exists():
        notebook = nbformat.read(working, as_version=4)
        if status in (TIMED_OUT, KERNEL_DIED):
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
