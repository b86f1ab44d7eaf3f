"""The workspace: one folder per territory or installation, outside the git checkout.

Layout::

    workspace.yaml      name, territory, creation date, format version
    governance.yaml     who is who (committee, preparer, correspondents), see governance.py
    restricted/         owner-only (0700): store, archived imports, findings, audit log
    published/          released bundles (aggregates only)
    reports/            rendered outputs, by audience; reports/restricted/ and reports/centre/
                        (audiences narrower than the committee) are owner-only like restricted/

Every command takes ``--workspace``; the default is ``$SENACS_WORKSPACE``, else
``./senacs-workspace``.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_bytes_atomic, write_text_atomic
from senacs_workbench.core.errors import InputError, WorkspaceError

WORKSPACE_FILE = "workspace.yaml"
GOVERNANCE_FILE = "governance.yaml"
FORMAT_VERSION = 1
ENV_VAR = "SENACS_WORKSPACE"
DEFAULT_DIR = "senacs-workspace"
OWNER_ONLY_REPORTS = ("restricted", "centre")
"""Folders of ``reports/`` for the audiences narrower than the committee (the preparer and
correspondents; one centre): owner-only (0700 folders, 0600 files), checked like ``restricted/``."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / WORKSPACE_FILE

    @property
    def governance_path(self) -> Path:
        return self.root / GOVERNANCE_FILE

    @property
    def restricted(self) -> Path:
        return self.root / "restricted"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def store_path(self) -> Path:
        return self.restricted / "senacs.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.restricted / "imports"

    @property
    def audit_log_path(self) -> Path:
        return self.restricted / "audit-log.jsonl"

    @property
    def owner_only_dirs(self) -> tuple[Path, ...]:
        """Folders no one but the owner may read: ``restricted/`` and the narrow audiences' reports."""
        return (self.restricted, *(self.reports / name for name in OWNER_ONLY_REPORTS))

    @property
    def config(self) -> dict[str, object]:
        loaded = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
        return dict(loaded)

    @property
    def territory(self) -> geo.Territory:
        """The territory the workspace serves (``territory`` in workspace.yaml; national when
        unset); a French :class:`WorkspaceError` naming the file when it is not a territory."""
        raw = str(self.config.get("territory") or geo.NATIONAL_CODE)
        try:
            return geo.parse_territory(raw)
        except InputError as exc:
            raise WorkspaceError(f"{WORKSPACE_FILE} : territoire « {raw} » illisible : {exc}",
                                 file=str(self.config_path)) from None


def make_owner_only(folder: Path) -> Path:
    """Create ``folder`` (and its parents) if needed and make it owner-only (0700), whatever the umask."""
    folder.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
    os.chmod(folder, stat.S_IRWXU)
    return folder


def restrict_tree(root: Path) -> None:
    """Make everything under ``root`` owner-only: folders 0700, files 0600 (symbolic links are not followed)."""
    if not root.is_dir() or root.is_symlink():
        return
    os.chmod(root, stat.S_IRWXU)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, stat.S_IRWXU)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def loose_owner_only_dirs(workspace: Workspace) -> list[tuple[Path, int]]:
    """The owner-only folders of ``workspace`` that others may read or enter, with their mode."""
    loose = []
    for folder in workspace.owner_only_dirs:
        if folder.is_dir():
            mode = stat.S_IMODE(folder.stat().st_mode)
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                loose.append((folder, mode))
    return loose


def default_workspace_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _checkout_root() -> Path | None:
    """The git checkout this package runs from, if it runs from one (editable install)."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() and (here / ".git").exists() else None


def _is_within(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def init_workspace(
    path: Path, *, name: str | None = None, territory: str = "FR", demo: bool = False
) -> Workspace:
    """Create a workspace at ``path`` (refused inside the package's git checkout)."""
    checkout = _checkout_root()
    if checkout is not None and _is_within(path, checkout):
        raise WorkspaceError(
            f"Le dossier de travail {path} est dans le dépôt du logiciel ({checkout}) : "
            "choisissez un dossier en dehors, pour que les données ne soient jamais versionnées."
        )
    workspace = Workspace(path.resolve())
    if workspace.config_path.exists():
        raise WorkspaceError(f"Un espace de travail existe déjà dans {workspace.root}.")
    workspace.root.mkdir(parents=True, exist_ok=True)
    workspace.restricted.mkdir(mode=0o700, exist_ok=True)
    os.chmod(workspace.restricted, stat.S_IRWXU)
    workspace.published.mkdir(exist_ok=True)
    workspace.reports.mkdir(exist_ok=True)
    for audience in OWNER_ONLY_REPORTS:
        make_owner_only(workspace.reports / audience)
    config = {
        "name": name or workspace.root.name,
        "territory": territory,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "format_version": FORMAT_VERSION,
    }
    if demo:
        config["demo"] = True
    write_text_atomic(workspace.config_path, yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return workspace


def open_workspace(path: Path | None = None) -> Workspace:
    """Open an existing workspace, with a French message if there is none."""
    root = (path or default_workspace_path()).resolve()
    workspace = Workspace(root)
    if not workspace.config_path.exists():
        raise WorkspaceError(
            f"Aucun espace de travail dans {root}. Créez-le avec « senacs init {root} » "
            f"ou indiquez-le avec --workspace ou la variable {ENV_VAR}."
        )
    for folder, mode in loose_owner_only_dirs(workspace):
        fix = "chmod 700" if folder == workspace.restricted else "chmod -R go-rwx"
        raise WorkspaceError(
            f"Le dossier {folder} est lisible par d'autres utilisateurs "
            f"(droits {oct(mode)}) : rétablissez des droits réservés au propriétaire ({fix})."
        )
    return workspace


__all__ = ["OWNER_ONLY_REPORTS", "Workspace", "init_workspace", "loose_owner_only_dirs", "make_owner_only",
           "open_workspace", "restrict_tree", "write_bytes_atomic", "write_text_atomic"]
