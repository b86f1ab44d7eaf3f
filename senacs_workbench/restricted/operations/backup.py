"""``senacs backup`` and ``senacs restore``: one archive of a whole workspace, checked before use.

A workspace's state is every file under its folder (``docs/architecture.md``): ``workspace.yaml``,
``governance.yaml``, ``restricted/`` (the DuckDB store, archived imports, audit log, ledger,
coherence outputs, authorised bundles, suppression reasons), ``published/`` (drafts, released
bundles, comparisons) and ``reports/`` (every audience's outputs and the campaigns' records).
The backup copies all of it into one gzip-compressed tar file, with a manifest
(:data:`MANIFEST_NAME`) giving each file's SHA-256, size and mode, each folder's mode, and the
audit log's entry count and last hash. Only the workspace lock file and the temporary files of
atomic writes are left out.

The backup is consistent: it holds the workspace lock (no campaign, publication or erasure
writes meanwhile), a read-only connection to the store while copying it (DuckDB refuses a
writer then: an import or a correction waits) and the audit log's own ``flock`` while copying
the log. The archive is written to a temporary file, synced and renamed: an interrupted backup
leaves no partial archive. It holds raw data: it is written owner-only (0600), and the backup
is a raw-data operation (checked by the governance, logged in the audit log).

The restore checks everything before it writes anything into the target: the target is empty
(or absent), every member is a plain file or folder with a safe relative name, every file of the
manifest is present with its hash, nothing is in the archive that the manifest does not list,
and the audit log's chain verifies (``trust.audit_log.verify``, on a private temporary copy)
and ends where the manifest says. Files and folders get their recorded modes back, and
``restricted/`` and the narrow audiences' report folders are made owner-only again whatever
the archive says. The restore is then recorded in the restored audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from senacs_workbench.core.atomic import fsync_directory
from senacs_workbench.core.errors import AuditLogError, SenacsError
from senacs_workbench.core.workspace import Workspace, open_workspace, restrict_tree
from senacs_workbench.core.workspace_lock import LOCK_FILE, workspace_lock
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.access import require_raw_access
from senacs_workbench.trust.identity import acting_user

MANIFEST_NAME = "senacs-sauvegarde.json"
FORMAT = "senacs-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 20
TEMPORARY = re.compile(r"^\..+\.tmp-\d+$")
"""Temporary files of :func:`senacs_workbench.core.atomic.write_bytes_atomic` (never workspace state)."""


class BackupError(SenacsError):
    """A backup cannot be written, or an archive cannot be restored (French message)."""


@dataclass(frozen=True)
class BackupOutcome:
    archive: Path
    files: int
    bytes: int
    sha256: str
    message_fr: str


@dataclass(frozen=True)
class RestoreOutcome:
    workspace: Path
    files: int
    message_fr: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_state(relative: PurePosixPath) -> bool:
    return not (str(relative) == LOCK_FILE or TEMPORARY.match(relative.name))


def workspace_files(root: Path) -> tuple[list[PurePosixPath], list[PurePosixPath]]:
    """The workspace's folders and plain files (relative, sorted), as the backup takes them
    (symbolic links, the lock file and temporary files left out)."""
    folders: list[PurePosixPath] = []
    files: list[PurePosixPath] = []
    for current, dirs, names in os.walk(root):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        for name in dirs:
            folders.append(PurePosixPath((here / name).relative_to(root).as_posix()))
        for name in sorted(names):
            path = here / name
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_symlink() or not path.is_file() or not _is_state(relative):
                continue
            files.append(relative)
    return sorted(folders), sorted(files)


class _HashingReader(io.RawIOBase):
    """A file read by ``tarfile.addfile`` whose bytes are hashed on the way."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


@contextmanager
def _quiet(workspace: Workspace) -> Iterator[None]:
    """Hold what keeps writers away during the copy: a read-only store connection (DuckDB
    then refuses a writer), then the audit log's exclusive ``flock`` (appenders wait). The store
    first: an import holding the store may still append to the log before it lets go."""
    import fcntl
    from contextlib import ExitStack

    from senacs_workbench.restricted.store import connect

    with ExitStack() as stack:
        if workspace.store_path.exists():
            stack.enter_context(connect(workspace, read_only=True))
        log = workspace.audit_log_path
        if log.exists():
            handle = stack.enter_context(log.open("a"))
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _add_file(tar: tarfile.TarFile, root: Path, relative: PurePosixPath) -> dict[str, Any]:
    path = root / relative
    info = os.stat(path)
    member = tarfile.TarInfo(str(relative))
    member.size = info.st_size
    member.mode = stat.S_IMODE(info.st_mode)
    member.mtime = int(info.st_mtime)
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(member, reader)  # type: ignore[arg-type]
    return {"sha256": reader.digest.hexdigest(), "size": info.st_size, "mode": oct(member.mode)}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mode = mode
    member.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(member, io.BytesIO(data))


def default_archive_name(workspace: Workspace) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(workspace.config.get("name") or workspace.root.name))
    return f"senacs-sauvegarde-{name}-{stamp}.tar.gz"


def _check_archive_target(workspace: Workspace, archive: Path) -> None:
    try:
        archive.resolve().relative_to(workspace.root.resolve())
    except ValueError:
        return
    raise BackupError(f"L'archive {archive} serait écrite dans l'espace de travail lui-même : choisissez un "
                      "dossier en dehors (de préférence sur un autre disque).")


def backup_workspace(workspace: Workspace, archive: Path | None = None, *, out_dir: Path | None = None,
                     user: str | None = None) -> BackupOutcome:
    """Write one archive of ``workspace`` (see the module docs) and return where."""
    if archive is None:
        archive = (out_dir or Path.cwd()) / default_archive_name(workspace)
    archive = archive.resolve()
    _check_archive_target(workspace, archive)
    if archive.exists():
        raise BackupError(f"L'archive {archive} existe déjà : choisissez un autre nom (rien n'est écrasé).")
    user = require_raw_access(workspace, "backup", workspace.territory, details={"archive": str(archive)}, user=user)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.tmp-{os.getpid()}")
    root = workspace.root
    try:
        with workspace_lock(root, "la sauvegarde de l'espace de travail"), _quiet(workspace):
            folders, files = workspace_files(root)
            verification = audit_log.verify(workspace.audit_log_path)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                entries = {str(relative): _add_file(tar, root, relative) for relative in files}
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "created_by": user,
                    "workspace": {"name": workspace.config.get("name"), "territory": workspace.territory.key,
                                  "path": str(root)},
                    "audit_log": {"entries": verification.entries, "last_hash": verification.last_hash},
                    "root_mode": oct(stat.S_IMODE(os.stat(root).st_mode)),
                    "folders": {str(f): oct(stat.S_IMODE(os.stat(root / f).st_mode)) for f in folders},
                    "files": entries,
                }
                _add_bytes(tar, MANIFEST_NAME,
                           json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(archive.parent)
    digest = sha256_file(archive)
    total = sum(int(e["size"]) for e in entries.values())
    audit_log.append(workspace.audit_log_path, user=user, action="backup_written", territory=workspace.territory.key,
                     details={"archive": str(archive), "sha256": digest, "files": len(entries),
                              "audit_entries": verification.entries})
    return BackupOutcome(
        archive, len(entries), total, digest,
        f"Sauvegarde écrite : {archive} ({len(entries)} fichiers, empreinte SHA-256 {digest}). "
        "Elle contient les données brutes : conservez-la en lieu sûr, accessible au seul préparateur, "
        "et notez son empreinte ailleurs pour pouvoir vérifier l'archive.",
    )


# ---------------------------------------------------------------------------- restore


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts):
        raise BackupError(f"Archive refusée : le nom « {name} » sort de l'espace de travail ; rien n'a été écrit.")
    return path


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST_NAME)
        handle = tar.extractfile(member)
        manifest = json.loads(handle.read().decode("utf-8")) if handle is not None else None
    except (KeyError, json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} n'est pas une sauvegarde SENACS lisible (manifeste {MANIFEST_NAME} absent "
                          "ou illisible) ; rien n'a été écrit.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError(f"{archive} a été écrite par une version plus récente du workbench ; mettez-le à jour. "
                          "Rien n'a été écrit.")
    return manifest


def _member_digest(tar: tarfile.TarFile, member: tarfile.TarInfo, copy_to: IO[bytes] | None = None) -> str:
    handle = tar.extractfile(member)
    digest = hashlib.sha256()
    if handle is None:
        return ""
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest()


def _check_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"Le dossier {target} n'est pas vide : la restauration se fait dans un dossier vide ou "
                          "inexistant, pour ne jamais écraser un espace de travail. Rien n'a été écrit.")


def verify_archive(archive: Path) -> dict[str, Any]:
    """Check ``archive`` completely (see the module docs) without writing anything into a
    workspace; return its manifest, or raise :class:`BackupError` in French."""
    try:
        return _verify(archive)
    except (OSError, tarfile.TarError, EOFError, zlib.error):
        raise BackupError(f"Archive {archive} tronquée ou endommagée ; rien n'a été écrit.") from None


def _verify(archive: Path) -> dict[str, Any]:
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError):
        raise BackupError(f"{archive} n'est pas une sauvegarde SENACS lisible (ce n'est pas une archive tar, ou "
                          "elle est endommagée) ; rien n'a été écrit.") from None
    with tar:
        manifest = _read_manifest(tar, archive)
        expected: dict[str, dict[str, Any]] = manifest.get("files", {})
        seen: set[str] = set()
        problems: list[str] = []
        log_digest_ok = False
        with tempfile.TemporaryDirectory(prefix="senacs-restauration-") as private:
            log_copy = Path(private) / "audit-log.jsonl"
            for member in tar:
                if member.name == MANIFEST_NAME:
                    continue
                name = str(_safe_name(member.name))
                if not member.isfile():
                    problems.append(f"« {name} » n'est pas un fichier ordinaire")
                    continue
                if name not in expected or name in seen:
                    problems.append(f"« {name} » n'est pas dans le manifeste ou y figure deux fois")
                    continue
                seen.add(name)
                is_log = name == "restricted/audit-log.jsonl"
                if is_log:
                    with log_copy.open("wb") as out:
                        digest = _member_digest(tar, member, out)
                else:
                    digest = _member_digest(tar, member)
                if digest != expected[name].get("sha256"):
                    problems.append(f"« {name} » a été modifié (empreinte SHA-256 différente du manifeste)")
                elif is_log:
                    log_digest_ok = True
            problems += [f"« {name} » manque" for name in sorted(set(expected) - seen)]
            if problems:
                raise BackupError(f"Archive {archive} refusée, rien n'a été écrit : " + " ; ".join(problems) + ".")
            recorded = manifest.get("audit_log", {})
            if log_digest_ok:
                try:
                    chain = audit_log.verify(log_copy)
                except AuditLogError as exc:
                    raise BackupError(f"Archive {archive} refusée, rien n'a été écrit : {exc}") from None
                if chain.entries != recorded.get("entries") or chain.last_hash != recorded.get("last_hash"):
                    raise BackupError(f"Archive {archive} refusée : le journal d'audit ne se termine pas là où le "
                                      "manifeste l'indique ; rien n'a été écrit.")
            elif recorded.get("entries"):
                raise BackupError(f"Archive {archive} refusée : le journal d'audit manque ; rien n'a été écrit.")
    return manifest


def _mode(text: Any, default: int) -> int:
    try:
        return int(str(text), 8) & 0o777
    except ValueError:
        return default


def restore_workspace(archive: Path, target: Path, *, user: str | None = None,
                      erasures: Sequence[Path] = ()) -> RestoreOutcome:
    """Restore ``archive`` into ``target`` (empty or absent) once :func:`verify_archive` accepts it,
    then re-apply the erasures recorded after the backup was written (in ``erasures``, copies of
    erasure registers, or in the original workspace's register: :mod:`.backup_erasures`)."""
    from senacs_workbench.restricted.operations import backup_erasures as later

    for register in erasures:
        if not Path(register).is_file():
            raise BackupError(f"Registre d'effacements {register} introuvable ; rien n'a été écrit.")
    archive, target = archive.resolve(), target.resolve()
    _check_target(target)
    manifest = verify_archive(archive)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)  # nobody else looks in while the files arrive
    try:
        _extract(archive, target, manifest)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            _empty(target)
        raise
    workspace = Workspace(target)
    for folder in workspace.owner_only_dirs:
        restrict_tree(folder)
    workspace = open_workspace(target)
    user = user or acting_user(workspace.governance_path)
    audit_log.append(workspace.audit_log_path, user=user, action="restore", territory=workspace.territory.key,
                     details={"archive": str(archive), "sha256": sha256_file(archive),
                              "backup_created": manifest.get("created"),
                              "original_path": manifest.get("workspace", {}).get("path")})
    files = len(manifest.get("files", {}))
    registers = later.registers_for(manifest, target, erasures)
    records = later.erasures_to_reapply(manifest.get("created"), registers)
    done = later.reapply_erasures(workspace, records, user)
    message = (
        f"Espace de travail restauré dans {target} : {files} fichiers vérifiés (empreintes SHA-256 et chaînage "
        f"du journal d'audit, {manifest.get('audit_log', {}).get('entries', 0)} entrées) ; la restauration est "
        "inscrite au journal d'audit."
    )
    if registers:
        message += (f"\nRegistre(s) d'effacements lu(s) : {', '.join(str(r) for r in registers)} ; "
                    f"{len(records)} effacement(s) postérieur(s) à la sauvegarde "
                    f"({manifest.get('created', '?')}) réappliqué(s).")
        message += "".join(f"\n{line}" for line in done)
    else:
        message += ("\nATTENTION : impossible de savoir si des structures ont été effacées après cette sauvegarde "
                    f"({manifest.get('created', '?')}) : l'espace d'origine est introuvable et aucun registre "
                    "d'effacements n'a été donné. Relancez la restauration avec --erasures <copie de "
                    "restricted/erasures.jsonl> si vous en avez une (voir docs/operations.md).")
    return RestoreOutcome(target, files, message)


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _extract(archive: Path, target: Path, manifest: dict[str, Any]) -> None:
    folders: dict[str, Any] = manifest.get("folders", {})
    expected: dict[str, dict[str, Any]] = manifest.get("files", {})
    for name in sorted(folders):
        (target / _safe_name(name)).mkdir(parents=True, exist_ok=True, mode=0o700)
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:
            if member.name == MANIFEST_NAME:
                continue
            relative = _safe_name(member.name)
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                digest = _member_digest(tar, member, out)
                out.flush()
                os.fsync(out.fileno())
            if digest != expected[str(relative)]["sha256"]:  # the archive changed since it was checked
                raise BackupError(f"« {relative} » a changé pendant la restauration : archive refusée.")
            os.chmod(path, _mode(expected[str(relative)].get("mode"), 0o600))
    for name in sorted(folders, key=lambda n: -len(PurePosixPath(n).parts)):
        os.chmod(target / name, _mode(folders[name], 0o700))
    os.chmod(target, _mode(manifest.get("root_mode"), 0o700))


__all__ = ["MANIFEST_NAME", "BackupError", "BackupOutcome", "RestoreOutcome", "backup_workspace",
           "restore_workspace", "verify_archive", "workspace_files"]
