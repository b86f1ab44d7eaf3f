"""Only reviewed code speaks to the committee or to a centre.

A notebook rendered for the committee or for a centre must be reviewed code: a shipped
notebook, byte for byte (its SHA-256 equals the shipped file's), or one the governance names
with its hash (``reviewed_notebooks: [{path: …, sha256: …}]``, path relative to the workspace;
adopting it takes the committee's signatures like any governance change). A notebook edited
since (the preparer's lab copy, a folder a campaign file points at) is refused before it runs.

A notebook of the committee's audience is also checked, when it runs, by the rule the tests
apply to the shipped ones: its code imports nothing of the raw-data side (the workbench's
``restricted``, ``trust``, ``disclosure``, ``demo``, ``apps`` packages, ``duckdb``) and names
no ``restricted`` folder. What it does at run time is bounded by the confinement of its kernel
(:mod:`.confinement`), since code can read a file without importing anything.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

import nbformat

from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.shipped import shipped
from senacs_workbench.core.workspace import Workspace

FORBIDDEN_MODULES = ("senacs_workbench.restricted", "senacs_workbench.trust", "senacs_workbench.disclosure",
                     "senacs_workbench.demo", "senacs_workbench.apps", "senacs_workbench.release_audit", "duckdb")
FOLDER_NAME = re.compile(r"(^|[/\\])restricted([/\\]|$)")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_reviewed(notebook: Path, workspace: Workspace) -> bool:
    """Whether ``notebook`` is a shipped notebook unchanged, or pinned by hash in the governance."""
    digest = sha256_of(notebook)
    for folder in (shipped("notebooks"), shipped("dashboards")):
        candidate = folder / notebook.name
        if candidate.is_file() and sha256_of(candidate) == digest:
            return True
    pinned = load_governance(workspace.governance_path).reviewed_notebooks
    here = notebook.resolve()
    return any((workspace.root / path).resolve() == here and sha == digest for path, sha in pinned)


def code_of(notebook: Path) -> str:
    cells = nbformat.read(notebook, as_version=4).cells
    return "\n".join(cell.source for cell in cells if cell.cell_type == "code")


def import_violations(source: str) -> list[str]:
    """What in ``source`` reaches the raw-data side: forbidden imports and ``restricted`` folder names."""
    found: list[str] = []
    try:
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError as exc:
        return [f"code illisible ({exc.msg}, ligne {exc.lineno})"]
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names = ["__import__"]
        found += [f"ligne {getattr(node, 'lineno', 0)} : import de {name}" for name in names
                  if name == "__import__" or any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES)]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and FOLDER_NAME.search(node.value):
            found.append(f"ligne {node.lineno} : chemin vers le dossier restreint {node.value!r}")
    return found


def refusals(notebook: Path, declared: str, output: str, workspace: Workspace) -> list[str]:
    """Why ``notebook`` (declared audience ``declared``) may not be rendered for ``output``; empty if it may."""
    if output not in ("committee", "centre"):
        return []
    problems = []
    if not is_reviewed(notebook, workspace):
        problems.append(
            f"refusé — {notebook} n'est pas un carnet revu : ni un carnet livré avec l'atelier (inchangé), ni un "
            "carnet inscrit avec son empreinte dans la gouvernance (reviewed_notebooks), adoptée par le comité. "
            "Seul du code revu produit les documents du comité et des centres."
        )
    if declared == "committee":
        problems += [f"refusé — {notebook.name}, {v} (un carnet du comité ne lit que les tableaux publiés)"
                     for v in import_violations(code_of(notebook))]
    return problems
