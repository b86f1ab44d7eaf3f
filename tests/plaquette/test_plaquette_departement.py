"""The plaquette of a département, built in the département's own workspace (the demo's Dordogne):
its comparison page is filled with the région's and the nation's released figures, taken from the
bundles added with ``senacs compare add`` (checked in the PDF text against those bundles)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from senacs_workbench.released.published import PublishedReader

pytestmark = pytest.mark.slow

YEAR = 2025


def _flat(text: str) -> str:
    return re.sub(r"(?<=\d)[\s\u202f\u00a0.,](?=\d)", "", text)


@pytest.fixture(scope="module")
def dordogne_pdf(demo_cli_run: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo, result = demo_cli_run
    assert result.returncode == 0, result.stderr[-3000:]
    workspace = tmp_path_factory.mktemp("dordogne") / "ws"
    shutil.copytree(demo / "territoires" / "departement-24", workspace, symlinks=True)
    built = subprocess.run(
        [sys.executable, "-m", "senacs_workbench.apps.cli", "plaquette", "build", "--workspace", str(workspace),
         "--territory", "24", "--year", str(YEAR)],
        capture_output=True, text=True, env={**os.environ, "SENACS_USER": "prep"}, timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    pdfs = sorted((workspace / "reports").rglob("plaquette.pdf"))
    assert pdfs, built.stdout
    return pdfs[0]


def test_the_comparison_page_shows_the_region_and_the_nation_as_released(
        dordogne_pdf: Path, demo_cli_run: tuple[Path, Any]) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(dordogne_pdf), "-"], check=True, capture_output=True,
                          text=True).stdout.replace("\u2019", "'")
    page = text[text.index("Fiche nationale"):]
    assert "comparé à sa région et à l'ensemble de la France" in page
    assert re.search(r"Dordogne\s+n\s+Nouvelle-Aquitaine\s+n\s+France\s+n", page), page[:600]
    assert "publication nationale" in page and "publication régionale" in page
    demo = demo_cli_run[0]
    national = PublishedReader(demo / "published").table(YEAR, level="national", variable="type_structure",
                                                         statistic="structures", breakdown="")
    region = PublishedReader(demo / "territoires" / "region-75" / "published").table(
        YEAR, level="region", territory="75", variable="type_structure", statistic="structures", breakdown="")
    structures = next(line for line in page.splitlines() if line.strip().startswith("Structures"))
    numbers = re.findall(r"\d+", _flat(structures))
    assert str(int(region.value.iloc[0])) in numbers and str(int(national.value.iloc[0])) in numbers, structures
