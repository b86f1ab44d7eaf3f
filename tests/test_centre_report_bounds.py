"""Issue 21: a centre's own report shows an out-of-bounds answer as entered, marked.

The import keeps a value outside the codebook's bounds as entered and excludes it from every
aggregate; the centre's report is where the centre sees it, so it must show it as entered, say
in French that it is outside the bounds and excluded, and leave the centre's bar blank in the
chart. Before this change the report showed the 411 % share like any other answer (the test
fails there).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.analysis import centre_report

YEAR = 2025
TARGET = "S000002"


def test_the_centre_sees_its_out_of_bounds_answer_marked(
    demo_cli_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path, monkeypatch
) -> None:
    path, result = demo_cli_run
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.copytree(path, tmp_path / "ws", symlinks=True)
    workspace = Workspace(tmp_path / "ws")
    monkeypatch.setenv("SENACS_USER", "prep")
    # what an import stores for a share typed 411 (as entered; restricted/store/bounds.py)
    con = duckdb.connect(str(workspace.store_path))
    try:
        con.execute("UPDATE answers SET value = '411', value_num = 411 WHERE year = ? AND structure_id = ? "
                    "AND variable IN ('part_cdi', 'salaries')", [YEAR, TARGET])
        con.execute("UPDATE answers SET value = '12.5', value_num = 12.5 WHERE year = ? AND structure_id = ? "
                    "AND variable = 'salaries'", [YEAR, TARGET])
    finally:
        con.close()

    report = centre_report.build(workspace.root, TARGET, YEAR)
    tables = pd.concat([f.table for s in report.sections for f in s.figures if f.table is not None])
    shown = dict(zip(tables["Question"], tables["Votre réponse"], strict=True))
    share = shown["Part des salariés en CDI"].replace("\u00a0", " ")
    assert share.startswith("411 %") and "hors des limites du questionnaire (de 0,0 % à 100,0 %)" in share
    assert "valeur exclue de tous les agrégats, à corriger" in share
    staff = shown["Nombre de salariés"].replace("\u00a0", " ")
    assert staff.startswith("12,5 salariés") and "nombre entier" in staff
    assert "2 de vos réponses sont hors des limites du questionnaire" in report.intro
    assert sorted(report.extra["out_of_bounds"]) == ["part_cdi", "salaries"]
    # the other answers are shown as usual, without the mark
    assert sum("hors des limites" in str(v) for v in shown.values()) == 2
    chart = next(f.data for s in report.sections for f in s.figures if f.id == "comparaison")
    own = chart[chart["territory"] == f"structure:{TARGET}"]
    values = dict(zip(own["indicator"].str.split(":").str[0], own["value"], strict=True))
    assert pd.isna(values["salaries"]) and values["etp"] > 0  # its bar blank, the others drawn
