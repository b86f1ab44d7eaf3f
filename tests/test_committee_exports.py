"""Committee exports: one table per question, XLSX and CSV, ``s`` for suppressed cells, footnote."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.demo.governance import demo_governance
from senacs_workbench.released.committee_exports import write_committee_exports
from senacs_workbench.released.published import CONFIDENTIALITY_FOOTNOTE
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, write_draft
from senacs_workbench.trust.demo_keys import adopt_demo_governance

YEAR = 2024
SECRET = 777777.0
COLS = ["year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category", "value", "n",
        "status"]


def _cells() -> pd.DataFrame:
    rows = []
    for territory, level, budget, status in (("FR", "national", 1_234_567.0, "V"), ("75", "region", 500_000.0, "V"),
                                             ("24", "departement", SECRET, "B"), ("33", "departement", 400_000.0, "D")):
        rows += [
            (YEAR, "budget_total", "respondents", "", level, territory, "", "", 10.0, 10, "V"),
            (YEAR, "budget_total", "sum", "", level, territory, "", "", budget, 10, status),
            (YEAR, "budget_total", "mean", "", level, territory, "", "", budget / 10, 10, status),
            (YEAR, "actions_jeunesse", "share", "oui", level, territory, "", "", 0.125, 8, "V"),
            (YEAR, "actions_jeunesse", "count", "oui", level, territory, "", "", 1.0, 1, "V"),
        ]
    rows.append((YEAR, "budget_total", "sum", "", "national", "FR", "mode_gestion", "caf", 55_555.0, 1, "A"))
    return pd.DataFrame(rows, columns=COLS)


@pytest.fixture
def released(tmp_path: Path) -> Workspace:
    workspace = init_workspace(tmp_path / "ws")
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    write_draft(workspace.published, _cells(), BundleDescription(YEAR, "FR", 1, "h" * 64, {}, True, "prep"))
    approve(workspace, YEAR, user="caf.demo")
    approve(workspace, YEAR, user="federation.demo")
    return workspace


def test_xlsx_has_a_sheet_per_question_with_s_and_footnote(released: Workspace, tmp_path: Path) -> None:
    xlsx, _ = write_committee_exports(released.published, YEAR, tmp_path / "out")
    book = openpyxl.load_workbook(xlsx)
    assert [name.split("_", 1)[1] for name in book.sheetnames] == ["actions_jeunesse", "budget_total"]
    sheet = book[book.sheetnames[1]]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[2]
    total = header.index("Total")
    rows = {row[1]: row for row in values[3:] if row[1] and row[3] == "Ensemble"}
    assert rows["FR"][total] == 1_234_567.0
    assert rows["24"][total] == "s" and rows["33"][total] == "s"
    assert any(row[0] == CONFIDENTIALITY_FOOTNOTE for row in values)
    flat = [v for row in values for v in row]
    assert SECRET not in flat and SECRET / 10 not in flat and 55_555.0 not in flat


def test_csv_uses_french_formats(released: Workspace, tmp_path: Path) -> None:
    _, archive = write_committee_exports(released.published, YEAR, tmp_path / "out")
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        text = zipped.read(next(n for n in names if "budget_total" in n)).decode("utf-8")
        shares = zipped.read(next(n for n in names if "actions_jeunesse" in n)).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    france = next(r for r in rows if len(r) > 1 and r[1] == "FR" and r[3] == "Ensemble")
    assert "1 234 567" in france and "123 456,7" in france
    dordogne = next(r for r in rows if len(r) > 1 and r[1] == "24")
    assert dordogne.count("s") == 2
    assert rows[-1] == [CONFIDENTIALITY_FOOTNOTE]
    assert "12,5" in shares and "777" not in text


def test_exports_of_an_unchanged_bundle_are_kept_and_a_new_release_rewrites_them(released: Workspace,
                                                                                 tmp_path: Path) -> None:
    xlsx, csv_zip = write_committee_exports(released.published, YEAR, tmp_path / "out")
    xlsx.write_bytes(b"left alone")  # a rerun from the same bundle must not touch the files
    write_committee_exports(released.published, YEAR, tmp_path / "out")
    assert xlsx.read_bytes() == b"left alone"

    cells = _cells()
    cells.loc[cells.territory == "75", "value"] = 600_000.0  # a revision: version 2 of the year
    write_draft(released.published, cells, BundleDescription(YEAR, "FR", 2, "i" * 64, {}, True, "prep"))
    approve(released, YEAR, user="caf.demo")
    approve(released, YEAR, user="federation.demo")
    write_committee_exports(released.published, YEAR, tmp_path / "out")
    book = openpyxl.load_workbook(xlsx)
    assert any(600_000.0 in [c.value for c in row] for row in book[book.sheetnames[1]].iter_rows())
    assert zipfile.ZipFile(csv_zip).namelist()
