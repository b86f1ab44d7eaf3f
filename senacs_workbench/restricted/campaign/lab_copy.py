"""The preparer's working copy of the shipped notebooks, inside the workspace (``senacs lab``).

JupyterLab never opens the shipped notebooks (:func:`senacs_workbench.core.shipped.shipped`):
on first use each one is copied to ``<workspace>/restricted/lab/`` — owner-only, like the rest
of the restricted zone, since the preparer's notebooks read raw answers and write their outputs
there (``sorties/<carnet>/``) — with its parameters cell set to this workspace: its path, its
published folder, its territory, its latest released campaign (and the first one, for trends),
and, for the two notebooks that need one, a département whose infra views exist and the first
structure of the workspace (an example to replace).

A copy is never overwritten: later launches keep the preparer's edits, copy the notebooks that
are new (or that the preparer deleted to start again from the shipped version), and say in
French which shipped notebooks changed since their copy was made (the hash of the shipped file
each copy came from is kept in ``.senacs-lab.json``).

Why values in the parameters cell rather than notebooks reading ``SENACS_WORKSPACE``: the
preparer sees and edits what the notebook analyses, the shipped notebooks stay as they are for
``senacs run`` (papermill injects its own values after that cell), and a copy runs the same
inside ``senacs lab``, under papermill or nbclient. ``senacs lab`` still sets
``SENACS_WORKSPACE`` for code that reads it.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from senacs_workbench.core import territories as geo
from senacs_workbench.core.atomic import write_text_atomic
from senacs_workbench.core.codebook import available_years
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.published import PublishedReader
from senacs_workbench.restricted.publication.authorised import released_departements
from senacs_workbench.restricted.store import RawDataStore

LAB_DIR = "lab"
OUTPUTS_DIR = "sorties"
MANIFEST = ".senacs-lab.json"
HEADER = "# Valeurs de cet espace de travail, écrites par « senacs lab » le {date} : modifiez-les librement."
OWNER_ONLY_FILE = stat.S_IRUSR | stat.S_IWUSR
Value = str | int


@dataclass
class LabCopy:
    """What :func:`prepare_lab_copy` did: the folder, the notebooks copied now, those whose shipped version changed."""

    folder: Path
    created: list[str] = field(default_factory=list)
    changed: dict[str, str] = field(default_factory=dict)
    """notebook file name → date of its copy."""

    def messages_fr(self) -> list[str]:
        lines = [f"Carnets de travail : {self.folder} (vos copies ; les carnets livrés ne sont jamais modifiés)."]
        if self.created:
            lines.append(f"Copié(s) des carnets livrés, réglé(s) sur cet espace : {', '.join(self.created)}.")
        for name, copied in sorted(self.changed.items()):
            lines.append(
                f"Le carnet livré {name} est plus récent que votre copie (faite le {copied}) : votre copie est "
                f"conservée. Pour repartir du carnet livré, renommez ou supprimez {self.folder / name} puis "
                "relancez « senacs lab »."
            )
        return lines


def lab_folder(workspace: Workspace) -> Path:
    """``<workspace>/restricted/lab/``: where the preparer's copies live."""
    return workspace.restricted / LAB_DIR


def _owner_only_folder(path: Path) -> None:
    path.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
    os.chmod(path, stat.S_IRWXU)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reference(place: geo.Territory) -> str:
    return geo.NATIONAL_CODE if place.level == "national" else f"{place.level}:{place.code}"


def _imported_years(workspace: Workspace) -> list[int]:
    """Campaign years with imported data (store metadata only: no answer is read)."""
    store = RawDataStore(workspace)
    return [year for year in available_years() if not store.versions(year).empty]


def _infra_departement(workspace: Workspace, place: geo.Territory, year: int) -> str | None:
    """The workspace's département, else one whose infra views are released, else the région's first."""
    if place.level == "departement":
        return place.code
    released = released_departements(workspace, year)
    if released:
        return released[0]
    return geo.departements_of(place.code)[0] if place.level == "region" else None


def _first_structure(workspace: Workspace, place: geo.Territory, year: int) -> str | None:
    """The first structure of the workspace for ``year`` (an access-checked, logged read), if the user may read it."""
    try:
        ids = RawDataStore(workspace).wide(year, place, variables=["type_structure"])["structure_id"]
    except SenacsError:
        return None
    return str(ids.iloc[0]) if len(ids) else None


def workspace_parameters(workspace: Workspace) -> dict[str, Value]:
    """The parameter values of this workspace that the copies' parameters cells receive (by name)."""
    place = workspace.territory
    values: dict[str, Value] = {
        "workspace_dir": str(workspace.root),
        "published_dir": str(workspace.published),
        "territory": _reference(place),
    }
    released = PublishedReader(workspace.published).years()
    years = released or _imported_years(workspace)
    if not years:
        return values
    last = years[-1]
    values.update(year=last, first_year=years[0], last_year=last)
    departement = _infra_departement(workspace, place, last)
    if departement is not None:
        values["departement"] = departement
    structure = _first_structure(workspace, place, last)
    if structure is not None:
        values["structure_id"] = structure
    return values


def _literal(value: Value) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def set_parameters(source: str, values: Mapping[str, Value]) -> str:
    """``source`` (a parameters cell) with the value of each one-line assignment to a name of ``values`` replaced.

    Names the cell does not assign are ignored, names ``values`` does not hold keep their value,
    and comments stay where they are.
    """
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id not in values or value.lineno != value.end_lineno:
            continue
        assert value.end_col_offset is not None
        line = lines[value.lineno - 1].encode("utf-8")  # ast offsets count UTF-8 bytes
        new = line[:value.col_offset] + _literal(values[target.id]).encode("utf-8") + line[value.end_col_offset:]
        lines[value.lineno - 1] = new.decode("utf-8")
    return "".join(lines)


def _copy_notebook(source: Path, target: Path, values: Mapping[str, Value], today: str) -> None:
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = HEADER.format(date=today) + "\n" + set_parameters(cell.source, values)
            break
    write_text_atomic(target, nbformat.writes(notebook) + "\n", mode=OWNER_ONLY_FILE)


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): dict(v) for k, v in loaded.get("notebooks", {}).items()} if isinstance(loaded, dict) else {}


def prepare_lab_copy(workspace: Workspace, source_dir: Path | None = None) -> LabCopy:
    """Create or complete the working copy of ``source_dir`` (default: the shipped notebooks); keep existing copies."""
    source = source_dir or shipped("notebooks")
    folder = lab_folder(workspace)
    _owner_only_folder(workspace.restricted)
    _owner_only_folder(folder)
    manifest_path = folder / MANIFEST
    manifest = _read_manifest(manifest_path)
    result = LabCopy(folder)
    today = dt.date.today().isoformat()
    values: dict[str, Value] | None = None
    for notebook in sorted(source.glob("*.ipynb")):
        target = folder / notebook.name
        digest = _sha256(notebook)
        if target.exists():
            entry = manifest.get(notebook.name, {})
            if entry.get("shipped_sha256") != digest:
                result.changed[notebook.name] = entry.get("copied_on", "?")
            continue
        if values is None:
            values = workspace_parameters(workspace)
        output = folder / OUTPUTS_DIR / notebook.stem
        _copy_notebook(notebook, target, {**values, "output_dir": str(output)}, today)
        manifest[notebook.name] = {"shipped_sha256": digest, "copied_on": today}
        result.created.append(notebook.name)
    if result.created:
        _owner_only_folder(folder / OUTPUTS_DIR)
        write_text_atomic(manifest_path, json.dumps({"notebooks": manifest}, indent=2, ensure_ascii=False) + "\n",
                          mode=OWNER_ONLY_FILE)
    return result
