"""The deferred ``rfc3987_syntax`` import: processes that import nbformat or Voilà skip the Lark grammar
build, and jsonschema still checks IRIs exactly as without the package (run in fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("rfc3987_syntax")

SAMPLES = ["http://exemple.fr/centre-social/é", "not an iri", "a b", "urn:isbn:0451450523", "//exemple.fr/x?y#z"]

CHECK = """
import json, sys
{prelude}
import nbformat, voila.app, jsonschema
deferred_before = "lark" not in sys.modules
checker = jsonschema.FormatChecker()
verdicts = [[checker.conforms(s, "iri"), checker.conforms(s, "iri-reference")] for s in {samples!r}]
print(json.dumps({{"deferred_before_use": deferred_before, "verdicts": verdicts}}))
"""


def _run(prelude: str) -> dict[str, object]:
    code = CHECK.format(prelude=prelude, samples=SAMPLES)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_the_package_defers_the_grammar_and_iri_checks_are_unchanged() -> None:
    plain = _run("")
    deferred = _run("import senacs_workbench")
    assert plain["deferred_before_use"] is False  # without the package, importing nbformat builds the grammar
    assert deferred["deferred_before_use"] is True
    assert deferred["verdicts"] == plain["verdicts"]
    assert [True, True] in plain["verdicts"] and [False, False] in plain["verdicts"]


def test_the_voila_entry_point_installs_it_before_voila_starts() -> None:
    code = ("import runpy, sys; sys.argv = ['voila', '--help']\n"
            "try:\n    runpy.run_module('senacs_workbench.apps.voila_process', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('lark' in sys.modules, 'voila.app' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "False True"
