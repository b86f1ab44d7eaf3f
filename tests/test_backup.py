"""``senacs backup`` / ``senacs restore``: one archive, every hash and the audit chain checked
before anything is written, modes restored, a tampered archive refused."""

from __future__ import annotations

import gzip
import io
import json
import os
import pwd
import stat
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.operations.backup import (
    MANIFEST_NAME,
    BackupError,
    backup_workspace,
    restore_workspace,
)
from senacs_workbench.trust import audit_log


@pytest.fixture
def imported(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "senacs_2024.csv"), YEAR)
    (national_workspace.reports / "centre" / "S1000").mkdir(mode=0o700)
    (national_workspace.reports / "centre" / "S1000" / "note.txt").write_text("rapport", encoding="utf-8")
    return national_workspace


def _status(root: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["status", "--json", "--workspace", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.replace(str(root), "<ws>"))
    return dict(state)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_backup_then_restore_gives_the_same_workspace(imported: Workspace, tmp_path: Path) -> None:
    before = _status(imported.root)
    outcome = backup_workspace(imported, tmp_path / "save.tar.gz")
    assert stat.S_IMODE(outcome.archive.stat().st_mode) == 0o600
    with tarfile.open(outcome.archive) as tar:
        names = set(tar.getnames())
    assert {"restricted/senacs.duckdb", "restricted/audit-log.jsonl", "workspace.yaml", "governance.yaml",
            "reports/centre/S1000/note.txt", MANIFEST_NAME} <= names
    assert any(n.startswith("restricted/imports/") for n in names)
    assert not any(n.endswith(".workspace.lock") for n in names)

    target = tmp_path / "restored"
    result = CliRunner().invoke(main, ["restore", str(outcome.archive), "--workspace", str(target)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "restauré" in result.output
    after = _status(target)
    # the restore is recorded in the restored log: one entry more, the rest identical
    assert after["audit_log"]["entries"] == before["audit_log"]["entries"] + 2  # type: ignore[index]
    entries = audit_log.entries(target / "restricted" / "audit-log.jsonl")
    assert [e["action"] for e in entries[-2:]] == ["backup", "restore"]
    for key in ("audit_log",):
        before.pop(key)
        after.pop(key)
    assert after == before
    for folder in (target / "restricted", target / "reports" / "centre", target / "reports" / "centre" / "S1000"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "restricted" / "senacs.duckdb").stat().st_mode) == 0o600
    original, restored = _tree(imported.root), _tree(target)
    for name in original:
        if name not in ("restricted/audit-log.jsonl", ".workspace.lock"):
            assert restored[name] == original[name], name


def _rewrite(archive: Path, out: Path, change: dict[str, bytes]) -> Path:
    """A copy of ``archive`` whose members named in ``change`` have other bytes (manifest untouched)."""
    buffer = io.BytesIO()
    with tarfile.open(archive) as tar, tarfile.open(fileobj=buffer, mode="w") as copy:
        for member in tar:
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            data = change.get(member.name, data)
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    out.write_bytes(gzip.compress(buffer.getvalue()))
    return out


def _flip_one_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def test_a_tampered_store_is_refused_and_nothing_is_written(imported: Workspace, tmp_path: Path) -> None:
    archive = backup_workspace(imported, tmp_path / "save.tar.gz").archive
    store = imported.store_path.read_bytes()
    tampered = _rewrite(archive, tmp_path / "tampered.tar.gz", {"restricted/senacs.duckdb": _flip_one_byte(store)})
    target = tmp_path / "restored"
    result = CliRunner().invoke(main, ["restore", str(tampered), "--workspace", str(target)])
    assert result.exit_code == 2
    assert "restricted/senacs.duckdb" in result.output and "a été modifié" in result.output
    assert "rien n'a été écrit" in result.output
    assert not target.exists()
    target.mkdir()
    with pytest.raises(BackupError):
        restore_workspace(tampered, target)
    assert list(target.iterdir()) == []


def test_a_rewritten_audit_log_is_refused_even_with_its_hash_updated(imported: Workspace, tmp_path: Path) -> None:
    """Someone edits an audit entry and the manifest's hash of the file: the chain still tells."""
    archive = backup_workspace(imported, tmp_path / "save.tar.gz").archive
    log = imported.audit_log_path.read_bytes().replace(b'"user":"prep"', b'"user":"autre"', 1)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile(MANIFEST_NAME).read())  # type: ignore[union-attr]
    import hashlib

    manifest["files"]["restricted/audit-log.jsonl"]["sha256"] = hashlib.sha256(log).hexdigest()
    tampered = _rewrite(archive, tmp_path / "t.tar.gz", {"restricted/audit-log.jsonl": log,
                                                          MANIFEST_NAME: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match=r"Journal d.audit .* modifiée|chaînage"):
        restore_workspace(tampered, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_restore_refuses_a_non_empty_folder_and_unsafe_names(imported: Workspace, tmp_path: Path) -> None:
    archive = backup_workspace(imported, tmp_path / "save.tar.gz").archive
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("garder", encoding="utf-8")
    with pytest.raises(BackupError, match="n'est pas vide"):
        restore_workspace(archive, busy)
    assert (busy / "x").read_text(encoding="utf-8") == "garder"
    evil = _rewrite(archive, tmp_path / "evil.tar.gz", {})
    with tarfile.open(evil) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        for member, data in members:
            out.addfile(member, io.BytesIO(data))
        extra = tarfile.TarInfo("../escape.txt")
        extra.size = 1
        out.addfile(extra, io.BytesIO(b"x"))
    evil.write_bytes(gzip.compress(buffer.getvalue()))
    with pytest.raises(BackupError, match="sort de l'espace de travail"):
        restore_workspace(evil, tmp_path / "r2")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "r2").exists()


def test_backup_waits_for_the_workspace_lock_and_names_its_holder(imported: Workspace, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from senacs_workbench.core.workspace_lock import WorkspaceBusy

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; "
         "from senacs_workbench.core.workspace_lock import workspace_lock\n"
         "with workspace_lock(Path(sys.argv[1]), 'la publication de la campagne 2024'):\n"
         "    print('pris', flush=True); time.sleep(60)",
         str(imported.root)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "SENACS_USER": "ffed"})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "pris"
        monkeypatch.setenv("SENACS_WORKSPACE_LOCK_TIMEOUT", "0.3")
        account = pwd.getpwuid(os.getuid()).pw_name  # the lock names the OS account, not SENACS_USER
        with pytest.raises(WorkspaceBusy, match=rf"la publication de la campagne 2024 \(utilisateur {account}"):
            backup_workspace(imported, tmp_path / "save.tar.gz")
        assert not (tmp_path / "save.tar.gz").exists()
    finally:
        holder.kill()
        holder.wait()
    assert backup_workspace(imported, tmp_path / "save.tar.gz").archive.exists()


def test_a_truncated_archive_is_refused(imported: Workspace, tmp_path: Path) -> None:
    archive = backup_workspace(imported, tmp_path / "save.tar.gz").archive
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(BackupError, match="rien n'a été écrit"):
        restore_workspace(cut, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
