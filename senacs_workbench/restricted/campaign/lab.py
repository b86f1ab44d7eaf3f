"""``senacs lab``: the preparer's JupyterLab, on loopback only, on the workspace's working copy of the notebooks.

JupyterLab opens ``<workspace>/restricted/lab/`` (:mod:`.lab_copy`: copies of the shipped
notebooks, parameters set to this workspace, never the shipped files themselves). The package
is importable (``PYTHONPATH`` gets the folder it is imported from), ``SENACS_WORKSPACE`` names
the workspace, no browser is opened, and the server listens on 127.0.0.1 alone and keeps its
token: JupyterLab can execute anything (and hosts Voilà as a server extension), so it must never
be reachable by committee members or guests. Raw data is read, as everywhere, through the store
and its access check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import ENV_VAR, Workspace
from senacs_workbench.restricted.campaign.lab_copy import lab_folder, prepare_lab_copy

PACKAGE_ROOT = Path(__file__).resolve().parents[3]
"""The folder ``senacs_workbench`` is imported from (a checkout, or ``site-packages``)."""
LOOPBACK = "127.0.0.1"


def lab_command(workspace: Workspace, port: int | None = None, folder: Path | None = None
                ) -> tuple[list[str], dict[str, str], Path]:
    """The JupyterLab command line, its environment and its working folder (no process started).

    ``folder`` defaults to the workspace's working copy, which must exist (:func:`prepare_lab_copy`).
    """
    folder = (folder or lab_folder(workspace)).resolve()
    if not folder.is_dir():
        raise SenacsError(f"Dossier des carnets de travail introuvable : {folder}.")
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.ip={LOOPBACK}",
            f"--ServerApp.root_dir={folder}", "--ServerApp.allow_remote_access=False"]
    if port is not None:
        argv += [f"--ServerApp.port={int(port)}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:  # containers often run as root; Jupyter refuses it otherwise
        argv.append("--ServerApp.allow_root=True")
    env = dict(os.environ)
    env[ENV_VAR] = str(workspace.root)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    return argv, env, folder


def start_lab(workspace: Workspace, port: int | None = None, echo: Callable[[str], None] | None = None
              ) -> subprocess.Popen[bytes]:
    """Prepare the working copy, then start JupyterLab on it in the background; the caller waits or stops it."""
    copy = prepare_lab_copy(workspace)
    if echo is not None:
        for line in copy.messages_fr():
            echo(line)
    argv, env, folder = lab_command(workspace, port, copy.folder)
    return subprocess.Popen(argv, env=env, cwd=folder)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_lab(workspace: Workspace, port: int | None = None, echo: Callable[[str], None] | None = None) -> int:
    """Start JupyterLab and wait until it stops (Ctrl-C or SIGTERM stop it too); return its exit status."""
    process = start_lab(workspace, port, echo)
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
