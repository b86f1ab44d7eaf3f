"""French cell parsing (values.py) and file reading (reading.py), without a workspace."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from senacs_workbench.core.codebook import QuestionType, load_codebook
from senacs_workbench.restricted.importing.issues import ImportRejected
from senacs_workbench.restricted.importing.reading import decode_text, read_table
from senacs_workbench.restricted.importing.values import (
    ValueProblem,
    category_lookup,
    is_no_answer,
    parse_code,
    parse_date,
    parse_multiple_choice,
    parse_number,
    parse_single_choice,
    parse_yes_no,
)

AMOUNT, PERCENT, COUNT, DECIMAL = QuestionType.AMOUNT, QuestionType.PERCENT, QuestionType.COUNT, QuestionType.DECIMAL
KEYS = {"id structure", "identifiant de la structure"}


@pytest.mark.parametrize(
    ("cell", "kind", "expected"),
    [
        ("12,5", DECIMAL, 12.5),
        ("1 234 567", AMOUNT, 1234567.0),
        ("1\u00a0234\u00a0567 €", AMOUNT, 1234567.0),
        ("633\u202f817\u00a0€", AMOUNT, 633817.0),
        ("1.234.567", AMOUNT, 1234567.0),
        ("1.234,50 €", AMOUNT, 1234.5),
        ("1,234.50", AMOUNT, 1234.5),
        ("12,5 %", PERCENT, 12.5),
        ("12,5%", PERCENT, 12.5),
        ("-1 500", AMOUNT, -1500.0),
        ("\u22121 500", AMOUNT, -1500.0),
        ("42", COUNT, 42.0),
        ("3.5", DECIMAL, 3.5),
        (17.0, COUNT, 17.0),
        (17, COUNT, 17.0),
        ("250000 EUR", AMOUNT, 250000.0),
    ],
)
def test_french_numbers(cell: object, kind: QuestionType, expected: float) -> None:
    assert parse_number(cell, kind) == expected


@pytest.mark.parametrize(
    ("cell", "kind", "rule"),
    [
        ("douze", COUNT, "nombre attendu"),
        ("12,5,3", DECIMAL, "nombre attendu"),
        ("12 %", AMOUNT, "unité « % » inattendue"),
        ("300 €", PERCENT, "unité « € » inattendue"),
        (True, COUNT, "nombre attendu"),
        ("1e5", COUNT, "nombre attendu"),
    ],
)
def test_bad_numbers(cell: object, kind: QuestionType, rule: str) -> None:
    with pytest.raises(ValueProblem, match=rule):
        parse_number(cell, kind)


def test_no_answer_tokens() -> None:
    assert all(is_no_answer(c) for c in ("", "  ", "NR", "nr", "N/R", "N.R.", None, float("nan")))
    assert not is_no_answer("0") and not is_no_answer("Non")


def test_yes_no_in_any_case() -> None:
    assert [parse_yes_no(c) for c in ("Oui", "OUI", "oui ", "Non", "NON", "non", True, False, 1.0)] == [
        "oui", "oui", "oui", "non", "non", "non", "oui", "non", "oui"
    ]
    with pytest.raises(ValueProblem, match="Oui ou Non attendue"):
        parse_yes_no("Peut-être")


def test_categories_by_label_or_code_and_multiple_choice_canonical() -> None:
    codebook = load_codebook(2024)
    mode = codebook.question("mode_gestion")
    lookup = category_lookup(mode)
    assert parse_single_choice("Collectivité locale", mode, lookup) == "collectivite"
    assert parse_single_choice("COLLECTIVITE LOCALE", mode, lookup) == "collectivite"
    assert parse_single_choice("caf", mode, lookup) == "caf"
    with pytest.raises(ValueProblem, match="modalité « Mairie » inconnue"):
        parse_single_choice("Mairie", mode, lookup)
    tools = codebook.question("outils_communication")
    lookup = category_lookup(tools)
    expected = "affichage|reseaux_sociaux|site_web"
    for cell in (
        "Site internet|Réseaux sociaux|Affichage",
        "Site internet ; Réseaux sociaux ; Affichage",
        "site internet, reseaux sociaux, affichage",
        "affichage|site_web|reseaux_sociaux",
    ):
        assert parse_multiple_choice(cell, tools, lookup) == expected
    assert parse_multiple_choice("Lettre d'information", tools, lookup) == "lettre_info"
    with pytest.raises(ValueProblem, match="modalité « Pigeon voyageur » inconnue"):
        parse_multiple_choice("Site internet|Pigeon voyageur", tools, lookup)


def test_dates() -> None:
    assert parse_date("03/01/2005") == "2005-01-03"
    assert parse_date("3/1/2005") == "2005-01-03"
    assert parse_date("2005-01-03") == "2005-01-03"
    assert parse_date(dt.date(2005, 1, 3)) == "2005-01-03"
    assert parse_date(dt.datetime(2005, 1, 3, 0, 0)) == "2005-01-03"
    with pytest.raises(ValueProblem, match="date inexistante"):
        parse_date("31/02/2020")
    with pytest.raises(ValueProblem, match="date attendue"):
        parse_date("hier")


def test_codes_are_zero_padded() -> None:
    assert parse_code(1053.0, 5) == "01053"
    assert parse_code("1053", 5) == "01053"
    assert parse_code("2a004", 5) == "2A004"
    assert parse_code("1", 2) == "01"
    assert parse_code("974", 2) == "974"


# ---------------------------------------------------------------------------- reading


def test_encodings_are_detected(tmp_path: Path) -> None:
    text = "id_structure;nom_structure\r\nS1;Centre social Élan – Fédération « Œuvre » 12 €\r\n"
    for encoding, label in (("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "windows-1252")):
        path = tmp_path / f"f-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        table = read_table(path, KEYS)
        assert table.encoding == label
        assert table.frame.iat[0, 1] == "Centre social Élan – Fédération « Œuvre » 12 €"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("id_structure;nom\r\nS1;café\r\n".encode("utf-16"), "UTF-16"),
        ("id_structure;nom\r\nS1;café\r\n".encode("utf-16-le"), "encodage non reconnu"),
        (b"id_structure;nom\r\nS1;caf\x81\x8d\x8f\r\n", "ni UTF-8 ni Windows-1252"),
        ("id_structure;nom\r\nS1;Привет мир пример\r\n".encode("koi8_r"), "encodage non reconnu"),
        (b"\xef\xbb\xbfid_structure;nom\r\nS1;caf\xe9\r\n", "UTF-8 (BOM)"),
    ],
)
def test_undecodable_files_get_a_clear_message(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRejected) as info:
        read_table(path, KEYS)
    assert fragment in str(info.value)
    assert "bad.csv" in str(info.value)


def test_decode_prefers_utf8() -> None:
    assert decode_text("x.csv", "é".encode())[1] == "utf-8"


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_separator_is_sniffed(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(f'id_structure{sep}budget_total\nS1{sep}"1 234,5"\n', encoding="utf-8")
    table = read_table(path, KEYS)
    assert table.separator == sep
    assert table.columns == ["id_structure", "budget_total"]
    assert table.frame.iat[0, 1] == "1 234,5"


def test_csv_title_rows_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('Export SENACS 2024;;\n\nIdentifiant de la structure;a;b\nS1;"deux\nlignes";x\n\nS2;1;2\n')
    table = read_table(path, KEYS)
    assert table.header_line == 3
    assert table.lines.tolist() == [4, 6]  # rows as a spreadsheet shows them (the quoted cell spans 2 lines)


def test_ragged_and_truncated_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id_structure;a;b\nS1;1;2\nS2;1;2;3\nS3;1\n")
    with pytest.raises(ImportRejected) as info:
        read_table(path, KEYS)
    messages = [i.message() for i in info.value.issues]
    assert messages[0].startswith("r.csv, ligne 3 : 4 valeur(s) au lieu de 3")
    assert "ligne 4" in messages[1] and "tronqué" in messages[1]
    path.write_text('id_structure;a;b\nS1;1;"2\n')
    with pytest.raises(ImportRejected, match="guillemet non refermé ou fichier tronqué"):
        read_table(path, KEYS)


def test_empty_files(tmp_path: Path) -> None:
    for name, data in (("vide.csv", b""), ("blanc.csv", b"  \r\n\r\n"), ("vide.xlsx", b"")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ImportRejected, match=re.escape(f"{name} : le fichier est vide")):
            read_table(path, KEYS)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if cell is not None:
                    sheet.write(i, j, cell)
    workbook.close()
    return path


def test_xlsx_sheet_choice_title_rows_and_native_cells(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "classeur.xlsx", {
        "Notice": [["Lisez-moi"]],
        "Export SENACS": [
            ["Export SENACS — campagne 2024"],
            [],
            [None, "Identifiant de la structure", "budget_total", "adherent_federation"],
            [None, "S1", 1234.5, True],
            [],
            [None, "S2", 10, False],
        ],
    })
    table = read_table(path, KEYS)
    assert table.kind == "xlsx" and table.header_line == 3
    assert table.columns == ["", "Identifiant de la structure", "budget_total", "adherent_federation"]
    assert table.lines.tolist() == [4, 6]
    assert table.frame.iat[0, 2] == 1234.5 and table.frame.iat[0, 3] is True
    other = _workbook(tmp_path / "autre.xlsx", {"Feuil1": [["id_structure"], ["S1"]], "Feuil2": [["x"]]})
    table = read_table(other, KEYS)
    assert table.frame.iat[0, 0] == "S1" and "feuille lue : « Feuil1 »" in table.notes[0]


def test_xlsx_problems(tmp_path: Path) -> None:
    empty = _workbook(tmp_path / "vide.xlsx", {"Export SENACS": []})
    with pytest.raises(ImportRejected, match=re.escape("vide.xlsx : la feuille « Export SENACS » est vide")):
        read_table(empty, KEYS)
    stray = _workbook(tmp_path / "debord.xlsx", {"Export SENACS": [["id_structure", "a"], ["S1", 1, "perdu"]]})
    expected = "debord.xlsx, ligne 2 : valeur « perdu » — valeur située à droite"
    with pytest.raises(ImportRejected, match=re.escape(expected)):
        read_table(stray, KEYS)
    not_a_workbook = tmp_path / "faux.xlsx"
    not_a_workbook.write_bytes(b"id_structure;a\nS1;2\n")
    with pytest.raises(ImportRejected, match=re.escape("faux.xlsx : classeur illisible")):
        read_table(not_a_workbook, KEYS)
