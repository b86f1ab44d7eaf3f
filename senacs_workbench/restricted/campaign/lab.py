"""``senacs lab``: the preparer's JupyterLab, on loopback only, on the repository's notebooks.

The package is importable (``PYTHONPATH`` gets the checkout), ``SENACS_WORKSPACE`` names the
workspace, no browser is opened, and the server listens on 127.0.0.1 alone: JupyterLab can
execute anything (and hosts Voilà as a server extension), so it must never be reachable by
committee members or guests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import ENV_VAR, Workspace

REPO_ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
LOOPBACK = "127.0.0.1"


def lab_command(workspace: Workspace, port: int | None = None, notebooks_dir: Path | None = None
                ) -> tuple[list[str], dict[str, str], Path]:
    """The JupyterLab command line, its environment and its working folder (no process started)."""
    folder = (notebooks_dir or NOTEBOOKS_DIR).resolve()
    if not folder.is_dir():
        raise SenacsError(f"Dossier des carnets introuvable : {folder}.")
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.ip={LOOPBACK}",
            f"--ServerApp.root_dir={folder}", "--ServerApp.allow_remote_access=False"]
    if port is not None:
        argv += [f"--ServerApp.port={int(port)}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:  # containers often run as root; Jupyter refuses it otherwise
        argv.append("--ServerApp.allow_root=True")
    env = dict(os.environ)
    env[ENV_VAR] = str(workspace.root)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return argv, env, folder


def start_lab(workspace: Workspace, port: int | None = None, notebooks_dir: Path | None = None
              ) -> subprocess.Popen[bytes]:
    """Start JupyterLab in the background; the caller waits for it (``.wait()``) or stops it."""
    argv, env, folder = lab_command(workspace, port, notebooks_dir)
    return subprocess.Popen(argv, env=env, cwd=folder)


def run_lab(workspace: Workspace, port: int | None = None) -> int:
    """Start JupyterLab and wait until it stops (Ctrl-C); return its exit status (for ``senacs lab``)."""
    process = start_lab(workspace, port)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
