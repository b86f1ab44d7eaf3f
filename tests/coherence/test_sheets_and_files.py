"""Question sheets, the filled sheet imported back, and bad corrections files (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections_file import CorrectionsFileError, import_corrections
from senacs_workbench.restricted.coherence.resolution import list_findings, resolve_finding
from senacs_workbench.restricted.coherence.sheets import (
    COL_FINDING,
    COL_NEW,
    COL_RIGHT,
    COL_VARIABLE,
    COL_WHY,
    coherence_dir,
)
from senacs_workbench.restricted.store import RawDataStore, connect

YEAR = 2024


def _fill(path: Path, answers: dict[tuple[int, str], dict[str, Any]], target: Path) -> Path:
    """Fill a question sheet as a centre would: answers[(finding, variable)] = {column: value}."""
    book = openpyxl.load_workbook(path)
    sheet = book["Questions"]
    header_row = next(r for r in range(1, 20) if sheet.cell(r, 1).value == COL_FINDING)
    header = {sheet.cell(header_row, c).value: c for c in range(1, sheet.max_column + 1)}
    for row in range(header_row + 1, sheet.max_row + 1):
        key = (sheet.cell(row, header[COL_FINDING]).value, sheet.cell(row, header[COL_VARIABLE]).value)
        for column, value in answers.get(key, {}).items():
            sheet.cell(row, header[column]).value = value
    book.save(target)
    return target


def _snapshot(workspace: Workspace) -> tuple[Any, ...]:
    with connect(workspace, read_only=True) as con:
        versions = con.execute("SELECT count(*) FROM data_versions").fetchall()[0][0]
        answers = con.execute("SELECT count(*) FROM answers").fetchall()[0][0]
        statuses = con.execute("SELECT finding_id, status FROM coherence_findings ORDER BY 1").fetchall()
        corrections = con.execute("SELECT count(*) FROM corrections").fetchall()[0][0]
        events = con.execute("SELECT count(*) FROM coherence_events").fetchall()[0][0]
    return versions, answers, statuses, corrections, events


def test_question_sheets_per_centre_territory_and_correspondent(asked: Workspace) -> None:
    folder = coherence_dir(asked, YEAR)
    frame = list_findings(asked, YEAR)
    centres = sorted(frame["structure_id"].unique())
    assert sorted(p.stem for p in (folder / "centres").glob("*.xlsx")) == centres
    assert sorted(p.stem for p in (folder / "centres").glob("*.html")) == centres
    assert (folder / "synthese_FR.xlsx").exists() and (folder / "synthese_FR.html").exists()
    assert sorted(p.name for p in (folder / "correspondants").iterdir()) == [
        "corr.html",
        "corr.xlsx",
        "fedcorr.html",
        "fedcorr.xlsx",
    ]
    assert set(frame["status"]) == {fs.ASKED}
    html = (folder / "centres" / f"{centres[0]}.html").read_text(encoding="utf-8")
    assert "Contrôle de cohérence SENACS — campagne 2024" in html and "Notre question" in html
    assert "réservé au préparateur" in (folder / "synthese_FR.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(folder / "centres" / f"{centres[0]}.xlsx")["Questions"]
    texts = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert COL_RIGHT in texts and COL_NEW in texts


def test_filled_sheet_corrects_and_confirms(asked: Workspace, tmp_path: Path) -> None:
    frame = list_findings(asked, YEAR)
    etp = frame[frame["rule_id"] == "etp_superieur_salaries"].iloc[0]
    centre = etp["structure_id"]
    others = frame[frame["structure_id"] == centre]
    answers: dict[tuple[int, str], dict[str, Any]] = {
        (int(etp["finding_id"]), "salaries"): {COL_RIGHT: "Non", COL_NEW: "40", COL_WHY: "oubli des CDD"},
        (int(etp["finding_id"]), "etp"): {COL_RIGHT: "Oui"},
    }
    for other in others[others["finding_id"] != etp["finding_id"]].to_dict("records"):
        for variable in other["variables"].split("|"):
            answers[(int(other["finding_id"]), variable)] = {COL_RIGHT: "Oui"}
    filled = _fill(coherence_dir(asked, YEAR) / "centres" / f"{centre}.xlsx", answers, tmp_path / "rempli.xlsx")
    report = import_corrections(asked, filled)
    assert report.corrected_values == 1 and report.corrected_findings == (int(etp["finding_id"]),)
    assert len(report.confirmed_findings) == len(others) - 1
    store = RawDataStore(asked)
    assert store.versions(YEAR)["kind"].iloc[-1] == "correction"
    wide = store.wide(YEAR, variables=["salaries"]).set_index("structure_id")
    assert wide.at[centre, "salaries"] == 40
    # importing the same sheet again: the findings are closed now
    with pytest.raises(CorrectionsFileError, match="déjà clos"):
        import_corrections(asked, filled)


BAD_CASES = {
    "unknown_structure": "structure inconnue",
    "out_of_range": "hors de l'intervalle",
    "closed_finding": "déjà clos",
    "unknown_finding": "n'existe pas",
    "no_value": "indiquez la valeur corrigée",
}


def test_bad_corrections_files_change_nothing(asked: Workspace, tmp_path: Path) -> None:
    frame = list_findings(asked, YEAR)
    etp = frame[frame["rule_id"] == "etp_superieur_salaries"].iloc[0]
    fid = int(etp["finding_id"])
    other = frame[frame["finding_id"] != fid].iloc[0]
    resolve_finding(asked, int(other["finding_id"]), "withdraw", note="faux signal")
    good = f"{YEAR};{fid};{etp['structure_id']};salaries;Non;40;oubli"
    bad = {
        "unknown_structure": f"{YEAR};;S999999;salaries;Non;12;inconnue",
        "out_of_range": f"{YEAR};{fid};{etp['structure_id']};etp;Non;9999;trop",
        "closed_finding": f"{YEAR};{int(other['finding_id'])};{other['structure_id']};"
        f"{other['variables'].split('|')[0]};Oui;;",
        "unknown_finding": f"{YEAR};99999;{etp['structure_id']};etp;Non;3;x",
        "no_value": f"{YEAR};{fid};{etp['structure_id']};etp;Non;;x",
    }
    before = _snapshot(asked)
    for case, expected in BAD_CASES.items():
        path = tmp_path / f"{case}.csv"
        path.write_text(
            "Campagne;N° constat;Identifiant structure;Question (code);Valeur juste;Valeur corrigée;Explication\n"
            f"{good}\n{bad[case]}\n",
            encoding="utf-8",
        )
        with pytest.raises(CorrectionsFileError) as error:
            import_corrections(asked, path)
        message = str(error.value)
        assert expected in message, case
        assert f"{case}.csv, ligne 3, colonne « " in message, message
        assert "aucune correction n'a été appliquée" in message
        assert _snapshot(asked) == before, case
