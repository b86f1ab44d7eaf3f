"""Issue 21: backups taken before an erasure.

``senacs erase`` names, in French, the backups recorded since the structure's answers arrived
(path, date, still there or not): they still hold its answers and must be destroyed. ``senacs
restore`` of such a backup re-applies the erasure recorded after it — read in the original
workspace's register, or in a copy given with ``--erasures`` — and says so; with neither, it
says that it cannot know. Before this change the erasure only pointed to the documentation and a
restore brought the erased answers back silently (both tests fail there).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore

TARGET = "S1002"
BUDGET = "8765431"  # a value found nowhere else


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"SENACS_USER": "prep"})
    assert result.exit_code == 0, result.output
    return result.output


def _holds_budget(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and BUDGET.encode() in p.read_bytes())


@pytest.fixture
def erased(national_workspace: Workspace, tmp_path: Path) -> tuple[Workspace, Path, str]:
    """A backup before any data, one after the import, then the structure erased."""
    root = str(national_workspace.root)
    _cli("backup", "--out", str(tmp_path / "vide.tar.gz"), "--workspace", root)
    frame = export_frame(n=6)
    frame.loc[frame["id_structure"] == TARGET, "budget_total"] = BUDGET
    import_file(national_workspace, write_csv(frame, tmp_path / "senacs_2024.csv"), YEAR)
    archive = tmp_path / "avant-effacement.tar.gz"
    _cli("backup", "--out", str(archive), "--workspace", root)
    output = _cli("erase", TARGET, "--reason", "demande RGPD du 2 décembre 2026", "--workspace", root)
    return national_workspace, archive, output


def test_the_erasure_names_the_backups_that_still_hold_the_structure(erased: tuple[Workspace, Path, str],
                                                                     tmp_path: Path) -> None:
    workspace, archive, output = erased
    assert "À DÉTRUIRE : 1 sauvegarde(s) écrite(s) avant cet effacement contiennent encore les réponses" in output
    assert f"{archive} (écrite le " in output and "toujours présente" in output
    assert "vide.tar.gz" not in output  # written before the structure's answers arrived
    register = (workspace.restricted / "erasures.jsonl").read_text(encoding="utf-8")
    assert str(archive) in register
    assert _holds_budget(workspace.root) == []


def test_a_restored_backup_has_the_later_erasure_applied_again(erased: tuple[Workspace, Path, str],
                                                                tmp_path: Path) -> None:
    _, archive, _ = erased
    restored = tmp_path / "restaure"
    output = _cli("restore", str(archive), "--workspace", str(restored))
    assert "1 effacement(s) postérieur(s) à la sauvegarde" in output
    assert f"{TARGET} : effacée à nouveau" in output
    assert TARGET not in set(RawDataStore(Workspace(restored)).wide(YEAR)["structure_id"])
    assert len(RawDataStore(Workspace(restored)).wide(YEAR)) == 5  # the others are back
    assert _holds_budget(restored) == []


def test_without_the_register_the_restore_says_it_cannot_know(erased: tuple[Workspace, Path, str],
                                                               tmp_path: Path) -> None:
    workspace, archive, _ = erased
    kept = tmp_path / "registre-copie.jsonl"
    shutil.copy(workspace.restricted / "erasures.jsonl", kept)
    shutil.move(workspace.root, tmp_path / "ailleurs")  # the original workspace is lost
    blind = tmp_path / "sans-registre"
    output = _cli("restore", str(archive), "--workspace", str(blind))
    assert "ATTENTION : impossible de savoir si des structures ont été effacées après cette sauvegarde" in output
    assert _holds_budget(blind) != []  # the old answers are back: the message is all there is
    informed = tmp_path / "avec-registre"
    output = _cli("restore", str(archive), "--workspace", str(informed), "--erasures", str(kept))
    assert f"{TARGET} : effacée à nouveau" in output
    assert _holds_budget(informed) == []
