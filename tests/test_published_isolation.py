"""Committee-facing code must never reach the restricted zone (DESIGN.md: one gate).

The published reader, and everything that dashboards, committee notebooks and the plaquette
import, is checked transitively: no module of the restricted side may be reachable, and no
source may name the ``restricted`` folder.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "senacs_workbench"
FORBIDDEN = (
    "senacs_workbench.store",
    "senacs_workbench.importing",
    "senacs_workbench.access",
    "senacs_workbench.synth",
    "senacs_workbench.synthetic",
    "senacs_workbench.publication",
    "senacs_workbench.disclosure",
    "senacs_workbench.coherence",
    "senacs_workbench.authorised_reader",
    "duckdb",
)
COMMITTEE_ENTRY_POINTS = (
    "senacs_workbench.dashboard",
    "senacs_workbench.dashboard.app",
    "senacs_workbench.committee_exports",
    "senacs_workbench.published",
    "senacs_workbench.bundle_contract",
    "senacs_workbench.plaquette.build",  # and through it content, charts, maps, render, pdf
)


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
            assert "restricted" not in path.read_text(encoding="utf-8").replace("restricted zone", ""), path


def test_dashboards_and_committee_notebooks_only_use_the_published_side() -> None:
    for path, source in _committee_sources().items():
        clean = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
        reached = _closure(_imports(clean))
        assert _violations(reached) == [], path
        assert "restricted" not in clean, path


def test_the_checker_catches_a_forbidden_import() -> None:
    assert _violations(_closure({"senacs_workbench.demo"})) != []
