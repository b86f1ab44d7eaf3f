"""The synthetic generator's exports (CSV and XLSX) import cleanly and identically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore

synth = pytest.importorskip("senacs_workbench.demo.synthetic")


def test_synthetic_csv_and_xlsx_give_the_same_answers(national_workspace: Workspace, tmp_path: Path) -> None:
    year = 2024
    synth.generate([year], tmp_path / "exports", seed=7, scale=0.05)
    csv_outcome = import_file(national_workspace, tmp_path / "exports" / f"senacs_{year}.csv", year)
    xlsx_outcome = import_file(national_workspace, tmp_path / "exports" / f"senacs_{year}.xlsx", year)
    assert (csv_outcome.version, xlsx_outcome.version) == (1, 2)
    assert csv_outcome.structures == xlsx_outcome.structures > 50
    assert csv_outcome.answers == xlsx_outcome.answers
    store = RawDataStore(national_workspace)
    columns = ["structure_id", "variable", "value", "value_num", "provenance"]
    from_csv = store.answers(year, version=1)[columns].reset_index(drop=True)
    from_xlsx = store.answers(year, version=2)[columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
    assert set(from_csv.provenance) == {"centre", "caf", "federation"}
    wide = store.wide(year)
    assert wide["budget_total"].notna().sum() > 0 and wide["type_structure"].notna().all()
