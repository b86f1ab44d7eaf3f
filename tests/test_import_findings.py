"""Issue 21: what a centre got wrong is questioned, not a reason to lose the file or the centre.

A respondent that left a required answer blank is imported (the answer stored as missing, its
other answers counting) and questioned by an error finding; a negative share (any value
outside the codebook's bounds) is excluded *and* raised. Before this change the first file was
refused whole and the negative ``part_cdi`` was excluded silently: both tests fail there.
"""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence.resolution import list_findings
from senacs_workbench.restricted.coherence.rules import load_catalogue
from senacs_workbench.restricted.store import RawDataStore
from senacs_workbench.restricted.store.bounds import has_bounds


def _import(workspace: Workspace, path: object) -> str:
    result = CliRunner().invoke(
        main, ["import", str(path), "--year", str(YEAR), "--workspace", str(workspace.root)],
        env={"SENACS_USER": "prep"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def _open_errors(workspace: Workspace) -> set[tuple[str, str, str]]:
    found = list_findings(workspace, YEAR)
    errors = found[(found["severity"] == "error") & (found["status"] == "open")]
    return set(zip(errors["structure_id"], errors["rule_id"], errors["variables"], strict=True))


def test_a_missing_required_answer_is_questioned_not_refused(national_workspace: Workspace, tmp_path) -> None:
    frame = export_frame(n=6)
    frame.loc[0, "budget_total"] = ""  # a respondent without its required budget
    frame.loc[1, "type_structure"] = ""  # a required identity answer
    output = _import(national_workspace, write_csv(frame, tmp_path / "senacs_2024.csv"))
    assert "version 1 des données, 6 structure(s)" in output
    assert "2 réponse(s) obligatoire(s) manquante(s), enregistrée(s) sans réponse" in output
    assert "ligne 2, colonne « budget_total » : valeur vide — réponse obligatoire manquante" in output

    wide = RawDataStore(national_workspace).wide(YEAR).set_index("structure_id")
    assert np.isnan(wide.loc["S1000", "budget_total"])  # stored as missing
    assert wide.loc["S1000", "salaries"] >= 0 and wide.loc["S1001", "budget_total"] > 0  # the rest counts
    errors = _open_errors(national_workspace)
    assert ("S1000", "reponse_obligatoire", "budget_total") in errors
    assert ("S1001", "reponse_obligatoire", "type_structure") in errors

    listed = CliRunner().invoke(
        main, ["findings", "list", "--year", str(YEAR), "--workspace", str(national_workspace.root)],
        env={"SENACS_USER": "prep"},
    )
    assert listed.exit_code == 0 and "S1000" in listed.output, listed.output


def test_a_negative_share_is_excluded_and_raised(national_workspace: Workspace, tmp_path) -> None:
    frame = export_frame(n=6)
    frame.loc[2, "part_cdi"] = "-5"
    output = _import(national_workspace, write_csv(frame, tmp_path / "senacs_2024.csv"))
    assert "1 valeur(s) hors des limites du questionnaire" in output
    wide = RawDataStore(national_workspace).wide(YEAR).set_index("structure_id")
    assert np.isnan(wide.loc["S1002", "part_cdi"])  # excluded from every aggregate
    raised = {(s, r) for s, r, v in _open_errors(national_workspace) if v.startswith("part_cdi")}
    assert raised == {("S1002", "part_cdi_coherente")}
    message = list_findings(national_workspace, YEAR).query("structure_id == 'S1002'").iloc[0]["message"]
    assert "entre 0 et 100" in message


def test_every_excluded_question_has_a_rule_that_raises_it() -> None:
    """Every question whose values can be excluded (it has bounds) is raised by ``range`` or, for
    the questions that ``range`` leaves out, by a ``share_bounds`` rule on that share."""
    catalogue = load_catalogue()
    ranges = [r for r in catalogue.check_rules if r.kind == "range"]
    shares = {str(r.params["share"]) for r in catalogue.check_rules if r.kind == "share_bounds"}
    assert ranges
    for question in load_codebook(YEAR).questions:
        if not has_bounds(question):
            continue
        left_out = all(question.id in set(r.params.get("except") or ()) for r in ranges)
        assert not left_out or question.id in shares, question.id
