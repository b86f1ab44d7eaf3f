"""The engine's per-cell suppression reasons stay restricted: owner-only file, only hidden cells."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd

from senacs_workbench.restricted.publication.bundle_writer import write_suppression_reasons


def test_reasons_are_owner_only_and_keep_only_hidden_cells(tmp_path: Path) -> None:
    cells = pd.DataFrame({
        "variable": ["budget_total"] * 3, "statistic": ["sum"] * 3, "answer": [None] * 3,
        "level": ["departement"] * 3, "territory": ["24", "33", "47"], "breakdown": [""] * 3,
        "category": [""] * 3, "status": ["V", "B", "D"],
    })
    previous = os.umask(0o022)  # a permissive umask must not make the reasons readable by others
    try:
        path = write_suppression_reasons(tmp_path / "restricted", 2025, "h" * 64, cells)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pd.read_parquet(path)[["territory", "status"]].values.tolist() == [["33", "B"], ["47", "D"]]
