"""Issue 21: an import cannot lose structures by accident.

A file lacking structures of the campaign's current version is refused in French with their
count and list, nothing stored nor archived, unless the user says what the file is: ``--replace``
(the structures leave, the message counts them) or ``--update`` (new version = previous one
with the file's structures replaced or added). Every change is a new version; the earlier ones
stay as they were. Before this change the smaller file silently became the latest version (the
refusal test fails on that code).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.importing import ImportRejected
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore, store_summary


def _cli(workspace: Workspace, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--workspace", str(workspace.root)], env={"SENACS_USER": "prep"})
    return result.exit_code, result.output


@pytest.fixture
def full(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    """Version 1: eight structures S1000–S1007."""
    import_file(national_workspace, write_csv(export_frame(n=8), tmp_path / "complet.csv"), YEAR)
    return national_workspace


def _smaller(tmp_path: Path, name: str) -> Path:
    """S1000–S1002 with a new budget, and a new structure S1100 (S1003–S1007 absent)."""
    frame = export_frame(n=3)
    frame["budget_total"] = "300000"
    extra = export_frame(n=1).assign(id_structure="S1100", budget_total="123456")
    return write_csv(pd.concat([frame, extra], ignore_index=True), tmp_path / name)


def test_a_file_lacking_structures_is_refused_with_the_list(full: Workspace, tmp_path: Path) -> None:
    before = store_summary(full), sorted(p.name for p in full.archive_dir.iterdir())
    path = _smaller(tmp_path, "departement.csv")
    code, output = _cli(full, "import", str(path), "--year", str(YEAR))
    assert code != 0
    assert ("Import refusé : departement.csv ne contient pas 5 structure(s) présente(s) dans la version 1 "
            "des données de la campagne 2024 : S1003, S1004, S1005, S1006, S1007.") in output
    assert "--replace" in output and "--update" in output
    assert (store_summary(full), sorted(p.name for p in full.archive_dir.iterdir())) == before
    with pytest.raises(ImportRejected, match="ne contient pas 5 structure"):
        import_file(full, path, YEAR)


def test_replace_removes_them_and_counts_them(full: Workspace, tmp_path: Path) -> None:
    code, output = _cli(full, "import", str(_smaller(tmp_path, "nouveau.csv")), "--year", str(YEAR), "--replace")
    assert code == 0, output
    assert "version 2 des données, 4 structure(s)" in output
    assert "5 structure(s) de la version 1 absente(s) du fichier quitte(nt) la campagne (--replace) : " \
           "S1003, S1004, S1005, S1006, S1007." in output
    store = RawDataStore(full)
    assert sorted(store.wide(YEAR)["structure_id"]) == ["S1000", "S1001", "S1002", "S1100"]
    assert len(store.wide(YEAR, version=1)) == 8  # the earlier version is unchanged


def test_update_keeps_the_others(full: Workspace, tmp_path: Path) -> None:
    store = RawDataStore(full)
    v1 = store.answers(YEAR, version=1)
    code, output = _cli(full, "import", str(_smaller(tmp_path, "maj.csv")), "--year", str(YEAR), "--update")
    assert code == 0, output
    assert "version 2 des données" in output
    assert "Mise à jour partielle (--update) : 5 structure(s) absente(s) du fichier gardée(s) telles qu'en version 1" \
        in output
    wide = store.wide(YEAR).set_index("structure_id")
    assert sorted(wide.index) == [f"S{1000 + i}" for i in range(8)] + ["S1100"]
    assert (wide.loc[["S1000", "S1001", "S1002"], "budget_total"] == 300000).all()  # replaced
    assert wide.loc["S1100", "budget_total"] == 123456  # added
    v2 = store.answers(YEAR, version=2)
    kept = ["S1003", "S1004", "S1005", "S1006", "S1007"]
    columns = ["structure_id", "variable", "value", "provenance", "entered_by", "import_id"]
    old = v1[v1.structure_id.isin(kept)][columns].reset_index(drop=True)
    new = v2[v2.structure_id.isin(kept)][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, new)  # kept as they were, with their provenance and import
    summary = store_summary(full)
    latest = summary["data_versions"][-1]
    assert (latest["version"], latest["kind"], latest["structures"], latest["answers"]) == (
        2, "update_import", 9, len(v2))
    assert summary["data_versions"][0]["structures"] == 8  # version 1 untouched


def test_replace_and_update_together_are_refused(full: Workspace, tmp_path: Path) -> None:
    code, output = _cli(full, "import", str(_smaller(tmp_path, "x.csv")), "--year", str(YEAR), "--replace",
                        "--update")
    assert code != 0 and "--replace et --update s'excluent" in output


def test_a_file_with_every_structure_needs_no_option(full: Workspace, tmp_path: Path) -> None:
    frame = export_frame(n=8)
    frame.loc[0, "budget_total"] = "310000"
    code, output = _cli(full, "import", str(write_csv(frame, tmp_path / "v2.csv")), "--year", str(YEAR))
    assert code == 0 and "version 2 des données, 8 structure(s)" in output, output


def test_a_version_written_meanwhile_stops_the_import(full: Workspace, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is made with the version seen; if another write made a newer one before
    the store transaction, nothing is written (the comparison must be made again)."""
    from senacs_workbench.restricted import store
    from senacs_workbench.restricted.store import StoreError

    monkeypatch.setattr(store, "latest_structures", lambda workspace, year: (0, []))  # as if seen before v1
    before = store_summary(full)
    with pytest.raises(StoreError, match="a changé pendant l'import"):
        import_file(full, _smaller(tmp_path, "concurrent.csv"), YEAR)
    assert store_summary(full) == before
