"""The release audit shares no code with the disclosure-control engine (issue 16)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import senacs_workbench.release_audit as release_audit

ENGINE = "senacs_workbench.disclosure"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_release_audit_imports_the_engine() -> None:
    files = sorted(Path(release_audit.__file__).parent.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        names = imported_modules(path)
        assert not any(n == ENGINE or n.startswith(ENGINE + ".") for n in names), path.name
        assert "senacs_workbench.disclosure" not in names
        assert not any(n.startswith("..") for n in names), path.name  # no relative escape to a sibling


def test_importing_and_running_the_release_audit_loads_no_engine_module() -> None:
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests/release_audit')\n"
        "from release_tables import BUDGET, CODEBOOK, microdata, sums\n"
        "from senacs_workbench.release_audit import audit_union\n"
        "data = microdata([{'financement_caf': 10.0}, {'financement_caf': 20.0}, {'financement_caf': 30.0}])\n"
        "audit_union([sums(data, BUDGET, [('departement', '23', '', '')])], data, CODEBOOK)\n"
        "print(sorted(m for m in sys.modules if m.startswith('senacs_workbench.disclosure')))\n"
    )
    root = Path(release_audit.__file__).parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_audit_reads_the_rule_set_file_the_engine_uses_by_default() -> None:
    """Independent code, same rules: the audit's default file is the engine's packaged default
    (a new rule-set version must move both, or the audit would check yesterday's thresholds)."""
    from senacs_workbench.disclosure.rules import DEFAULT_RULES, load_rules
    from senacs_workbench.release_audit.rules import RULES_FILE, load_audit_rules

    assert RULES_FILE == DEFAULT_RULES
    engine, audit = load_rules(), load_audit_rules()
    assert (audit.min_contributors, audit.dominance_k, audit.p_percent) == (
        engine.min_contributors, engine.dominance_k, engine.p_percent)
