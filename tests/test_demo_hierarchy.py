"""The demo's région and département workspaces, fed by the national release (issue 16, A18).

The nation, its demo région and its demo département publish from the same answers. Read
together (a committee member of the département holds all three), every cell that two of
them release must be released identically: a cell hidden by one and published by another
gives the hidden value away, and breaks the protection of both.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from senacs_workbench.released.bundle_contract import RELEASED, released_versions, table_name

pytestmark = pytest.mark.slow

KEY = ["variable", "statistic", "answer", "level", "territory", "breakdown", "category"]
TERRITORY_WORKSPACES = ("region-75", "departement-24")


def _released(root: Path, year: int) -> pd.DataFrame:
    versions = released_versions(root / "published" / RELEASED, year)
    assert versions, f"rien de publié pour {year} dans {root}"
    return pd.read_parquet(versions[-1] / table_name(year))


def test_territory_workspaces_publish_after_the_nation(demo_cli_run: tuple[Path, subprocess.CompletedProcess[str]]
                                                       ) -> None:
    path, result = demo_cli_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Espaces régional et départemental" in result.stdout
    for folder in TERRITORY_WORKSPACES:
        root = path / "territoires" / folder
        assert (root / "published" / "comparisons" / "FR" / "2025").is_dir(), folder
        assert len(_released(root, 2025)) > 0


def test_every_cell_two_workspaces_release_is_released_identically(
        demo_cli_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    path, _ = demo_cli_run
    releases = {"FR": _released(path, 2025)}
    releases.update({folder: _released(path / "territoires" / folder, 2025) for folder in TERRITORY_WORKSPACES})
    names = list(releases)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            both = releases[first].merge(releases[second], on=KEY, suffixes=("_a", "_b"))
            assert len(both) > 0, (first, second)
            status = both[both["status_a"] != both["status_b"]]
            assert status.empty, (f"{first} / {second} : {len(status)} cases publiées dans l'un et masquées dans "
                                  f"l'autre", status[[*KEY, "status_a", "status_b"]].head(10))
            published = both[both["status_a"] == "V"]
            gap = (published["value_a"] - published["value_b"]).abs()
            same = (gap <= 1e-9 * published["value_a"].abs().clip(lower=1.0)) | (
                published["value_a"].isna() & published["value_b"].isna())  # a mean of no respondent
            assert same.all(), (first, second, published.loc[~same, [*KEY, "value_a", "value_b"]].head(10))
