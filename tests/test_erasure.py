"""``senacs erase``: no raw value of the erased structure remains anywhere in the workspace
(store bytes included), the other structures are untouched, the erasure is recorded."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from export_samples import YEAR, export_frame, write_csv, write_xlsx

from senacs_workbench.apps.cli import main
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import commands
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.operations.erasure import ErasureError, erase_structure
from senacs_workbench.restricted.store import RawDataStore, store_summary
from senacs_workbench.trust import audit_log

TARGET = "S1002"
NAME = "Centre social Zéphyrin-Quetzalcoatl"
BUDGET = "9876543"
CAF = "7315942"
COMMENT = "Remarque XQZW-unique-7731"
PLANTED = [NAME.encode("utf-8"), BUDGET.encode(), CAF.encode(), COMMENT.encode("utf-8")]


def _planted_frame() -> pd.DataFrame:
    frame = export_frame(n=6)
    row = frame.index[frame["id_structure"] == TARGET][0]
    frame.loc[row, ["nom_structure", "budget_total", "financement_caf", "commentaire"]] = [NAME, BUDGET, CAF, COMMENT]
    return frame


def _contents(path: Path) -> list[bytes]:
    """The bytes of a file and, for zip files (XLSX), of each member; Parquet tables as text."""
    data = path.read_bytes()
    parts = [data]
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts += [archive.read(name) for name in archive.namelist()]
    if path.suffix == ".parquet":
        parts.append(pd.read_parquet(io.BytesIO(data)).to_csv().encode("utf-8"))
    return parts


def _where(root: Path, needles: list[bytes]) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            hits = [n for n in needles if any(n in part for part in _contents(path))]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


@pytest.fixture
def lived_in(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    """A workspace where the structure is everywhere: two data versions from two files (CSV and
    XLSX), a correction, coherence findings and question sheets, working files of all kinds (a
    lab notebook whose outputs show it)."""
    workspace = national_workspace
    frame = _planted_frame()
    incoming = workspace.restricted / "incoming"
    incoming.mkdir()
    import_file(workspace, write_csv(frame, incoming / "senacs_2024.csv"), YEAR)
    write_csv(frame, tmp_path / "original_2024.csv")  # the centre's file, kept outside the workspace
    second = frame.copy()
    second.loc[second["id_structure"] == "S1000", "budget_total"] = "260001"
    import_file(workspace, write_xlsx(second, incoming / "senacs_2024_v2.xlsx"), YEAR)
    commands.correct(workspace, TARGET, "financement_autres", "12345", why="échange avec le centre", year=YEAR)
    commands.check(workspace, YEAR)
    commands.findings_ask(workspace, YEAR, structures=[TARGET])
    centre = workspace.reports / "centre" / TARGET / "campagne"
    centre.mkdir(parents=True)
    (centre / "centre_report.html").write_text(f"<p>{NAME} : {BUDGET} €</p>", encoding="utf-8")
    review = workspace.reports / "restricted" / "FR" / "campagne"
    review.mkdir(parents=True)
    (review / "revue.html").write_text(f"<td>{TARGET}</td><td>{COMMENT}</td>", encoding="utf-8")
    (review / "revue.pdf").write_bytes(b"%PDF-1.4 compressed stream")
    (review / "autre.html").write_text("<td>S1000</td><td>rien</td>", encoding="utf-8")
    import nbformat

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(reponses.head())")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{TARGET} {NAME} {COMMENT}\n")]
    notebook.cells.append(cell)
    (workspace.restricted / "lab").mkdir()
    nbformat.write(notebook, workspace.restricted / "lab" / "analyse.ipynb")
    pd.DataFrame({"structure_id": [TARGET, "S1000"], "note": [BUDGET, "1"]}).to_parquet(
        workspace.restricted / "travail.parquet")
    return workspace


def test_no_raw_value_of_the_structure_remains_anywhere(lived_in: Workspace) -> None:
    workspace = lived_in
    before = _where(workspace.root, PLANTED)
    # the search works: before the erasure the planted values are in the store's own bytes,
    # in both archived imports, in the incoming files and in the coherence outputs
    assert "restricted/senacs.duckdb" in before and NAME.encode("utf-8") in before["restricted/senacs.duckdb"]
    assert sum(name.startswith("restricted/imports/") for name in before) >= 2
    assert any(name.startswith("restricted/coherence/") for name in before)
    others_before = RawDataStore(workspace).answers(YEAR)
    others_before = others_before[others_before["structure_id"] != TARGET]
    archive_modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in workspace.archive_dir.iterdir()}

    result = CliRunner().invoke(main, ["erase", TARGET, "--reason", "demande RGPD du 2 décembre 2026",
                                       "--workspace", str(workspace.root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Structure {TARGET} effacée" in result.output and "ATTENTION" not in result.output

    assert _where(workspace.root, PLANTED) == {}
    # nothing left in the store, logically either, in any version
    with duckdb.connect(str(workspace.store_path), read_only=True) as con:
        for table in ("answers", "structures", "corrections", "coherence_findings"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE structure_id = ?", [TARGET]).fetchone() == (0,)
    # the other structures keep every answer of every version
    after = RawDataStore(workspace).answers(YEAR)
    assert TARGET not in set(after["structure_id"])
    pd.testing.assert_frame_equal(after.reset_index(drop=True), others_before.reset_index(drop=True),
                                  check_dtype=False)  # import_id: no null left once the correction is gone
    counts = {(v["year"], v["version"]): v["structures"] for v in store_summary(workspace)["data_versions"]}
    assert counts[(YEAR, 1)] == 5
    # archives rewritten in place, read-only as before, without the structure's row only
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in workspace.archive_dir.iterdir()} == archive_modes
    csv_archive = next(p for p in workspace.archive_dir.iterdir() if p.suffix == ".csv")
    assert "S1000" in csv_archive.read_text(encoding="utf-8-sig") and TARGET not in csv_archive.read_text("utf-8-sig")
    assert not (workspace.reports / "centre" / TARGET).exists()
    assert not (workspace.reports / "restricted" / "FR" / "campagne" / "revue.pdf").exists()
    assert (workspace.reports / "restricted" / "FR" / "campagne" / "autre.html").exists()
    # the preparer's own notebook is kept, without the outputs that showed the structure
    lab = workspace.restricted / "lab" / "analyse.ipynb"
    assert "print(reponses.head())" in lab.read_text(encoding="utf-8")
    # recorded: reason, old hashes of the rewritten archives, in a chain that still verifies
    audit_log.verify(workspace.audit_log_path)
    done = [e for e in audit_log.entries(workspace.audit_log_path) if e["action"] == "erase_structure_done"]
    assert len(done) == 1 and done[0]["details"]["reason"] == "demande RGPD du 2 décembre 2026"
    rewritten = {c["path"]: c for c in done[0]["details"]["files"] if c["action"] == "rewritten"}
    assert sum(p.startswith("restricted/imports/") for p in rewritten) >= 2
    assert all(c["old_sha256"] != c["new_sha256"] for c in rewritten.values())
    register = (workspace.restricted / "erasures.jsonl").read_text(encoding="utf-8")
    assert json.loads(register.splitlines()[-1])["structure"] == TARGET
    # importing the original file again changes nothing (it is known by its original hash)
    again = import_file(workspace, workspace.root.parent / "original_2024.csv", YEAR)
    assert again.already_imported


def test_erasure_refuses_an_unknown_structure_and_a_missing_reason(lived_in: Workspace) -> None:
    with pytest.raises(ErasureError, match="aucune donnée"):
        erase_structure(lived_in, "S100", "demande RGPD")  # a prefix of S1000… is not S1000
    with pytest.raises(ErasureError, match="motif"):
        erase_structure(lived_in, TARGET, " ")
    assert TARGET in set(RawDataStore(lived_in).answers(YEAR)["structure_id"])
