"""End-to-end imports: every accepted format variant, every bad input (French report naming
file, line, column, value and rule, with nothing stored), idempotence, versions, partial
imports, the archive and the access rules."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from export_samples import YEAR, export_frame, write_csv, write_xlsx

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.restricted.importing import ImportRejected
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.store import RawDataStore, store_summary
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.demo_keys import adopt_demo_governance


def _state(workspace: Workspace) -> tuple[dict[str, object], list[str]]:
    archive = sorted(p.name for p in workspace.archive_dir.glob("*")) if workspace.archive_dir.exists() else []
    return store_summary(workspace), archive


@pytest.fixture
def seeded_workspace(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    """The national workspace with one valid 2024 import (version 1)."""
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "premier_2024.csv"), YEAR)
    return national_workspace


def reject(workspace: Workspace, path: Path, *expected: str, year: int = YEAR, **kwargs: object) -> ImportRejected:
    """Import ``path``, expect a rejection whose report contains every ``expected`` text, and
    check that nothing was stored nor archived."""
    before = _state(workspace)
    with pytest.raises(ImportRejected) as info:
        import_file(workspace, path, year, **kwargs)  # type: ignore[arg-type]
    report = info.value.report(limit=None)
    for text in expected:
        assert text in report, f"{text!r} absent de :\n{report}"
    assert _state(workspace) == before
    return info.value


def edited(tmp_path: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame | None], n: int = 12,
           **csv_options: str) -> Path:
    frame = export_frame(n=n)
    result = edit(frame)
    return write_csv(frame if result is None else result, tmp_path / name, **csv_options)


# ---------------------------------------------------------------------------- accepted variants


def test_import_csv_stores_canonical_answers_with_provenance(national_workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(export_frame(), tmp_path / "senacs_2024.csv")
    outcome = import_file(national_workspace, path, YEAR)
    assert (outcome.version, outcome.rows, outcome.structures, outcome.already_imported) == (1, 6, 6, False)
    assert "version 1" in outcome.message_fr and "6 structure(s)" in outcome.message_fr
    answers = RawDataStore(national_workspace).answers(YEAR)
    assert outcome.answers == len(answers)
    s0 = answers[answers.structure_id == "S1000"].set_index("variable")
    assert s0.loc["budget_total", "value"] == "250000" and s0.loc["budget_total", "value_num"] == 250000
    assert s0.loc["etp", "value"] == "10.5" and s0.loc["etp", "value_num"] == 10.5
    assert s0.loc["mode_gestion", "value"] == "associatif"
    assert s0.loc["adherent_federation", "value"] == "oui"
    assert s0.loc["outils_communication", "value"] == "reseaux_sociaux|site_web"
    assert s0.loc["date_premier_agrement", "value"] == "1990-03-01"
    # provenance: saisie_par « Centre », finances section overridden « Caf »
    assert s0.loc["budget_total", "provenance"] == "caf"
    assert s0.loc["salaries", "provenance"] == "centre"
    assert set(answers[answers.structure_id == "S1002"].provenance) == {"federation"}
    assert set(answers.entered_by) == {"prep"} and set(answers.import_id) == {1}
    # the non-respondent has its identity answers only
    codebook = load_codebook(YEAR)
    identity = {q.id for q in codebook.in_section("identite")}
    assert set(answers[answers.structure_id == "S1004"].variable) <= identity


def test_cp1252_comma_separated_file_with_french_labels_as_headers(national_workspace: Workspace,
                                                                    tmp_path: Path) -> None:
    codebook = load_codebook(YEAR)
    frame = export_frame()
    labels = {q.id: q.label for q in codebook.questions}
    labels.update({"id_structure": "IDENTIFIANT DE LA STRUCTURE", "code_commune": "code commune",
                   "nom_structure": "Nom de la structure", "saisie_par": "Saisi par"})
    frame = frame.rename(columns={"type_structure": "type de structure", **{
        k: v for k, v in labels.items() if k != "type_structure"}})
    path = write_csv(frame, tmp_path / "latin.csv", sep=",", encoding="cp1252")
    outcome = import_file(national_workspace, path, YEAR)
    assert outcome.structures == 6
    wide = RawDataStore(national_workspace).wide(YEAR)
    assert wide.loc[wide.structure_id == "S1001", "nom_structure"].item() == "EVS Les Châtaigniers"
    assert wide.loc[wide.structure_id == "S1003", "nom_structure"].item() == "Centre social L'Œuvre"
    assert wide.loc[wide.structure_id == "S1000", "type_structure"].item() == "CS"


def test_french_number_formats_codes_and_no_answer(national_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[0, "budget_total"] = "1\u00a0234\u00a0567 €"
        frame.loc[1, "budget_total"] = "633\u202f817,50 €"
        frame.loc[2, "budget_total"] = "12 345"
        frame.loc[0, "part_cdi"] = "12,5 %"
        frame.loc[1, "etp"] = "7,25"
        frame.loc[0, "type_structure"] = "CS"
        frame.loc[1, "mode_gestion"] = "COLLECTIVITÉ LOCALE"
        frame.loc[0, "adherent_federation"] = "OUI"
        frame.loc[1, "adherent_federation"] = "non"
        frame.loc[0, "outils_communication"] = "Affichage ; Site internet"
        frame.loc[0, "date_premier_agrement"] = "2001-09-15"
        frame.loc[0, "benevoles_activite"] = "NR"
        frame.loc[0, "heures_ouverture"] = ""

    path = edited(tmp_path, "formats.csv", edit, n=6)
    import_file(national_workspace, path, YEAR)
    wide = RawDataStore(national_workspace).wide(YEAR).set_index("structure_id")
    assert wide.loc["S1000", "budget_total"] == 1234567
    assert wide.loc["S1001", "budget_total"] == 633817.5
    assert wide.loc["S1002", "budget_total"] == 12345
    assert wide.loc["S1000", "part_cdi"] == 12.5
    assert wide.loc["S1001", "etp"] == 7.25
    assert wide.loc["S1001", "mode_gestion"] == "collectivite"
    assert (wide.loc["S1000", "adherent_federation"], wide.loc["S1001", "adherent_federation"]) == ("oui", "non")
    assert wide.loc["S1000", "outils_communication"] == "affichage|site_web"
    assert wide.loc["S1000", "date_premier_agrement"] == pd.Timestamp("2001-09-15")
    assert pd.isna(wide.loc["S1000", "benevoles_activite"]) and pd.isna(wide.loc["S1000", "heures_ouverture"])


def test_xlsx_with_title_row_native_numbers(national_workspace: Workspace, tmp_path: Path) -> None:
    path = write_xlsx(export_frame(), tmp_path / "export.xlsx", title_rows=("Export SENACS — campagne 2024",))
    outcome = import_file(national_workspace, path, YEAR)
    assert outcome.structures == 6
    wide = RawDataStore(national_workspace).wide(YEAR).set_index("structure_id")
    assert wide.loc["S1000", "etp"] == 10.5
    assert wide.loc["S1000", "code_commune"] == "24322"
    assert wide.loc["S1000", "date_premier_agrement"] == pd.Timestamp("1990-03-01")


def test_mapping_file_for_another_layout(national_workspace: Workspace, tmp_path: Path) -> None:
    frame = export_frame().drop(columns=["saisie_par", "saisie_par__finances", "saisie_par__emploi"])
    frame = frame.rename(columns={"id_structure": "N° SENACS", "budget_total": "Budget global"})
    frame["Date de saisie"] = "01/02/2024"
    path = write_csv(frame, tmp_path / "autre.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({
        "columns": {"N° SENACS": "id_structure", "Budget global": "budget_total"},
        "ignore": ["Date de saisie"],
        "provenance_default": "centre",
    }, allow_unicode=True), encoding="utf-8")
    reject(national_workspace, path, "colonne « N° SENACS »", "colonne inconnue", "« Date de saisie »",
           "colonne obligatoire absente : « id_structure »")
    outcome = import_file(national_workspace, path, YEAR, mapping=mapping)
    assert outcome.structures == 6 and "colonne(s) ignorée(s) : Date de saisie" in outcome.message_fr
    answers = RawDataStore(national_workspace).answers(YEAR, variables=["budget_total"])
    assert set(answers.provenance) == {"centre"} and len(answers) == 5


# ---------------------------------------------------------------------------- bad inputs


def test_text_in_numeric_column(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[10, "budget_total"] = "douze"

    path = edited(tmp_path, "senacs_2024.csv", edit)
    error = reject(seeded_workspace, path)
    assert [i.message() for i in error.issues] == [
        "senacs_2024.csv, ligne 12, colonne « budget_total » : valeur « douze » — nombre attendu"
    ]
    assert "Import refusé" in str(error) and "aucune donnée n'a été enregistrée" in str(error)


def test_unreadable_cells_refuse_the_file_but_out_of_bounds_values_do_not(seeded_workspace: Workspace,
                                                                          tmp_path: Path) -> None:
    """Issue 21: only what cannot be read refuses the file; the out-of-bounds values of the
    same file (part_cdi 150, 12,5 employees, a negative budget, a date before 1970) are not
    reported as reasons (they are stored and questioned, see test_import_bounds.py)."""
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[1, "part_cdi"] = "150"
        frame.loc[2, "salaries"] = "12,5"
        frame.loc[3, "budget_total"] = "-5"
        frame.loc[5, "type_structure"] = "Crèche"
        frame.loc[6, "adherent_federation"] = "Peut-être"
        frame.loc[7, "date_premier_agrement"] = "31/02/2020"
        frame.loc[8, "date_premier_agrement"] = "01/01/1950"
        frame.loc[9, "saisie_par"] = "Mairie"

    path = edited(tmp_path, "plages.csv", edit)
    error = reject(
        seeded_workspace, path,
        "plages.csv, ligne 7, colonne « type_structure » : valeur « Crèche » — modalité « Crèche » inconnue",
        "ligne 8, colonne « adherent_federation » : valeur « Peut-être » — réponse Oui ou Non attendue",
        "ligne 9, colonne « date_premier_agrement » : valeur « 31/02/2020 » — date inexistante",
        "ligne 11, colonne « saisie_par » : valeur « Mairie » — provenance inconnue",
        "4 problème(s)",
    )
    assert "intervalle" not in error.report(limit=None) and "entier" not in error.report(limit=None)


def test_required_answers_and_identity(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[0, "budget_total"] = ""  # respondent: required
        frame.loc[4, "budget_total"] = ""  # non-respondent: fine
        frame.loc[1, "type_structure"] = "NR"  # identity: required for everyone
        frame.loc[2, "id_structure"] = ""

    path = edited(tmp_path, "obligatoires.csv", edit, n=6)
    # a required answer left blank is kept and questioned (issue 21, tests/test_import_findings.py):
    # only the structure that cannot be identified refuses the file
    error = reject(
        seeded_workspace, path,
        "obligatoires.csv, ligne 4, colonne « id_structure » : valeur vide — identifiant de structure manquant",
    )
    assert [i.line for i in error.issues] == [4]


def test_duplicate_structure_ids(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[4, "id_structure"] = "S1001"

    path = edited(tmp_path, "doublons.csv", edit)
    reject(
        seeded_workspace, path,
        "doublons.csv, ligne 3, colonne « id_structure » : valeur « S1001 » — identifiant de structure en double "
        "(aussi ligne 6)",
        "doublons.csv, ligne 6, colonne « id_structure » : valeur « S1001 » — identifiant de structure en double "
        "(aussi ligne 3)",
    )


def test_communes_and_departements(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[0, "code_commune"] = "99999"
        frame.loc[1, "departement"] = "33"

    path = edited(tmp_path, "communes.csv", edit)
    reject(
        seeded_workspace, path,
        "communes.csv, ligne 2, colonne « code_commune » : valeur « 99999 » — commune inconnue",
        "communes.csv, ligne 3, colonne « departement » : valeur « 33 » — département incohérent avec le code commune",
    )


def test_structure_outside_the_workspace_territory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = init_workspace(tmp_path / "dordogne", territory="departement:24")
    governance = {"territories": [{
        "territory": "departement:24",
        "committee": [{"user": "c", "name": "C", "institution": "caf"},
                      {"user": "f", "name": "F", "institution": "federation"}],
        "preparer": {"user": "prep", "name": "P", "designated_on": "2025-01-15", "designated_by": ["c", "f"]},
    }]}
    workspace.governance_path.write_text(yaml.safe_dump(governance), encoding="utf-8")
    adopt_demo_governance(workspace)
    monkeypatch.setenv("SENACS_USER", "prep")
    path = write_csv(export_frame(n=2), tmp_path / "dordogne.csv")
    reject(workspace, path, "dordogne.csv, ligne 3, colonne « code_commune » : valeur « 01053 » — commune hors du "
           "territoire de l'espace de travail (département Dordogne)")
    outcome = import_file(workspace, write_csv(export_frame(n=1), tmp_path / "ok.csv"), YEAR)
    assert outcome.structures == 1


def test_missing_and_unknown_columns(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=["budget_total", "code_commune", "part_cdi"])
        frame["colonne_mystere"] = "x"
        frame["Budget de l'année"] = "1"
        return frame

    path = edited(tmp_path, "colonnes.csv", edit)
    error = reject(
        seeded_workspace, path,
        "colonnes.csv, ligne 1, colonne « colonne_mystere » : colonne inconnue du questionnaire 2024",
        "colonnes.csv, ligne 1, colonne « Budget de l'année » : colonne inconnue",
        "colonnes.csv, ligne 1 : colonne obligatoire absente : « code_commune »",
        "colonne obligatoire absente : « budget_total » (Budget total)",
    )
    assert len(error.issues) == 4  # part_cdi is optional: treated as unanswered, not an error


def test_optional_missing_question_is_a_warning(national_workspace: Workspace, tmp_path: Path) -> None:
    path = edited(tmp_path, "sans_part_cdi.csv", lambda f: f.drop(columns=["part_cdi"]), n=3)
    outcome = import_file(national_workspace, path, YEAR)
    assert "question(s) absente(s) du fichier" in outcome.message_fr and "part_cdi" in outcome.message_fr


def test_file_of_another_year_is_refused(seeded_workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(export_frame(year=2020, n=2), tmp_path / "senacs_2020.csv")
    error = reject(seeded_workspace, path, "colonne « covid_impact_global » : colonne inconnue du questionnaire 2024")
    assert all("colonne inconnue" in i.rule for i in error.issues)


def test_empty_and_header_only_files(seeded_workspace: Workspace, tmp_path: Path) -> None:
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    reject(seeded_workspace, empty, "vide.csv : le fichier est vide")
    header_only = write_csv(export_frame().iloc[0:0], tmp_path / "entete.csv")
    reject(seeded_workspace, header_only, "entete.csv, ligne 1 : aucune ligne de données sous l'en-tête")


def test_truncated_csv(seeded_workspace: Workspace, tmp_path: Path) -> None:
    full = write_csv(export_frame(), tmp_path / "complet.csv").read_bytes()
    truncated = tmp_path / "tronque.csv"
    truncated.write_bytes(full[: int(len(full) * 0.9)])
    reject(seeded_workspace, truncated, "tronque.csv, ligne 7 :", "le fichier semble tronqué")


def test_truncated_xlsx(seeded_workspace: Workspace, tmp_path: Path) -> None:
    full = write_xlsx(export_frame(), tmp_path / "complet.xlsx").read_bytes()
    truncated = tmp_path / "tronque.xlsx"
    truncated.write_bytes(full[: len(full) // 2])
    reject(seeded_workspace, truncated, "tronque.xlsx : classeur illisible", "tronqué")


def test_wrong_encoding(seeded_workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(export_frame(n=2).to_csv(sep=";", index=False).encode("utf-16"))
    reject(seeded_workspace, path, "utf16.csv : encodage UTF-16/UTF-32 non pris en charge")
    garbage = tmp_path / "binaire.csv"
    data = write_csv(export_frame(n=2), tmp_path / "x.csv", encoding="cp1252").read_bytes()
    garbage.write_bytes(data.replace("Châtaigniers".encode("cp1252"), b"Ch\x81taigniers"))
    reject(seeded_workspace, garbage, "binaire.csv, ligne 3 : encodage non reconnu : ni UTF-8 ni Windows-1252")


def test_xlsx_title_row_errors_name_the_real_line(seeded_workspace: Workspace, tmp_path: Path) -> None:
    frame = export_frame()
    frame.loc[2, "budget_total"] = "beaucoup"
    path = write_xlsx(frame, tmp_path / "titre.xlsx", title_rows=("Export SENACS 2024",))
    # title on line 1, blank line 2, header line 3: the third data row is line 6
    error = reject(seeded_workspace, path)
    assert [i.message() for i in error.issues] == [
        "titre.xlsx, ligne 6, colonne « budget_total » : valeur « beaucoup » — nombre attendu"
    ]


def test_many_issues_are_counted(seeded_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame["salaries"] = "beaucoup"

    error = reject(seeded_workspace, edited(tmp_path, "many.csv", edit, n=30), "30 problème(s)")
    report = error.report(limit=5)
    assert report.count("— nombre attendu") == 5 and "… et 25 autre(s) problème(s) (30 au total)." in report


# ---------------------------------------------------------------------------- idempotence, versions, archive


def test_same_file_twice_changes_nothing(national_workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(export_frame(), tmp_path / "senacs_2024.csv")
    first = import_file(national_workspace, path, YEAR)
    state = _state(national_workspace)
    again = import_file(national_workspace, path, YEAR)
    assert again.already_imported and again.version == first.version == 1
    assert "a déjà été importé pour la campagne 2024" in again.message_fr and "rien n'a changé" in again.message_fr
    assert _state(national_workspace) == state
    copy = tmp_path / "copie_renommee.csv"
    copy.write_bytes(path.read_bytes())
    assert import_file(national_workspace, copy, YEAR).already_imported


def test_new_file_same_year_makes_a_new_version(national_workspace: Workspace, tmp_path: Path) -> None:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "v1.csv"), YEAR)

    def edit(frame: pd.DataFrame) -> None:
        frame.loc[0, "budget_total"] = "300000"

    second = import_file(national_workspace, edited(tmp_path, "v2.csv", edit, n=6), YEAR)
    assert second.version == 2
    store = RawDataStore(national_workspace)
    assert store.latest_version(YEAR) == 2
    assert store.versions(YEAR)["version"].tolist() == [1, 2]
    old = store.wide(YEAR, version=1).set_index("structure_id")
    new = store.wide(YEAR).set_index("structure_id")
    assert old.loc["S1000", "budget_total"] == 250000 and new.loc["S1000", "budget_total"] == 300000
    summary = store_summary(national_workspace)
    assert [(v["year"], v["version"], v["import_file"]) for v in summary["data_versions"]] == [
        (YEAR, 1, "v1.csv"), (YEAR, 2, "v2.csv")
    ]


def test_archive_is_unchanged_read_only_and_content_addressed(national_workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(export_frame(), tmp_path / "senacs_2024.csv")
    data = path.read_bytes()
    outcome = import_file(national_workspace, path, YEAR)
    sha = hashlib.sha256(data).hexdigest()
    assert outcome.sha256 == sha
    archived = national_workspace.archive_dir / f"{sha}.csv"
    assert outcome.archived_path == archived
    assert archived.read_bytes() == data
    assert stat.S_IMODE(archived.stat().st_mode) == 0o400
    summary = store_summary(national_workspace)
    assert summary["imports"][0]["sha256"] == sha and summary["imports"][0]["file"] == "senacs_2024.csv"
    assert summary["imports"][0]["imported_by"] == "prep"
    json.dumps(summary)


def test_partial_import_keeps_valid_rows_and_writes_rejects(national_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame.loc[1, "budget_total"] = "douze"
        frame.loc[3, "part_cdi"] = "150"
        frame.loc[3, "salaries"] = "x"

    path = edited(tmp_path, "partiel.csv", edit, n=8)
    reject(national_workspace, path, "2 problème(s)")
    outcome = import_file(national_workspace, path, YEAR, partial=True)
    assert (outcome.structures, outcome.rejected_rows, outcome.version) == (6, 2, 1)
    assert outcome.rejects_path is not None and outcome.rejects_path.parent == national_workspace.archive_dir
    assert "2 ligne(s) rejetée(s)" in outcome.message_fr
    rejects = pd.read_csv(outcome.rejects_path, sep=";", dtype=str, encoding="utf-8-sig")
    assert rejects["ligne"].tolist() == ["3", "5"]
    assert rejects["id_structure"].tolist() == ["S1001", "S1003"]
    assert "colonne « budget_total » : valeur « douze » — nombre attendu" in rejects.loc[0, "motifs"]
    # the share of 150 % is no reason to drop a row (issue 21): only « x » in a number is
    motifs = rejects.loc[1, "motifs"]
    assert "valeur hors de l'intervalle" not in motifs and "nombre attendu" in motifs
    assert rejects.loc[0, "budget_total"] == "douze"  # the original cells, for correction
    wide = RawDataStore(national_workspace).wide(YEAR)
    assert "S1001" not in set(wide.structure_id) and len(wide) == 6
    summary = store_summary(national_workspace)
    assert summary["data_versions"][0]["kind"] == "partial_import"
    assert summary["imports"][0]["rejected_rows"] == 2


def test_partial_import_with_no_valid_row_is_refused(national_workspace: Workspace, tmp_path: Path) -> None:
    def edit(frame: pd.DataFrame) -> None:
        frame["budget_total"] = "douze"
        frame.loc[4, "budget_total"] = "?"

    reject(national_workspace, edited(tmp_path, "rien.csv", edit, n=5), "aucune ligne valide", partial=True)


# ---------------------------------------------------------------------------- access


def test_unauthorised_user_cannot_import(national_workspace: Workspace, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(export_frame(), tmp_path / "senacs_2024.csv")
    monkeypatch.setenv("SENACS_USER", "intrus")
    before = _state(national_workspace)
    with pytest.raises(AccessDenied, match="Accès refusé : intrus n'est ni le préparateur désigné"):
        import_file(national_workspace, path, YEAR)
    assert _state(national_workspace) == before
    last = audit_log.entries(national_workspace.audit_log_path)[-1]
    assert (last["user"], last["action"], last["territory"]) == ("intrus", "refused:import", "FR")
    monkeypatch.setenv("SENACS_USER", "ccaf")  # a committee member never touches raw data
    with pytest.raises(AccessDenied):
        import_file(national_workspace, path, YEAR)


def test_successful_import_is_audited(national_workspace: Workspace, tmp_path: Path) -> None:
    import_file(national_workspace, write_csv(export_frame(), tmp_path / "senacs_2024.csv"), YEAR)
    entry = audit_log.entries(national_workspace.audit_log_path)[-1]
    assert (entry["user"], entry["action"], entry["details"]["file"]) == ("prep", "import", "senacs_2024.csv")
    assert audit_log.verify(national_workspace.audit_log_path).entries >= 1
    assert not os.access(national_workspace.store_path, os.X_OK)


def test_partial_does_not_accept_a_file_level_problem(national_workspace: Workspace, tmp_path: Path) -> None:
    path = edited(tmp_path, "sans_commune.csv", lambda f: f.drop(columns=["code_commune"]), n=3)
    reject(national_workspace, path, "colonne obligatoire absente : « code_commune »", partial=True)  # no rejects file


def test_bad_mapping_files(national_workspace: Workspace, tmp_path: Path) -> None:
    from senacs_workbench.restricted.importing import MappingError

    path = write_csv(export_frame(n=2), tmp_path / "f.csv")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  Budget: budget_totale\n", encoding="utf-8")
    with pytest.raises(MappingError, match="« Budget » renvoie à « budget_totale », qui n'est pas une colonne"):
        import_file(national_workspace, path, YEAR, mapping=mapping)
    mapping.write_text("colonnes: {}\n", encoding="utf-8")
    with pytest.raises(MappingError, match="rubrique\\(s\\) inconnue\\(s\\) colonnes"):
        import_file(national_workspace, path, YEAR, mapping=mapping)
    assert store_summary(national_workspace)["imports"] == []
