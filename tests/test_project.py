"""Project-level contracts: environment.yml mirrors pyproject, README opens with two commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"duckdb": "python-duckdb", "kaleido": "python-kaleido", "pygal-maps-fr": "pygal-maps-fr"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAMES.get(_name(r), _name(r)) for r in project["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda |= {_name(p) for p in pip_section if not p.startswith("-e")}
    conda = {"dask" if name in ("dask", "distributed") else name for name in conda}
    test_extras = {_name(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]}
    assert wanted <= conda, wanted - conda
    assert conda - wanted <= test_extras, "environment.yml lists only dependencies and test extras"


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.S)
    first_block = [line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert len(first_block) == 2, first_block
    assert "senacs demo" in first_block[0]
    assert "scripts/test.sh" in first_block[1]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["senacs"] == "senacs_workbench.apps.cli:main"
