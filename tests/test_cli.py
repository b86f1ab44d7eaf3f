"""The ``senacs`` command as users run it (subprocesses, real workspace, real store)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def senacs(*args: str, user: str = "prep", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SENACS_USER": user, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "senacs_workbench.apps.cli", *args],
        capture_output=True, text=True, env=full_env, timeout=600,
    )


@pytest.fixture(scope="module")
def demo_workspace(demo_cli_run: tuple[Path, subprocess.CompletedProcess[str]]
                   ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``senacs demo --years 2024-2025 --scale 0.02`` (session fixture of conftest.py, shared with the re-audit)."""
    return demo_cli_run


def test_demo_runs_the_whole_cycle_and_ends_in_french(demo_workspace: tuple[Path, subprocess.CompletedProcess[str]]
                                                      ) -> None:
    path, result = demo_workspace
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Campagne 2025 : structures et taux de réponse par région" in out
    assert "Nouvelle-Aquitaine" in out and "France" in out
    assert "Contrôle de cohérence de la campagne 2025" in out and "constat(s)" in out
    assert "audit réussi" in out and "est publié" in out
    assert "Démonstration terminée" in out and "Où regarder" in out
    # the union of the nation's, the région's and the département's releases is audited on
    # every question they release, not only the linked ones
    audited = re.search(r"Audit indépendant de l'union des publications 2025 \(.*\) : réussi, "
                        r"aucune case sensible retrouvée \((\d+) questions", out)
    assert audited is not None, out[-3000:]
    national = pd.read_parquet(path / "published" / "released" / "2025" / "v1" / "senacs_2025.parquet")
    assert int(audited.group(1)) == national["variable"].nunique()
    assert (path / "published" / "released" / "2024" / "v1" / "manifest.json").exists()
    assert (path / "published" / "released" / "2025" / "v1" / "senacs_2025.parquet").exists()
    assert (path / "reports" / "committee" / "tableaux" / "2025" / "tableaux_2025.xlsx").exists()
    assert (path / "reports" / "committee" / "demo" / "index.html").exists()
    # each plaquette is published in its own committee's workspace
    for root, territory in ((path, "FR"), (path / "territoires" / "region-75", "R75"),
                            (path / "territoires" / "departement-24", "24")):
        assert (root / "published" / "plaquettes" / "2025" / territory / "plaquette.pdf").exists(), territory


DemoRun = tuple[Path, subprocess.CompletedProcess[str]]


def test_status_json_lists_versions_and_imported_files(demo_workspace: DemoRun) -> None:
    path, _ = demo_workspace
    result = senacs("status", "--json", "--workspace", str(path))
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["years"] == [2024, 2025]
    assert {v["year"] for v in state["data_versions"]} == {2024, 2025}
    assert [(r["year"], r["state"]) for r in state["releases"]] == [(2024, "released"), (2025, "released")]
    assert all({a["institution"] for a in r["approvals"]} == {"caf", "federation"} for r in state["releases"])
    assert state["findings"]["years"][0]["year"] == 2025
    assert {p["territory"] for p in state["plaquettes"] if p.get("state") == "published"} == {"FR"}
    departement = json.loads(senacs("status", "--json", "--workspace",
                                    str(path / "territoires" / "departement-24")).stdout)
    assert {p["territory"] for p in departement["plaquettes"] if p.get("state") == "published"} == {"24"}
    assert all(v["structures"] > 50 and v["answers"] > v["structures"] for v in state["data_versions"])
    assert all(len(i["sha256"]) == 64 for i in state["imports"])
    assert state["audit_log"]["ok"] is True
    readable = senacs("status", "--workspace", str(path))
    assert "Campagnes importées : 2024, 2025" in readable.stdout
    assert "Jeux de tableaux :" in readable.stdout and "publié" in readable.stdout


def test_demo_again_changes_nothing(demo_workspace: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    path, _ = demo_workspace
    before = json.loads(senacs("status", "--json", "--workspace", str(path)).stdout)
    again = senacs("demo", "--workspace", str(path), "--years", "2024-2025", "--scale", "0.02")
    assert again.returncode == 0, again.stderr
    after = json.loads(senacs("status", "--json", "--workspace", str(path)).stdout)
    assert after["data_versions"] == before["data_versions"]
    assert after["imports"] == before["imports"]
    assert [r["bundle_hash"] for r in after["releases"]] == [r["bundle_hash"] for r in before["releases"]]


def test_unauthorised_user_is_refused_and_logged(demo_workspace: tuple[Path, subprocess.CompletedProcess[str]],
                                                 tmp_path: Path) -> None:
    path, _ = demo_workspace
    export = path / "restricted" / "incoming" / "senacs_2025.csv"
    result = senacs("import", str(export), "--year", "2025", "--workspace", str(path), user="intrus")
    assert result.returncode == 2
    assert "Accès refusé : intrus" in result.stderr
    assert "Traceback" not in result.stderr
    shown = senacs("audit", "show", "--last", "1", "--workspace", str(path))
    assert "intrus" in shown.stdout and "refused:import" in shown.stdout
    verified = senacs("audit", "verify", "--workspace", str(path))
    assert verified.returncode == 0 and "intact" in verified.stdout


def test_tampered_audit_log_is_reported(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert senacs("init", str(workspace)).returncode == 0
    log = workspace / "restricted" / "audit-log.jsonl"
    from senacs_workbench.trust import audit_log

    for _ in range(3):
        audit_log.append(log, user="prep", action="read_answers", territory="FR")
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], lines[2]]) + "\n")
    result = senacs("audit", "verify", "--workspace", str(workspace))
    assert result.returncode == 2
    assert "ligne 2" in result.stderr and "chaînage est rompu" in result.stderr


def test_missing_workspace_gives_french_hint(tmp_path: Path) -> None:
    result = senacs("status", "--workspace", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert "senacs init" in result.stderr


def test_synth_cli_writes_csv_and_xlsx(tmp_path: Path) -> None:
    result = senacs("synth", "--years", "2024", "--out", str(tmp_path / "out"), "--scale", "0.02")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert {"senacs_2024.csv", "senacs_2024.xlsx", "ground_truth_2024.csv"} <= set(names)
