"""Issue 21: a value that is read but breaks the codebook's bounds is a finding, not a lost centre.

It is stored as entered, blank in every read that feeds an aggregate (``RawDataStore.wide``,
the publication's session), raised at once as an open error finding that questions the
centre, and the rest of the centre's answers count; ``--partial`` drops only the rows that
cannot be read. Before this change the same files were refused whole (or, with ``--partial``,
lost the centre's whole row): the first two tests fail on that code.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence.resolution import list_findings
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore

PACKAGE = Path(__file__).resolve().parents[1] / "senacs_workbench"


def _bad_values(tmp_path: Path, name: str = "bornes.csv") -> Path:
    frame = export_frame(n=6)
    frame.loc[1, "part_cdi"] = "411"  # a share of 411 %
    frame.loc[2, "part_0_10"] = "120"  # an age band typed as a count of people
    frame.loc[3, "salaries"] = "12,5"  # a count that is not a whole number
    frame.loc[5, "date_premier_agrement"] = "01/01/1950"  # before the codebook's first date
    return write_csv(frame, tmp_path / name)


def test_out_of_bounds_values_are_stored_excluded_and_questioned(national_workspace: Workspace,
                                                                 tmp_path: Path) -> None:
    outcome = import_file(national_workspace, _bad_values(tmp_path), YEAR)
    assert (outcome.structures, outcome.rejected_rows, outcome.out_of_bounds) == (6, 0, 4)
    assert "4 valeur(s) hors des limites du questionnaire enregistrée(s) telles que saisies" in outcome.message_fr
    assert "ligne 3, colonne « part_cdi » : valeur « 411 » — valeur hors de l'intervalle autorisé" \
        in outcome.message_fr

    store = RawDataStore(national_workspace)
    answers = store.answers(YEAR).set_index(["structure_id", "variable"])
    assert answers.loc[("S1001", "part_cdi"), "value"] == "411"  # stored as entered
    assert answers.loc[("S1002", "part_0_10"), "value_num"] == 120
    assert answers.loc[("S1003", "salaries"), "value"] == "12.5"

    wide = store.wide(YEAR).set_index("structure_id")  # the read that feeds every aggregate
    assert np.isnan(wide.loc["S1001", "part_cdi"]) and np.isnan(wide.loc["S1002", "part_0_10"])
    assert np.isnan(wide.loc["S1003", "salaries"]) and pd.isna(wide.loc["S1005", "date_premier_agrement"])
    # the rest of each centre's answers count
    assert wide.loc["S1001", "budget_total"] > 0 and wide.loc["S1002", "part_11_25"] >= 0
    assert wide.loc["S1003", "etp"] > 0
    with store.session("publish", "FR") as raw:  # the publication's one session
        published = raw.wide(YEAR, variables=["part_cdi", "salaries"]).set_index("structure_id")
    assert np.isnan(published.loc["S1001", "part_cdi"]) and np.isnan(published.loc["S1003", "salaries"])
    entered = store.wide(YEAR, as_entered=True).set_index("structure_id")
    assert entered.loc["S1001", "part_cdi"] == 411

    found = list_findings(national_workspace, YEAR)
    errors = found[(found["severity"] == "error") & (found["status"] == "open")]
    pairs = set(zip(errors["structure_id"], errors["variables"], strict=True))
    assert {("S1002", "part_0_10"), ("S1003", "salaries"), ("S1005", "date_premier_agrement")} <= pairs
    assert any(s == "S1001" and v.startswith("part_cdi") for s, v in pairs)
    assert set(errors["structure_id"]) <= {"S1001", "S1002", "S1003", "S1005"}


def test_partial_drops_only_unreadable_rows(national_workspace: Workspace, tmp_path: Path) -> None:
    frame = export_frame(n=6)
    frame.loc[1, "part_cdi"] = "411"
    frame.loc[2, "budget_total"] = "douze"  # text in a number: cannot be read
    path = write_csv(frame, tmp_path / "partiel.csv")
    outcome = import_file(national_workspace, path, YEAR, partial=True)
    assert (outcome.structures, outcome.rejected_rows, outcome.out_of_bounds) == (5, 1, 1)
    ids = set(RawDataStore(national_workspace).wide(YEAR)["structure_id"])
    assert "S1001" in ids and "S1002" not in ids


def test_cli_import_keeps_the_centre_and_says_so(national_workspace: Workspace, tmp_path: Path) -> None:
    path = _bad_values(tmp_path, "senacs_2024.csv")
    result = CliRunner().invoke(
        main, ["import", str(path), "--year", str(YEAR), "--workspace", str(national_workspace.root)],
        env={"SENACS_USER": "prep"},
    )
    assert result.exit_code == 0, result.output
    assert "version 1 des données, 6 structure(s)" in result.output
    assert "exclue(s) de tous les agrégats et signalée(s) comme constat(s) de gravité erreur" in result.output
    listed = CliRunner().invoke(
        main, ["findings", "list", "--year", str(YEAR), "--workspace", str(national_workspace.root)],
        env={"SENACS_USER": "prep"},
    )
    assert listed.exit_code == 0 and "S1002" in listed.output, listed.output


def test_cli_import_still_refuses_text_in_a_number(national_workspace: Workspace, tmp_path: Path) -> None:
    frame = export_frame(n=6)
    frame.loc[1, "part_cdi"] = "411"
    frame.loc[3, "budget_total"] = "douze"
    path = write_csv(frame, tmp_path / "senacs_2024.csv")
    result = CliRunner().invoke(
        main, ["import", str(path), "--year", str(YEAR), "--workspace", str(national_workspace.root)],
        env={"SENACS_USER": "prep"},
    )
    assert result.exit_code != 0
    assert "senacs_2024.csv, ligne 5, colonne « budget_total » : valeur « douze » — nombre attendu" in result.output
    assert "1 problème" in result.output and "411" not in result.output
    assert not national_workspace.store_path.exists() or RawDataStore(national_workspace).versions(YEAR).empty


def test_only_the_coherence_check_reads_values_as_entered() -> None:
    """The out-of-bounds answers are blanked in one place (``store.reading._wide``); reading them
    as entered is for the check that questions the centre, never for a tabulation."""
    users = sorted(
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
        if re.search(r"as_entered\s*=\s*True", p.read_text(encoding="utf-8"))
        and "restricted/store" not in p.as_posix()  # where it is defined
    )
    assert users == ["restricted/coherence/engine.py"]


def test_publication_reads_the_out_of_bounds_values_blank(national_workspace: Workspace, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``senacs publish`` hands to the disclosure engine (its one read of the raw data)
    has the out-of-bounds answers blank, the centre's other answers present."""
    from senacs_workbench.restricted.publication import publish

    import_file(national_workspace, _bad_values(tmp_path), YEAR)
    seen: dict[str, pd.DataFrame] = {}

    def spy(workspace: Workspace, territory: object, year: int, user: str, workers: object, read: object,
            *rest: object) -> None:
        seen["wide"] = read.wide  # type: ignore[attr-defined]

    monkeypatch.setattr(publish, "_publish", spy)
    publish.publish_year(national_workspace, YEAR, only=["part_cdi", "salaries", "budget_total"])
    wide = seen["wide"].set_index("structure_id")
    assert np.isnan(wide.loc["S1001", "part_cdi"]) and np.isnan(wide.loc["S1003", "salaries"])
    assert wide.loc["S1001", "budget_total"] > 0 and wide["part_cdi"].notna().sum() >= 3
