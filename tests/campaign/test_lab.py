"""``senacs lab``: the working copy of the notebooks inside the workspace, and every notebook run as lab opens it."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import ENV_VAR, Workspace
from senacs_workbench.restricted.campaign.lab import lab_command
from senacs_workbench.restricted.campaign.lab_copy import (
    MANIFEST,
    OUTPUTS_DIR,
    lab_folder,
    prepare_lab_copy,
    set_parameters,
)
from senacs_workbench.restricted.publication.authorised import publish_authorised

DEMO_YEAR = 2025
DEMO_DEPARTEMENT_WORKSPACE = Path("territoires") / "departement-24"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.ipynb"))}


def _parameters_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", []))


def test_set_parameters_replaces_named_values_only_and_keeps_comments() -> None:
    source = ('territory = "FR"  # FR, region:75 ou departement:24\nyear = 2024\ntheme = "jeunesse"\n'
              'label: str = "Épinal"  # ünïcode\nworkspace_dir = None\n')
    out = set_parameters(source, {"territory": "departement:24", "year": 2025, "label": "Sète",
                                  "workspace_dir": "/tmp/é ws", "absent": 1})
    assert out == ('territory = "departement:24"  # FR, region:75 ou departement:24\nyear = 2025\n'
                   'theme = "jeunesse"\nlabel: str = "Sète"  # ünïcode\nworkspace_dir = "/tmp/é ws"\n')


def test_the_copy_is_owner_only_keeps_edits_and_says_when_a_shipped_notebook_changed(
        national_workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "shipped"
    shutil.copytree(shipped("notebooks"), source)
    before = _digests(shipped("notebooks"))
    first = prepare_lab_copy(national_workspace, source)
    folder = lab_folder(national_workspace)
    assert first.folder == folder and folder.parent == national_workspace.restricted
    assert first.created == sorted(before) and not first.changed
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / OUTPUTS_DIR).stat().st_mode) == 0o700
    for name in before:
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / MANIFEST).stat().st_mode) == 0o600
    # the parameters cell holds this workspace (no data yet: no year, the shipped one stays)
    cell = _parameters_cell(folder / "territorial_analysis.ipynb")
    assert f'published_dir = "{national_workspace.published}"' in cell and 'territory = "FR"' in cell
    assert f'output_dir = "{folder / OUTPUTS_DIR / "territorial_analysis"}"' in cell
    assert f'workspace_dir = "{national_workspace.root}"' in _parameters_cell(folder / "centre_report.ipynb")

    # the preparer edits a copy; a new release of the software changes that notebook and another one
    edited = folder / "trends.ipynb"
    edited.write_text(edited.read_text(encoding="utf-8").replace("first_year = ", "first_year =  "), encoding="utf-8")
    mine = edited.read_bytes()
    for name in ("trends.ipynb", "thematic_analysis.ipynb"):
        notebook = nbformat.read(source / name, as_version=4)
        notebook.cells.append(nbformat.v4.new_markdown_cell("Nouvelle section."))
        nbformat.write(notebook, source / name)
    second = prepare_lab_copy(national_workspace, source)
    assert not second.created and set(second.changed) == {"trends.ipynb", "thematic_analysis.ipynb"}
    assert edited.read_bytes() == mine
    text = "\n".join(second.messages_fr())
    assert "Le carnet livré trends.ipynb est plus récent que votre copie" in text and str(edited) in text

    # deleting a copy brings the new shipped version back, set to the workspace; the message goes
    edited.unlink()
    third = prepare_lab_copy(national_workspace, source)
    assert third.created == ["trends.ipynb"] and set(third.changed) == {"thematic_analysis.ipynb"}
    assert "Nouvelle section." in edited.read_text(encoding="utf-8")
    assert f'published_dir = "{national_workspace.published}"' in _parameters_cell(edited)
    assert _digests(shipped("notebooks")) == before  # the shipped notebooks were never written


def test_lab_command_is_loopback_only_keeps_its_token_and_opens_the_copy(national_workspace: Workspace) -> None:
    copy = prepare_lab_copy(national_workspace)
    argv, env, folder = lab_command(national_workspace, port=8899)
    assert folder == copy.folder.resolve() == lab_folder(national_workspace).resolve()
    assert "--ServerApp.ip=127.0.0.1" in argv and "--no-browser" in argv
    assert f"--ServerApp.root_dir={folder}" in argv and "--ServerApp.allow_remote_access=False" in argv
    assert not [a for a in argv if "token" in a.lower() or "password" in a.lower()]  # Jupyter's own token stays
    ips = [a for a in argv if a.startswith(("--ip", "--ServerApp.ip"))]
    assert ips == ["--ServerApp.ip=127.0.0.1"]
    assert env[ENV_VAR] == str(national_workspace.root)
    assert shipped("notebooks") not in {Path(a.split("=", 1)[-1]) for a in argv}


def _execute_as_lab_opens_it(workspace: Workspace) -> dict[str, list[str]]:
    """Every notebook of the working copy, run with nbclient and no injected parameter, from the copy's folder
    with the environment ``senacs lab`` gives JupyterLab; the errors per notebook."""
    copy = prepare_lab_copy(workspace)
    _argv, env, folder = lab_command(workspace)
    errors: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(folder)}})
        client.execute(env=env)  # the kernel starts in resources.metadata.path: the copy's folder
        errors[path.name] = [f"{o.get('ename')}: {o.get('evalue')}" for c in notebook.cells if c.cell_type == "code"
                             for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert sorted(errors) == sorted(_digests(shipped("notebooks"))) == sorted(copy.created)
    return errors


@pytest.fixture
def demo_copy(demo_cli_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> Workspace:
    path, result = demo_cli_run
    assert result.returncode == 0, result.stderr[-3000:]
    target = tmp_path / "demo"
    shutil.copytree(path, target, symlinks=True)
    return Workspace(target)


@pytest.mark.timeout(1500)  # the first user of demo_cli_run pays for the demo (up to 600 s)
def test_every_shipped_notebook_runs_as_lab_opens_it_on_the_national_workspace(demo_copy: Workspace) -> None:
    shipped_before = _digests(shipped("notebooks"))
    errors = _execute_as_lab_opens_it(demo_copy)
    assert errors == {name: [] for name in errors}, errors
    folder = lab_folder(demo_copy)
    assert (folder / OUTPUTS_DIR / "territorial_analysis").is_dir()
    assert f"year = {DEMO_YEAR}" in _parameters_cell(folder / "territorial_analysis.ipynb")
    assert 'departement = "95"' in _parameters_cell(folder / "infra_departemental.ipynb")  # its infra views exist
    assert 'structure_id = ""' not in _parameters_cell(folder / "centre_report.ipynb")
    assert _digests(shipped("notebooks")) == shipped_before


@pytest.mark.timeout(1500)  # the first user of demo_cli_run pays for the demo (up to 600 s)
def test_every_shipped_notebook_runs_as_lab_opens_it_on_a_departement_workspace(demo_copy: Workspace) -> None:
    workspace = Workspace(demo_copy.root / DEMO_DEPARTEMENT_WORKSPACE)
    # the département's preparer publishes its infra views first, as the infra notebook says
    assert publish_authorised(workspace, DEMO_YEAR, "24").changed
    errors = _execute_as_lab_opens_it(workspace)
    assert errors == {name: [] for name in errors}, errors
    cell = _parameters_cell(lab_folder(workspace) / "territorial_analysis.ipynb")
    assert 'territory = "departement:24"' in cell and f"year = {DEMO_YEAR}" in cell


def test_lab_starts_on_loopback_only_with_its_token_on_the_copy(released_workspace: Workspace) -> None:
    import socket
    import time
    import urllib.error
    import urllib.request

    from senacs_workbench.restricted.campaign.lab import LOOPBACK, start_lab

    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    lines: list[str] = []
    process = start_lab(released_workspace, port=port, echo=lines.append)
    try:
        deadline = time.monotonic() + 120
        while True:  # readiness: the server answers (polled until a deadline, no fixed wait)
            try:
                with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/api", timeout=2) as response:
                    assert response.status == 200 and b"version" in response.read()
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.5)
        listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        listening += [line.split() for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]]
        local = [entry[1] for entry in listening if entry[3] == "0A" and int(entry[1].split(":")[1], 16) == port]
        assert local and all(address.startswith("0100007F:") for address in local)  # 127.0.0.1 only, no IPv6
        with pytest.raises(urllib.error.HTTPError) as refused:  # the token is kept: no listing without it
            urllib.request.urlopen(f"http://{LOOPBACK}:{port}/api/contents", timeout=5)
        assert refused.value.code == 403
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert lines[0].startswith("Carnets de travail : ") and str(lab_folder(released_workspace)) in lines[0]
    assert sorted(p.name for p in lab_folder(released_workspace).glob("*.ipynb")) == sorted(
        _digests(shipped("notebooks")))
