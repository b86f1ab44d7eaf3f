"""``senacs serve``: the committee dashboards, one standalone Voilà process per notebook.

Hardening (see docs/deploiement-tableaux-de-bord.md and the Voilà notes of the project):

- one ``voila <notebook>`` process per dashboard, each on its own port: never directory
  mode (which renders any notebook under its root) nor the Jupyter server extension
  (which executes whatever the browser sends);
- each notebook is copied alone into a private runtime folder outside the workspace, which
  is the Voilà root (``/voila/files/`` sees nothing else) and the kernel's working directory;
- the processes get the path of the ``published/`` folder only, in ``SENACS_PUBLISHED_DIR``,
  and a minimal environment (no ``SENACS_WORKSPACE``; private Jupyter/IPython config folders
  so that no user start-up file runs in the kernel);
- ``strip_sources``, no tracebacks, template and theme overrides off, a static-file
  allowlist that matches nothing of the runtime folder, notebook execution timeout, idle
  kernel culling, security headers, optional ``--token``, bound to 127.0.0.1 by default,
  and preheated kernels (the notebook is executed before the request comes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.shipped import shipped
from senacs_workbench.released.bundle_contract import RELEASED

PUBLISHED_ENV = "SENACS_PUBLISHED_DIR"
DEFAULT_PORT = 8866
DASHBOARDS: tuple[tuple[str, str], ...] = (
    ("tableau_de_bord", "Tableau de bord (une campagne, un territoire)"),
    ("tendances", "Tendances (toutes les campagnes publiées)"),
)
"""(notebook stem in ``dashboards/``, French title), in port order."""
EXECUTION_TIMEOUT = 120
CULL_IDLE_TIMEOUT = 3600
CULL_INTERVAL = 300
FILE_ALLOWLIST = (r"senacs-static/[A-Za-z0-9_-]+\.(png|svg)",)
"""Voilà's ``/voila/files/`` serves only these paths (none exist in the runtime folder)."""
FILE_DENYLIST = (r".*\.(ipynb|py|json|yaml|yml|csv|parquet|duckdb|log)", r".*\.\..*")
SECURITY_HEADERS = {
    # Voilà needs inline scripts and styles; everything else comes from the dashboard's own origin only
    # (no CDN: the lab template's font CSS is blocked, the page works offline in a meeting room).
    "Content-Security-Policy": "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
        "form-action 'self'",
    ]),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
POOL_FILLED = "is filled with"
POOL_USED = "Using pre-heated kernel"
KERNEL_STARTED = re.compile(r"Kernel started: ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
"""Voilà's log lines: a pool (re)fill done (its kernel launched), a pooled kernel taken by a page, a kernel started."""
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "USER", "LOGNAME", "VIRTUAL_ENV",
                    "CONDA_PREFIX", "PYTHONPATH", "TMPDIR", "SSL_CERT_FILE")


class ServeError(SenacsError):
    """The dashboards cannot be served (message in French)."""


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    notebook: Path
    port: int
    host: str
    token: str | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        suffix = f"?token={quote(self.token)}" if self.token else ""
        return f"http://{host}:{self.port}/{suffix}"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass
class DashboardServer:
    """The running Voilà processes; ``stop()`` (or leaving the ``with`` block) ends them all."""

    published_dir: Path
    runtime_dir: Path
    dashboards: list[Dashboard]
    preheat: bool
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {d.name: d.url for d in self.dashboards}

    def dashboard(self, name: str) -> Dashboard:
        return next(d for d in self.dashboards if d.name == name)

    def log_text(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = "\n".join(self.log_text(name).splitlines()[-15:])
                raise ServeError(f"Le tableau de bord « {name} » s'est arrêté (code {process.returncode}).\n{tail}")

    def wait_ready(self, timeout: float = 120.0, *, pool: bool | None = None, names: Sequence[str] | None = None,
                   quiet: float = 1.0) -> None:
        """Wait until the dashboards (``names``, default all) answer and, with preheating, can serve a page at once.

        A page takes the pool's preheated kernel and Voilà then starts and runs a new one in the
        background; until that refill has run the notebook, the next page's HTTP response waits
        for it (a cold kernel start plus the whole notebook). A dashboard is ready when every
        pooled kernel taken so far has been replaced (Voilà logs the refill when the kernel is
        launched, not when it has run the notebook), when none of its kernels has been active
        for ``quiet`` seconds, and when its process tree has then used no CPU for ``quiet`` seconds.
        Never checked by requesting the dashboard page itself: that would take the preheated kernel.
        """
        pool = self.preheat if pool is None else pool
        deadline = time.monotonic() + timeout
        pending = {d.name: d for d in self.dashboards if names is None or d.name in names}
        waited = list(pending)
        while pending:
            self.check_alive()
            for name, dashboard in list(pending.items()):
                if _answers(dashboard.host, dashboard.port, dashboard.token) and (
                        not pool or (self.pool_refilled(name) and self.kernels_idle(name, quiet))):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                what = "ne sont pas prêts" if pool else "ne répondent pas"
                raise ServeError(f"Les tableaux de bord {what} après {timeout:.0f} s : {', '.join(sorted(pending))}.")
            if pending:
                time.sleep(0.2)
        if pool:
            self.wait_idle(max(quiet, deadline - time.monotonic()), quiet, names=waited)

    def pool_refilled(self, name: str) -> bool:
        """Every preheated kernel of ``name`` taken by a page has been replaced (its successor launched)."""
        log = self.log_text(name)
        return log.count(POOL_FILLED) > log.count(POOL_USED)

    def kernels_idle(self, name: str, quiet: float = 1.0) -> bool:
        """No kernel of ``name`` is starting or busy, or was active in the last ``quiet`` seconds (Jupyter's API).

        A kernel the API does not know any more (shut down) is skipped; if the API does not
        answer, this check is left to :meth:`wait_idle`.
        """
        dashboard = self.dashboard(name)
        now = dt.datetime.now(dt.UTC)
        for kernel_id in dict.fromkeys(KERNEL_STARTED.findall(self.log_text(name))):
            model = _kernel_model(dashboard.host, dashboard.port, dashboard.token, kernel_id)
            if model is None:
                continue
            if model.get("execution_state") != "idle":
                return False
            try:
                last = dt.datetime.fromisoformat(str(model.get("last_activity")))
            except ValueError:
                continue
            if (now - last).total_seconds() < quiet:
                return False
        return True

    def wait_idle(self, timeout: float = 60.0, quiet: float = 1.0, *, names: Sequence[str] | None = None) -> None:
        """Wait until the Voilà processes (``names``, default all) and their kernels use ~no CPU for ``quiet`` s."""
        pids = [p.pid for n, p in self.processes.items() if names is None or n in names]
        deadline = time.monotonic() + timeout
        previous = _tree_cpu_seconds(pids)
        if previous is None:
            return
        calm_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            current = _tree_cpu_seconds(pids)
            if current is None:
                return
            if current - previous > 0.05:
                calm_since = time.monotonic()
            previous = current
            if time.monotonic() - calm_since >= quiet:
                return

    def stop(self, timeout: float = 15.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(5)
        self.processes.clear()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: receive SIGTERM if the process that started ``senacs serve`` dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _token_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"token {token}"} if token else {}


def _answers(host: str, port: int, token: str | None = None) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", "/voila/static/favicon.ico", headers=_token_headers(token))
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def _kernel_model(host: str, port: int, token: str | None, kernel_id: str) -> dict[str, object] | None:
    """Jupyter's model of one kernel (``execution_state``, ``last_activity``), None if unknown or unavailable."""
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", f"/api/kernels/{kernel_id}", headers=_token_headers(token))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return None
        model = json.loads(body)
        return model if isinstance(model, dict) else None
    except (OSError, ValueError):
        return None
    finally:
        connection.close()


def _tree_cpu_seconds(roots: list[int]) -> float | None:
    """CPU seconds used so far by ``roots`` and all their descendants (Linux ``/proc``; None elsewhere)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree = set(roots)
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(children)
        tree |= children
    return sum(cpu.get(pid, 0.0) for pid in tree)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _is_within(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def check_published_dir(published_dir: Path) -> Path:
    """The ``published/`` folder to serve: it must exist, hold released bundles and not be a workspace."""
    folder = Path(published_dir).resolve()
    if not folder.is_dir():
        raise ServeError(f"Le dossier de publication {folder} n'existe pas.")
    if (folder / "restricted").exists() or (folder / "workspace.yaml").exists():
        raise ServeError(
            f"{folder} est un espace de travail : les tableaux de bord ne reçoivent que son dossier « published »."
        )
    if not any((folder / RELEASED).glob("*/v*/manifest.json")):
        raise ServeError(
            f"Aucun jeu de tableaux validé par le comité dans {folder} : publiez et faites approuver une "
            "campagne avant d'ouvrir les tableaux de bord."
        )
    return folder


def voila_config(connection_dir: Path, *, execution_timeout: int = EXECUTION_TIMEOUT,
                 cull_idle_timeout: int = CULL_IDLE_TIMEOUT, pool_size: int = 1) -> dict[str, object]:
    """The Voilà configuration written as ``voila.json`` in each process's working directory."""
    return {
        "Voila": {
            "ip": "127.0.0.1",
            "open_browser": False,
            "port_retries": 0,
            "connection_dir_root": str(connection_dir),
            "tornado_settings": {"headers": dict(SECURITY_HEADERS)},
        },
        "VoilaConfiguration": {
            "strip_sources": True,
            "show_tracebacks": False,
            "allow_template_override": "NO",
            "allow_theme_override": "NO",
            "file_allowlist": list(FILE_ALLOWLIST),
            "file_denylist": list(FILE_DENYLIST),
            "http_header_envs": [],
            "progressive_rendering": False,
            "default_pool_size": pool_size,
        },
        "VoilaExecutor": {"timeout": execution_timeout},
        # the page declares its language (RGAA 8.3): screen readers read it in French
        "VoilaExporter": {"language_code": "fr"},
        "MappingKernelManager": {
            "cull_idle_timeout": cull_idle_timeout,
            "cull_interval": CULL_INTERVAL,
            "cull_connected": False,
            "cull_busy": False,
        },
    }


def voila_command(notebook: Path, *, port: int, host: str, token: str | None, preheat: bool,
                  pool_size: int) -> list[str]:
    command = [
        sys.executable, "-m", "senacs_workbench.apps.voila_process", str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
    ]
    if preheat:
        command += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    if token:
        command.append(f"--token={token}")
    return command


def voila_environment(published_dir: Path, runtime_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: the published folder, private Jupyter/IPython folders, nothing of the workspace."""
    source = os.environ if base is None else base
    env = {k: source[k] for k in KEPT_ENVIRONMENT if k in source}
    env.setdefault("LANG", "C.UTF-8")
    for name in ("config", "data", "runtime", "ipython"):
        (runtime_dir / name).mkdir(parents=True, exist_ok=True)
    env.update({
        PUBLISHED_ENV: str(published_dir),
        "JUPYTER_CONFIG_DIR": str(runtime_dir / "config"),
        "JUPYTER_DATA_DIR": str(runtime_dir / "data"),
        "JUPYTER_RUNTIME_DIR": str(runtime_dir / "runtime"),
        "IPYTHONDIR": str(runtime_dir / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


def _ports(host: str, port: int, count: int) -> list[int]:
    if port == 0:
        ports: list[int] = []
        while len(ports) < count:
            candidate = free_port(host)
            if candidate not in ports:
                ports.append(candidate)
        return ports
    ports = [port + i for i in range(count)]
    busy = [p for p in ports if not _port_is_free(host, p)]
    if busy:
        raise ServeError(f"Port(s) déjà utilisé(s) sur {host} : {', '.join(map(str, busy))}. "
                         "Choisissez-en un autre avec --port.")
    return ports


def serve(
    published_dir: Path,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    token: str | None = None,
    preheat: bool = True,
    pool_size: int = 2,
    dashboards: Sequence[str] | None = None,
    dashboards_dir: Path | None = None,
    execution_timeout: int = EXECUTION_TIMEOUT,
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
) -> DashboardServer:
    """Start one Voilà process per dashboard (ports ``port``, ``port + 1``…; ``port=0``: free ports).

    Returns at once; call :meth:`DashboardServer.wait_ready` before opening the URLs and
    :meth:`DashboardServer.stop` at the end (or use the server as a context manager).
    """
    published = check_published_dir(published_dir)
    source_dir = Path(dashboards_dir) if dashboards_dir is not None else shipped("dashboards")
    wanted = [(n, t) for n, t in DASHBOARDS if dashboards is None or n in dashboards]
    missing = [n for n, _ in wanted if not (source_dir / f"{n}.ipynb").exists()]
    if missing or not wanted:
        raise ServeError(f"Tableaux de bord introuvables dans {source_dir} : {', '.join(missing) or 'aucun'}.")
    runtime = Path(tempfile.mkdtemp(prefix="senacs-voila-")).resolve()
    workspace_root = published.parent
    if _is_within(runtime, workspace_root):
        shutil.rmtree(runtime, ignore_errors=True)
        raise ServeError("Le dossier temporaire des tableaux de bord est dans l'espace de travail : "
                         "définissez TMPDIR vers un dossier extérieur.")
    os.chmod(runtime, 0o700)
    env = voila_environment(published, runtime)
    ports = _ports(host, port, len(wanted))
    server = DashboardServer(published, runtime, [], preheat)
    try:
        for (name, title), dashboard_port in zip(wanted, ports, strict=True):
            workdir = runtime / name
            notebook_dir = workdir / "notebook"
            notebook_dir.mkdir(parents=True)
            notebook = notebook_dir / f"{name}.ipynb"
            shutil.copyfile(source_dir / f"{name}.ipynb", notebook)
            (workdir / "connections").mkdir(mode=0o700)
            config = voila_config(workdir / "connections", execution_timeout=execution_timeout,
                                  cull_idle_timeout=cull_idle_timeout, pool_size=pool_size)
            (workdir / "voila.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
            log = workdir / "voila.log"
            server.logs[name] = log
            with log.open("wb") as handle:
                process = subprocess.Popen(
                    voila_command(notebook, port=dashboard_port, host=host, token=token, preheat=preheat,
                                  pool_size=pool_size),
                    cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            server.processes[name] = process
            server.dashboards.append(Dashboard(name, title, notebook, dashboard_port, host, token))
    except BaseException:
        server.stop()
        raise
    return server


def serve_blocking(
    published_dir: Path,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    token: str | None = None,
    preheat: bool = True,
    pool_size: int = 2,
    echo: Callable[[str], None] = print,
    ready_timeout: float = 180.0,
) -> None:
    """Serve the dashboards, print their URLs in French and wait; Ctrl+C (or SIGTERM) stops everything cleanly."""
    server = serve(published_dir, port=port, host=host, token=token, preheat=preheat, pool_size=pool_size)
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        echo(f"Démarrage des tableaux de bord sur les données publiées de {server.published_dir}…")
        server.wait_ready(ready_timeout)
        echo("Tableaux de bord du comité de pilotage (données agrégées et protégées uniquement) :")
        for dashboard in server.dashboards:
            echo(f"  {dashboard.title} : {dashboard.url}")
        if host not in ("127.0.0.1", "localhost", "::1"):
            echo("Attention : accessibles depuis le réseau. Placez-les derrière un proxy HTTPS avec "
                 "authentification (docs/deploiement-tableaux-de-bord.md).")
        echo("Appuyez sur Ctrl+C pour arrêter les tableaux de bord.")
        while True:
            server.check_alive()
            time.sleep(1.0)
    except KeyboardInterrupt:
        echo("Arrêt des tableaux de bord…")
    finally:
        server.stop()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
    echo("Tableaux de bord arrêtés.")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def serving(published_dir: Path, **kwargs: object) -> Iterator[DashboardServer]:
    """``with serving(path, port=0) as server:`` — started, ready, and stopped at the end."""
    server = serve(published_dir, **kwargs)  # type: ignore[arg-type]
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m senacs_workbench.apps.serve DOSSIER_PUBLISHED`` (for systemd units; the CLI has ``senacs serve``)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m senacs_workbench.apps.serve",
        description="Sert les tableaux de bord du comité (Voilà) sur un dossier « published » uniquement.",
    )
    parser.add_argument("published_dir", type=Path, help="le dossier « published » (jamais l'espace de travail)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="premier port (un port par tableau de bord)")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1 derrière un proxy)")
    parser.add_argument("--token-file", type=Path, help="fichier contenant le jeton d'accès (facultatif)")
    parser.add_argument("--pool-size", type=int, default=2, help="noyaux préchauffés par tableau de bord")
    parser.add_argument("--no-preheat", action="store_true", help="sans noyaux préchauffés")
    args = parser.parse_args(argv)
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else None
    try:
        serve_blocking(args.published_dir, port=args.port, host=args.host, token=token,
                       preheat=not args.no_preheat, pool_size=args.pool_size)
    except SenacsError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
