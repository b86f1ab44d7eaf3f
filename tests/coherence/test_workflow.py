"""Check runs, the resolution workflow, corrections as new versions, history, status, access."""

from __future__ import annotations

import pytest

from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.corrections import (
    CorrectionError,
    correct_answer,
    render_history,
    value_history,
)
from senacs_workbench.restricted.coherence.engine import run_check
from senacs_workbench.restricted.coherence.resolution import (
    ask_findings,
    coherence_status,
    finding_events,
    list_findings,
    render_coherence_status,
    resolve_finding,
)
from senacs_workbench.restricted.store import RawDataStore
from senacs_workbench.trust import audit_log

YEAR = 2024


def test_rerun_does_not_duplicate_open_findings(workspace: Workspace) -> None:
    first = run_check(workspace, YEAR)
    assert first.found > 0 and first.new == first.found
    assert first.references == ("campagne 2023",)
    second = run_check(workspace, YEAR)
    assert second.new == 0 and second.refreshed == first.found
    frame = list_findings(workspace, YEAR)
    assert len(frame) == first.found
    assert not frame.duplicated(["structure_id", "rule_id", "variables"]).any()
    assert set(frame["status"]) == {fs.OPEN}
    assert {"structure_id", "variables", "rule_id", "severity", "values_json", "message"} <= set(frame.columns)


def test_workflow_confirm_withdraw_and_closed_findings_stay_closed(checked: Workspace) -> None:
    frame = list_findings(checked, YEAR)
    first, second = int(frame["finding_id"][0]), int(frame["finding_id"][1])
    assert ask_findings(checked, [first, second], exchange="courriel du 3 mars") == 2
    assert set(list_findings(checked, YEAR, status=fs.ASKED)["finding_id"]) == {first, second}
    assert "confirmé" in resolve_finding(checked, first, "confirm", note="le centre confirme")
    resolve_finding(checked, second, "withdraw", note="faux signal")
    with pytest.raises(fs.FindingError, match="déjà clos"):
        resolve_finding(checked, first, "withdraw", note="encore")
    with pytest.raises(fs.FindingError, match=r"motif|pourquoi"):
        resolve_finding(checked, int(frame["finding_id"][2]), "confirm", note=" ")
    events = finding_events(checked, first)
    assert list(events["to_status"]) == [fs.OPEN, fs.ASKED, fs.CONFIRMED]
    assert events["exchange"].iloc[1] == "courriel du 3 mars"
    # a confirmed finding is not raised again by the next run
    again = run_check(checked, YEAR)
    assert again.new == 0
    status = coherence_status(checked)
    year = next(y for y in status["years"] if y["year"] == YEAR)
    assert year["by_status"][fs.CONFIRMED] == 1 and year["by_status"][fs.WITHDRAWN] == 1
    assert year["resolved"] == 2 and year["share_resolved"] == pytest.approx(2 / len(frame))
    assert sum(year["unresolved_by_severity"].values()) == len(frame) - 2
    assert "2 résolu(s)" in render_coherence_status(status)


def test_correction_is_a_new_version_and_the_original_stays_readable(checked: Workspace) -> None:
    frame = list_findings(checked, YEAR, rule="etp_superieur_salaries")
    finding = frame.iloc[0]
    structure = finding["structure_id"]
    store = RawDataStore(checked)
    before = store.wide(YEAR, variables=["salaries", "etp"]).set_index("structure_id")
    old_salaries = before.at[structure, "salaries"]
    new_salaries = int(before.at[structure, "etp"]) + 3
    result = correct_answer(
        checked,
        YEAR,
        structure,
        "salaries",
        str(new_salaries),
        why="erreur de saisie",
        exchange="appel du 4 mars",
        finding_id=int(finding["finding_id"]),
    )
    assert result.version == result.previous_version + 1
    versions = store.versions(YEAR)
    assert versions["kind"].iloc[-1] == "correction"
    assert versions["structures"].iloc[-1] == versions["structures"].iloc[-2]
    assert versions["answers"].iloc[-1] == versions["answers"].iloc[-2]
    latest = store.wide(YEAR, variables=["salaries"]).set_index("structure_id")
    original = store.wide(YEAR, version=result.previous_version, variables=["salaries"]).set_index("structure_id")
    assert latest.at[structure, "salaries"] == new_salaries
    assert original.at[structure, "salaries"] == old_salaries
    # other answers are carried over unchanged, with their provenance
    answers = store.answers(YEAR)
    carried = answers[(answers["structure_id"] != structure) | (answers["variable"] != "salaries")]
    previous = store.answers(YEAR, version=result.previous_version)
    assert len(carried) == len(previous) - 1
    row = answers[(answers["structure_id"] == structure) & (answers["variable"] == "salaries")].iloc[0]
    assert row["provenance"] == "centre" and row["entered_by"] == "prep"
    assert list_findings(checked, YEAR, status=fs.CORRECTED)["finding_id"].tolist() == [finding["finding_id"]]
    history = value_history(checked, YEAR, structure, "salaries")
    assert history["version"].tolist() == [1, result.version]
    assert history["why"].iloc[-1] == "erreur de saisie" and history["exchange"].iloc[-1] == "appel du 4 mars"
    text = render_history(history, YEAR, structure, "salaries")
    assert "version 1 (import)" in text and "correction" in text and "erreur de saisie" in text
    # the corrected structure no longer trips the rule
    assert run_check(checked, YEAR).new == 0


def test_correction_refuses_bad_values_and_closed_findings(checked: Workspace) -> None:
    finding = list_findings(checked, YEAR).iloc[0]
    structure, variable = finding["structure_id"], finding["variables"].split("|")[0]
    count = len(RawDataStore(checked).versions(YEAR))
    with pytest.raises(CorrectionError, match="hors de l'intervalle"):
        correct_answer(checked, YEAR, structure, "salaries", "100000", why="x")
    with pytest.raises(CorrectionError, match="n'existe pas"):
        correct_answer(checked, YEAR, "S999999", "salaries", "3", why="x")
    with pytest.raises(CorrectionError, match="motif"):
        correct_answer(checked, YEAR, structure, "salaries", "3", why="")
    resolve_finding(checked, int(finding["finding_id"]), "withdraw", note="faux signal")
    with pytest.raises(CorrectionError, match="déjà clos"):
        correct_answer(checked, YEAR, structure, variable, "1", why="x", finding_id=int(finding["finding_id"]))
    assert len(RawDataStore(checked).versions(YEAR)) == count


def test_access_refused_for_a_non_correspondent_and_logged(checked: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = checked
    finding = list_findings(workspace, YEAR).iloc[0]
    monkeypatch.setenv("SENACS_USER", "ccaf")  # committee member: aggregates only
    with pytest.raises(AccessDenied, match="Accès refusé"):
        run_check(workspace, YEAR)
    with pytest.raises(AccessDenied):
        correct_answer(workspace, YEAR, finding["structure_id"], "salaries", "3", why="x")
    with pytest.raises(AccessDenied):
        list_findings(workspace, YEAR)
    refused = [e for e in audit_log.entries(workspace.audit_log_path) if e["user"] == "ccaf"]
    assert [e["action"] for e in refused] == [
        "refused:coherence_check",
        "refused:correct_answer",
        "refused:coherence_check",
    ]
    monkeypatch.setenv("SENACS_USER", "corr")  # a correspondent may
    assert len(list_findings(workspace, YEAR)) > 0
    actions = [e["action"] for e in audit_log.entries(workspace.audit_log_path) if e["user"] == "corr"]
    assert actions == ["coherence_check"]
    prep = [e["action"] for e in audit_log.entries(workspace.audit_log_path) if e["user"] == "prep"]
    assert "coherence_check" in prep and "coherence_findings" in prep


def _fresh_export(pristine_root, target, year: int, changes: dict[tuple[str, str], str]):
    """The campaign's export file again, with some answers changed (a new export from SENACS)."""
    import csv

    source = pristine_root.parent / "incoming" / f"senacs_{year}.csv"
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header = rows[0]
    for row in rows[1:]:
        for (structure, column), value in changes.items():
            if row[0] == structure:
                row[header.index(column)] = value
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return target


def test_a_new_import_keeps_the_corrections_the_file_does_not_contradict(checked: Workspace, pristine, tmp_path
                                                                        ) -> None:
    from senacs_workbench.restricted.intake import import_file

    store = RawDataStore(checked)
    before = store.wide(YEAR, variables=["salaries"]).set_index("structure_id")["salaries"].dropna()
    kept, contradicted = before.index[:2]
    correct_answer(checked, YEAR, kept, "salaries", str(int(before[kept]) + 7), why="erreur de saisie")
    correct_answer(checked, YEAR, contradicted, "salaries", str(int(before[contradicted]) + 5), why="appel du centre")
    # A fresh export: the first centre's answer was never fixed in SENACS, the second one's was
    # changed there to yet another value.
    export = _fresh_export(pristine, tmp_path / f"senacs_{YEAR}.csv", YEAR,
                           {(contradicted, "salaries"): str(int(before[contradicted]) + 11)})
    outcome = import_file(checked, export, YEAR)
    assert "1 correction(s) ou saisie(s) des versions précédentes reprise(s)" in outcome.message_fr
    assert f"1 réponse(s) corrigée(s) que le nouveau fichier modifie à nouveau (valeur du fichier gardée, " \
           f"à vérifier : {contradicted} / salaries)" in outcome.message_fr
    latest = store.wide(YEAR, variables=["salaries"]).set_index("structure_id")["salaries"]
    assert latest[kept] == before[kept] + 7  # the correction survived the new import
    assert latest[contradicted] == before[contradicted] + 11  # the file's newer value wins
    assert latest.drop([kept, contradicted]).equals(before.reindex(latest.index).drop([kept, contradicted]))
    carried = store.answers(YEAR)
    row = carried[(carried["structure_id"] == kept) & (carried["variable"] == "salaries")].iloc[0]
    assert row["entered_by"] == "prep" and row["provenance"] == "centre"
    versions = store.versions(YEAR)
    assert versions["kind"].iloc[-1] == "import" and versions["answers"].iloc[-1] == len(carried)
    # the version before the import is unchanged
    assert store.wide(YEAR, version=outcome.version - 1, variables=["salaries"]).set_index(
        "structure_id")["salaries"][contradicted] == before[contradicted] + 5
