"""Right of review, objections, and the entry form (driven programmatically)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections import correct_answer, value_history
from senacs_workbench.restricted.coherence.entry import EntryError, enter_answers
from senacs_workbench.restricted.coherence.entry_form import EntryForm
from senacs_workbench.restricted.coherence.resolution import list_findings
from senacs_workbench.restricted.coherence.review import (
    COL_AGREE,
    COL_COMMENT,
    COL_PROPOSED,
    COL_STRUCTURE,
    COL_VARIABLE,
    entered_for_centres,
    import_review_answers,
    write_review_sheets,
)
from senacs_workbench.restricted.coherence.sheets import coherence_dir
from senacs_workbench.restricted.store import RawDataStore

YEAR = 2024


def _sheet_rows(path: Path) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = next(i for i, row in enumerate(grid) if row[0] == COL_STRUCTURE)
    return [dict(zip(grid[top], row, strict=False)) for row in grid[top + 1 :] if row[0]]


def test_review_sheet_lists_exactly_the_values_entered_on_behalf(workspace: Workspace) -> None:
    answers = RawDataStore(workspace).answers(YEAR)
    expected = answers[answers["provenance"].isin(["caf", "federation"])]
    result = write_review_sheets(workspace, YEAR)
    assert result.values == len(expected)
    assert result.centres == expected["structure_id"].nunique()
    folder = coherence_dir(workspace, YEAR) / "relecture"
    assert sorted(p.stem for p in folder.glob("*.xlsx")) == sorted(expected["structure_id"].unique())
    centre = expected["structure_id"].iloc[0]
    rows = _sheet_rows(folder / f"{centre}.xlsx")
    assert sorted(r[COL_VARIABLE] for r in rows) == sorted(expected.loc[expected["structure_id"] == centre, "variable"])
    assert {r["Saisie par"] for r in rows} <= {"Caf", "Fédération"}


def test_entered_answers_appear_on_the_review_sheet_and_objection_becomes_a_finding(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = RawDataStore(workspace).answers(YEAR)
    by_centre = answers.groupby("structure_id")["provenance"].agg(set)
    centre = next(s for s, provenances in by_centre.items() if provenances == {"centre"})
    assert entered_for_centres(workspace, YEAR).query("structure_id == @centre").empty
    with pytest.raises(EntryError, match="hors de l'intervalle"):
        enter_answers(workspace, YEAR, centre, {"salaries": "9999"}, provenance="federation")
    result = enter_answers(
        workspace,
        YEAR,
        centre,
        {"evenements": "42", "ouverture_samedi": "Oui"},
        provenance="federation",
        why="saisie au téléphone avec la directrice",
    )
    assert result.changes == 2
    assert RawDataStore(workspace).versions(YEAR)["kind"].iloc[-1] == "entry"
    versions = len(RawDataStore(workspace).versions(YEAR))
    same = enter_answers(workspace, YEAR, centre, {"evenements": "42"}, provenance="federation")
    assert (same.changes, same.message_fr) == (0, "Aucune réponse modifiée : rien n'a été enregistré.")
    assert len(RawDataStore(workspace).versions(YEAR)) == versions
    entered = entered_for_centres(workspace, YEAR).query("structure_id == @centre")
    assert sorted(entered["variable"]) == ["evenements", "ouverture_samedi"]
    assert set(entered["provenance"]) == {"federation"}
    write_review_sheets(workspace, YEAR, structures=[centre])
    sheet = coherence_dir(workspace, YEAR) / "relecture" / f"{centre}.xlsx"
    book = openpyxl.load_workbook(sheet)
    grid = book.worksheets[0]
    header_row = next(r for r in range(1, 15) if grid.cell(r, 1).value == COL_STRUCTURE)
    header = {grid.cell(header_row, c).value: c for c in range(1, grid.max_column + 1)}
    for row in range(header_row + 1, grid.max_row + 1):
        if grid.cell(row, header[COL_VARIABLE]).value == "evenements":
            grid.cell(row, header[COL_AGREE]).value = "Non"
            grid.cell(row, header[COL_PROPOSED]).value = 24
            grid.cell(row, header[COL_COMMENT]).value = "nous avons organisé 24 événements, pas 42"
        else:
            grid.cell(row, header[COL_AGREE]).value = "Oui"
    filled = tmp_path / "relecture_remplie.xlsx"
    book.save(filled)
    numbers = import_review_answers(workspace, filled)
    assert len(numbers) == 1
    objection = list_findings(workspace, YEAR, rule="objection_centre")
    assert objection["finding_id"].tolist() == numbers and objection["status"].tolist() == [fs.OPEN]
    assert "24 événements" in objection["message"].iloc[0] and "la fédération" in objection["message"].iloc[0]
    # the objection follows the same workflow: corrected with the centre's value
    correct_answer(workspace, YEAR, centre, "evenements", "24", why="objection du centre", finding_id=numbers[0])
    assert list_findings(workspace, YEAR, rule="objection_centre")["status"].tolist() == [fs.CORRECTED]
    history = value_history(workspace, YEAR, centre, "evenements")
    assert history["provenance"].tolist()[-2:] == ["federation", "centre"]


def test_entry_form_stores_answers_with_provenance(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENACS_USER", "corr")  # a CAF correspondent: provenance caf by default
    centre = RawDataStore(workspace).answers(YEAR)["structure_id"].iloc[0]
    form = EntryForm(workspace, YEAR, centre, sections=["emploi", "actions", "fonctionnement"])
    assert form.provenance.value == "caf"
    assert "Nombre de personnes salariées au 31 décembre" in form.help["salaries"].value
    rows = [row for section in form.widget.children[2].children for row in section.children]
    beside = [row for row in rows if form.help["salaries"] in row.children]
    assert len(beside) == 1 and form.fields["salaries"] in beside[0].children[0].children
    before = len(RawDataStore(workspace).versions(YEAR))
    form.fields["salaries"].value = "douze"
    form.save_button.click()
    assert "nombre attendu" in form.errors["salaries"].value
    assert len(RawDataStore(workspace).versions(YEAR)) == before
    form.fields["salaries"].value = "12"
    form.fields["etp"].value = "8,5"
    form.fields["actions_seniors"].value = "non"
    form.fields["participants_seniors"].value = "0"
    form.fields["outils_communication"].value = ("site_web", "affichage")
    form.save_button.click()
    assert "saisie(s) par la Caf" in form.status.value, form.status.value
    store = RawDataStore(workspace)
    assert store.versions(YEAR)["kind"].iloc[-1] == "entry"
    answers = store.answers(YEAR).query("structure_id == @centre").set_index("variable")
    assert answers.at["salaries", "value_num"] == 12 and answers.at["etp", "value_num"] == 8.5
    assert answers.at["outils_communication", "value"] == "affichage|site_web"
    for variable in ("salaries", "etp", "outils_communication"):
        assert answers.at[variable, "provenance"] == "caf" and answers.at[variable, "entered_by"] == "corr"
    entered = entered_for_centres(workspace, YEAR).query("structure_id == @centre")
    assert {"salaries", "etp", "outils_communication"} <= set(entered["variable"])
