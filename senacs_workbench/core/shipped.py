"""Where the shipped notebooks, dashboards and example campaign files are, checked out or installed.

``notebooks/``, ``dashboards/`` and ``parameters/`` live at the repository's top level (the
design card asks for them there). The package reaches them through ``senacs_workbench/shipped/``,
which holds one symbolic link per folder in a checkout (editable install, ``PYTHONPATH``) and the
folders themselves in a wheel (``package-data`` copies the linked files). Every reader of those
folders — ``senacs run``'s default notebooks, ``senacs demo``, ``senacs serve``, ``senacs lab`` —
asks :func:`shipped`, so none depends on running from a git checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from senacs_workbench.core.errors import SenacsError

ShippedFolder = Literal["notebooks", "dashboards", "parameters"]
SHIPPED_FOLDERS: tuple[ShippedFolder, ...] = ("notebooks", "dashboards", "parameters")


def shipped(folder: ShippedFolder) -> Path:
    """The real path of one shipped folder (symbolic links resolved); a French error if it is missing."""
    if folder not in SHIPPED_FOLDERS:
        raise ValueError(f"unknown shipped folder: {folder!r}")
    path = Path(str(files("senacs_workbench") / "shipped" / folder)).resolve()
    if not path.is_dir():
        raise SenacsError(f"Dossier livré avec le logiciel introuvable : {path} (installation incomplète ?).")
    return path
