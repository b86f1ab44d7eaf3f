"""Issue 21: imports, corrections and the other writing coherence commands, and ``compare add``
take the workspace lock that campaigns, publications, backups and erasures share.

While another process holds the lock, each command is refused in French, naming the holder, and
writes nothing. Before this change every one of them ran beside the holder (the tests fail there).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv
from workspace_support import lock_held_elsewhere

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore

OPERATION = "la campagne « 2025 »"


@pytest.fixture
def imported(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    frame = export_frame(n=6)
    frame.loc[1, "part_cdi"] = "411"  # an open finding to resolve
    import_file(national_workspace, write_csv(frame, tmp_path / "senacs_2024.csv"), YEAR)
    return national_workspace


@pytest.fixture
def held(imported: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the lock (for a campaign) until the test ends."""
    monkeypatch.setenv("SENACS_WORKSPACE_LOCK_TIMEOUT", "0.2")
    with lock_held_elsewhere(imported.root, OPERATION) as process:
        yield process


def _commands(workspace: Workspace, tmp_path: Path) -> dict[str, list[str]]:
    again = export_frame(n=6)
    again.loc[2, "budget_total"] = "260000"
    corrections = tmp_path / "corrections.csv"
    corrections.write_text("id_structure;variable;nouvelle valeur;motif\nS1001;part_cdi;41;échange\n",
                           encoding="utf-8")
    published = tmp_path / "ailleurs" / "published"
    published.mkdir(parents=True)
    root = ["--workspace", str(workspace.root)]
    return {
        "l'import": ["import", str(write_csv(again, tmp_path / "senacs_2024_bis.csv")), "--year", str(YEAR), *root],
        "une correction": ["correct", "S1001", "part_cdi", "41", "--year", str(YEAR), "--why", "échange", *root],
        "le contrôle de cohérence": ["check", "--year", str(YEAR), *root],
        "l'envoi des questions aux centres": ["findings", "ask", "--year", str(YEAR), *root],
        "la clôture d'un constat": ["findings", "resolve", "1", "confirm", "--why", "vu", *root],
        "l'import d'une fiche de corrections": ["corrections", "import", str(corrections), "--year", str(YEAR),
                                                *root],
        "l'écriture des fiches de relecture": ["review-sheets", "--year", str(YEAR), *root],
        "l'ajout des jeux publiés": ["compare", "add", str(published), *root],
    }


def test_every_writer_is_refused_while_another_holds_the_workspace(
        imported: Workspace, held: subprocess.Popen[str], tmp_path: Path) -> None:
    versions = len(RawDataStore(imported).versions(YEAR))
    account = pwd.getpwuid(os.getuid()).pw_name
    for operation, args in _commands(imported, tmp_path).items():
        result = CliRunner().invoke(main, args, env={"SENACS_USER": "prep"})
        assert result.exit_code != 0, (args, result.output)
        assert "est occupé" in result.output, (args, result.output)
        assert f"{OPERATION} (utilisateur {account}, processus {held.pid}" in result.output, result.output
        assert f"avant {operation}" in result.output, result.output
    assert len(RawDataStore(imported).versions(YEAR)) == versions  # nothing written


def test_the_writers_run_once_the_holder_is_done(imported: Workspace, tmp_path: Path) -> None:
    args = _commands(imported, tmp_path)["une correction"]
    result = CliRunner().invoke(main, args, env={"SENACS_USER": "prep"})
    assert result.exit_code == 0, result.output
    assert not (imported.root / ".workspace.lock").read_text(encoding="utf-8")  # released, no stale holder


def test_the_lab_entry_form_is_refused_while_another_holds_the_workspace(
        imported: Workspace, held: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from senacs_workbench.restricted.coherence.entry_form import EntryForm

    monkeypatch.setenv("SENACS_USER", "prep")
    versions = len(RawDataStore(imported).versions(YEAR))
    form = EntryForm(imported, YEAR, "S1001", sections=["emploi"])
    form.fields["salaries"].value = "12"
    form.save_button.click()
    assert "est occupé" in form.status.value and OPERATION in form.status.value, form.status.value
    assert "la saisie des réponses de S1001" in form.status.value
    assert len(RawDataStore(imported).versions(YEAR)) == versions  # nothing written
