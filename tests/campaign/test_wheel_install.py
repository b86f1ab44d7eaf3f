"""Installed, not only checked out: a wheel in a fresh virtual environment runs the demo's first steps, lab and serve.

The wheel is built from a copy of what it is made of (``pyproject.toml``, the package and the
top-level ``notebooks/``, ``dashboards/``, ``parameters/``), installed with ``--no-deps`` in a
virtual environment that sees the system's packages (the dependencies) but imports the wheel's
``senacs_workbench`` — checked, since the system also has the editable checkout — and every
command runs from a folder outside any checkout. Select it with ``-m wheel``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from senacs_workbench.core.workspace import Workspace

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("notebooks", "dashboards", "parameters")
BUILD_INPUTS = ("pyproject.toml", "README.md", "senacs_workbench", *SHIPPED)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with the wheel built from this checkout installed (``bin/`` inside)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(base / "dist"),
                    str(source)], check=True, cwd=base, timeout=600)
    wheel = next((base / "dist").glob("senacs_workbench-*.whl"))
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True, timeout=300)
    for data in ("share/jupyter", "etc/jupyter"):  # the dependencies' Jupyter data (Voilà's templates...): a venv
        if (Path(sys.prefix) / data).is_dir():       # that installed them has them under its own prefix
            (env_dir / data).parent.mkdir(parents=True, exist_ok=True)
            (env_dir / data).symlink_to(Path(sys.prefix) / data)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    str(wheel)], check=True, cwd=base, timeout=600)
    yield env_dir


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SENACS_WORKSPACE", "VIRTUAL_ENV")}
    return {**env, "SENACS_USER": "prep", **extra}


def _run(venv: Path, *args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=_env(), capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(venv: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``senacs <args>`` in the background, in its own process group (stopped whole by :func:`_stop`)."""
    with log.open("wb") as handle:
        return subprocess.Popen([str(venv / "bin" / "senacs"), *args], cwd=log.parent, env=_env(),
                                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    """Poll ``ready`` until it holds (the process must stay alive, a deadline bounds the wait)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_the_wheel_ships_the_notebooks_dashboards_and_campaign_files(venv: Path, tmp_path: Path) -> None:
    probe = ("import json, senacs_workbench\n"
             "from senacs_workbench.core.shipped import shipped\n"
             "print(json.dumps({'package': senacs_workbench.__file__,\n"
             "                  **{name: str(shipped(name)) for name in ('notebooks', 'dashboards', 'parameters')}}))")
    found = json.loads(_run(venv, "python", "-c", probe, cwd=tmp_path).stdout)
    site = (venv / "lib").resolve()
    assert Path(found["package"]).resolve().is_relative_to(site), found  # the wheel's copy, not the checkout
    for name in SHIPPED:
        folder = Path(found[name])
        assert folder.is_relative_to(site) and not folder.is_symlink(), found
        expected = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in (ROOT / name).iterdir() if p.is_file()}
        assert {p.name: hashlib.sha256(p.read_bytes()).digest() for p in folder.iterdir()} == expected
    assert "--workspace" in _run(venv, "senacs", "demo", "--help", cwd=tmp_path).stdout


def test_the_demo_starts_from_the_installed_package(venv: Path, tmp_path: Path) -> None:
    """The demo's first steps that need shipped files: its workspace and its campaign file, on the wheel's notebooks."""
    steps = ("import sys, yaml\n"
             "from pathlib import Path\n"
             "from senacs_workbench.demo.run import demo_campaign_file, prepare_demo_workspace\n"
             "workspace = prepare_demo_workspace(Path(sys.argv[1]))\n"
             "print(demo_campaign_file(workspace, [2024, 2025]))\n")
    campaign = Path(_run(venv, "python", "-c", steps, str(tmp_path / "demo"), cwd=tmp_path).stdout.strip())
    raw = __import__("yaml").safe_load(campaign.read_text(encoding="utf-8"))
    notebooks = Path(raw["notebooks"])
    assert notebooks.resolve().is_relative_to(venv.resolve()), notebooks
    assert all((notebooks / f"{run['notebook']}.ipynb").is_file() for run in raw["runs"])


def test_lab_opens_its_copy_of_the_installed_notebooks(venv: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    _run(venv, "senacs", "init", str(workspace), cwd=tmp_path)
    port, log = _free_port(), tmp_path / "lab.log"
    process = _start(venv, log, "lab", "--workspace", str(workspace), "--port", str(port))
    try:
        _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api"), process, log)
    finally:
        _stop(process)
    assert "Carnets de travail" in log.read_text(encoding="utf-8", errors="replace")
    copies = sorted(p.name for p in (workspace / "restricted" / "lab").glob("*.ipynb"))
    assert copies == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_serve_runs_the_installed_dashboards(venv: Path, tmp_path: Path, released_template: Workspace) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(released_template.root, workspace, symlinks=True)
    port, log = _free_port(), tmp_path / "serve.log"
    process = _start(venv, log, "serve", "--workspace", str(workspace), "--port", str(port), "--pool-size", "1")
    try:
        _wait_for(lambda: "Tableaux de bord du comité" in log.read_text(errors="replace"), process, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
            page = response.read()
    finally:
        _stop(process)
    assert response.status == 200 and b"<html" in page.lower(), page[:500]
