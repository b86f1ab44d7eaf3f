"""The read API of the restricted store: the only way to read raw answers, access-checked and audited."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from export_samples import YEAR, export_frame, write_csv

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import ANSWER_COLUMNS, RawDataStore, StoreError, store_summary
from senacs_workbench.trust import audit_log


@pytest.fixture
def imported_workspace(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "senacs_2024.csv"), YEAR)
    return national_workspace


def test_answers_long_form_with_provenance(imported_workspace: Workspace) -> None:
    answers = RawDataStore(imported_workspace).answers(YEAR)
    assert list(answers.columns) == list(ANSWER_COLUMNS)
    assert set(answers.year) == {YEAR} and set(answers.version) == {1}
    assert set(answers.provenance) == {"centre", "caf", "federation"}
    assert answers.duplicated(["structure_id", "variable"]).sum() == 0
    numeric = answers[answers.variable == "budget_total"]
    assert numeric.value_num.notna().all()
    assert answers[answers.variable == "type_structure"].value_num.isna().all()


def test_territory_and_variable_filters(imported_workspace: Workspace) -> None:
    store = RawDataStore(imported_workspace)
    dordogne = store.answers(YEAR, "departement:24")
    assert set(dordogne.structure_id) == {"S1000"}
    nouvelle_aquitaine = store.wide(YEAR, geo.territory("region", "75"))
    assert nouvelle_aquitaine.structure_id.tolist() == ["S1000", "S1005"]
    some = store.answers(YEAR, variables=["budget_total", "qpv"])
    assert set(some.variable) == {"budget_total", "qpv"}
    with pytest.raises(StoreError, match="Variable\\(s\\) inconnue\\(s\\) du questionnaire 2024 : budget"):
        store.answers(YEAR, variables=["budget"])


def test_wide_is_typed(imported_workspace: Workspace) -> None:
    wide = RawDataStore(imported_workspace).wide(YEAR)
    codebook = load_codebook(YEAR)
    assert list(wide.columns[:6]) == ["structure_id", "nom_structure", "code_commune", "departement", "region", "epci"]
    assert list(wide.columns[6:]) == list(codebook.question_ids)
    assert len(wide) == 6
    for question in codebook.questions:
        if question.type.is_numeric:
            assert wide[question.id].dtype == np.float64, question.id
    assert wide.loc[0, "type_structure"] == "CS" and wide.loc[0, "outils_communication"] == "reseaux_sociaux|site_web"
    assert pd.api.types.is_datetime64_any_dtype(wide["date_premier_agrement"])
    row = wide.set_index("structure_id").loc["S1004"]  # non-respondent
    assert np.isnan(row["budget_total"]) and row["ja_freins"] is None and row["type_structure"] == "CS"
    geo_row = wide.set_index("structure_id").loc["S1003"]
    assert (geo_row["code_commune"], geo_row["departement"], geo_row["region"]) == ("97411", "974", "04")
    subset = RawDataStore(imported_workspace).wide(YEAR, variables=["budget_total"])
    assert list(subset.columns[6:]) == ["budget_total"]


def test_versions_and_errors(imported_workspace: Workspace) -> None:
    store = RawDataStore(imported_workspace)
    assert store.latest_version(YEAR) == 1
    versions = store.versions(YEAR)
    assert versions.loc[0, "import_file"] == "senacs_2024.csv" and versions.loc[0, "structures"] == 6
    with pytest.raises(StoreError, match="Aucune donnée importée pour la campagne 2023"):
        store.answers(2023)
    with pytest.raises(StoreError, match="n'a pas de version 3"):
        store.answers(YEAR, version=3)


def test_empty_store(national_workspace: Workspace) -> None:
    assert store_summary(national_workspace) == {"years": [], "data_versions": [], "imports": []}
    assert RawDataStore(national_workspace).versions(YEAR).empty
    with pytest.raises(StoreError, match="Aucune donnée importée"):
        RawDataStore(national_workspace).wide(YEAR)


def test_summary_has_no_answers(imported_workspace: Workspace) -> None:
    summary = store_summary(imported_workspace)
    text = json.dumps(summary, ensure_ascii=False)
    assert summary["years"] == [YEAR]
    assert summary["data_versions"][0]["structures"] == 6
    assert "S1000" not in text and "Élan" not in text and "250000" not in text


def test_reads_are_audited_and_refused_to_unauthorised_users(imported_workspace: Workspace,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    RawDataStore(imported_workspace).wide(YEAR, "departement:24")
    entry = audit_log.entries(imported_workspace.audit_log_path)[-1]
    assert (entry["user"], entry["action"], entry["territory"]) == ("prep", "read_answers", "departement:24")
    assert entry["details"]["year"] == YEAR and entry["details"]["role"] == "preparer"

    monkeypatch.setenv("SENACS_USER", "corr")  # a correspondent may read
    assert len(RawDataStore(imported_workspace).answers(YEAR)) > 0

    for user in ("intrus", "ffed"):  # an outsider, a committee member
        monkeypatch.setenv("SENACS_USER", user)
        with pytest.raises(AccessDenied, match=f"Accès refusé : {user} n'est ni le préparateur désigné"):
            RawDataStore(imported_workspace).answers(YEAR)
        with pytest.raises(AccessDenied):
            RawDataStore(imported_workspace).wide(YEAR, "region:75")
        entries = audit_log.entries(imported_workspace.audit_log_path)
        assert [(e["user"], e["action"], e["territory"]) for e in entries[-2:]] == [
            (user, "refused:read_answers", "FR"), (user, "refused:read_answers", "region:75")
        ]
    assert audit_log.verify(imported_workspace.audit_log_path).entries == len(
        audit_log.entries(imported_workspace.audit_log_path)
    )


def test_explicit_user_argument(imported_workspace: Workspace) -> None:
    with pytest.raises(AccessDenied):
        RawDataStore(imported_workspace, user="intrus").answers(YEAR)
    assert len(RawDataStore(imported_workspace, user="prep").answers(YEAR)) > 0


def test_waits_for_another_process_connection(imported_workspace: Workspace) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(1); c.close()",
         str(imported_workspace.store_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        assert store_summary(imported_workspace)["years"] == [YEAR]  # waited for the lock, then read
    finally:
        holder.wait(timeout=30)
