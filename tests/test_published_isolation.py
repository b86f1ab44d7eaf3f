"""Committee-facing code must never reach the restricted zone (DESIGN.md: one gate).

Every module of ``senacs_workbench.released`` (the published reader, the dashboards, committee
exports and analyses, the plaquette's content), and everything committee notebooks import, is
checked transitively: no module of the restricted side (nor trust, disclosure, demo, apps,
duckdb) may be reachable, and no source may name ``restricted`` (the workspace's folder of raw
data, or the package of that side). The import contracts in ``pyproject.toml`` are the first check.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from senacs_workbench.core.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "senacs_workbench"
FORBIDDEN = (  # the zones a committee module may not reach (see docs/architecture.md)
    "senacs_workbench.restricted",
    "senacs_workbench.trust",
    "senacs_workbench.disclosure",
    "senacs_workbench.demo",
    "senacs_workbench.apps",
    "duckdb",
)
RELEASED = PACKAGE / "released"
# every module of the committee side (and through them all they import)
COMMITTEE_ENTRY_POINTS = tuple(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in sorted(RELEASED.rglob("*.py"))
)
# the one string "restricted" a committee module may hold: an audience's name, not the folder
AUDIENCE_LABEL = ("senacs_workbench.released.analysis.audience", "restricted")
FOLDER_NAME = re.compile(r"(^|[/\\])restricted([/\\]|$)")


def _restricted_folder_attributes() -> set[str]:
    """The workspace's properties that are paths inside its restricted folder (``restricted``, the store...)."""
    root = Path("/workspace")
    workspace = Workspace(root)
    names = set()
    for name, value in vars(Workspace).items():
        if isinstance(value, property):
            try:
                path = getattr(workspace, name)
            except OSError:
                continue
            if isinstance(path, Path) and path.is_relative_to(root / "restricted"):
                names.add(name)
    return names


RESTRICTED_ATTRIBUTES = _restricted_folder_attributes()


def _reaches_restricted_folder(module: str, source: str) -> list[str]:
    """Where ``source`` names the workspace's restricted folder: a workspace property under it, or a path
    string naming it (docstrings aside)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in RESTRICTED_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and FOLDER_NAME.search(node.value) and (module, node.value) != AUDIENCE_LABEL):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def _module_path(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "senacs_workbench":
        return None
    base = ROOT.joinpath(*parts)
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    return None


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _closure(start: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(name)
        if path is not None:
            todo.extend(_imports(path.read_text(encoding="utf-8")) - seen)
        # importing a submodule imports its parents
        parent = name.rsplit(".", 1)[0]
        if parent != name and parent not in seen:
            todo.append(parent)
    return seen


def _notebook_sources(folder: Path) -> dict[Path, str]:
    sources = {}
    for path in sorted(folder.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        sources[path] = "\n".join(
            "".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"
        )
    return sources


def _committee_sources() -> dict[Path, str]:
    sources = _notebook_sources(ROOT / "dashboards")
    for path, source in _notebook_sources(ROOT / "notebooks").items():
        if "audience" in source and "committee" in source:
            sources[path] = source
    return sources


def _violations(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


def test_published_reader_does_not_reach_the_restricted_side() -> None:
    reached = _closure(set(COMMITTEE_ENTRY_POINTS))
    assert _violations(reached) == []
    for name in reached:
        path = _module_path(name)
        if path is not None:
            assert _reaches_restricted_folder(name, path.read_text(encoding="utf-8")) == [], path


def test_dashboards_and_committee_notebooks_only_use_the_published_side() -> None:
    for path, source in _committee_sources().items():
        clean = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
        reached = _closure(_imports(clean))
        assert _violations(reached) == [], path
        assert "restricted" not in clean, path


def test_the_checker_catches_a_forbidden_import() -> None:
    assert _violations(_closure({"senacs_workbench.demo.run"})) != []
    assert _violations(_closure({"senacs_workbench.restricted.analysis.infra"})) != []
    assert {"restricted", "store_path", "audit_log_path"} <= RESTRICTED_ATTRIBUTES
    assert _reaches_restricted_folder("m", "path = workspace.restricted / 'x'") != []
    assert _reaches_restricted_folder("m", "path = workspace.store_path") != []
    assert _reaches_restricted_folder("m", "path = root / 'restricted' / 'senacs.duckdb'") != []
    assert _reaches_restricted_folder("m", "path = root / 'restricted/audit-log.jsonl'") != []
    assert _reaches_restricted_folder("m", '"""Reads nothing of the restricted zone."""') == []
    assert len(COMMITTEE_ENTRY_POINTS) > 20 and "senacs_workbench.released.published" in COMMITTEE_ENTRY_POINTS
