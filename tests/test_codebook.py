from __future__ import annotations

import pandas as pd
import pytest

from senacs_workbench.core.codebook import BREAKDOWNS, QuestionType, available_years, load_codebook

EXPECTED_SECTIONS = {"identite", "publics", "actions", "participation", "benevolat", "partenariats", "emploi",
                     "finances", "fonctionnement", "theme"}


def test_codebook_covers_2019_to_2025_with_about_a_hundred_questions() -> None:
    assert available_years() == tuple(range(2019, 2026))
    for year in available_years():
        codebook = load_codebook(year)
        assert 85 <= len(codebook.questions) <= 110
        assert len(set(codebook.question_ids)) == len(codebook.questions)
        assert {q.section for q in codebook.questions} >= EXPECTED_SECTIONS
        assert codebook.theme_questions, year


def test_theme_block_changes_every_year_and_core_is_versioned() -> None:
    themes = [load_codebook(y).theme_id for y in available_years()]
    assert len(set(themes)) == len(themes)
    assert "actions_environnement" not in load_codebook(2020)
    assert "actions_environnement" in load_codebook(2021)


def test_every_question_is_documented_and_typed_consistently() -> None:
    for year in available_years():
        for q in load_codebook(year).questions:
            assert q.label and len(q.help) > 15, q.id
            if q.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
                assert len(q.categories) >= 2, q.id
            if q.type.is_numeric:
                assert q.minimum is not None and q.maximum is not None, q.id
            if q.section == "identite":
                assert q.public, q.id


def test_breakdowns_are_required_public_identity_questions() -> None:
    codebook = load_codebook(2024)
    for breakdown in BREAKDOWNS:
        question = codebook.question(breakdown)
        assert question.public and question.required and question.type is QuestionType.SINGLE_CHOICE


def test_unknown_year_and_question_give_french_errors() -> None:
    with pytest.raises(ValueError, match="Aucun questionnaire pour la campagne 2010"):
        load_codebook(2010)
    with pytest.raises(KeyError, match="n'existe pas"):
        load_codebook(2024).question("inexistante")


def test_a_respondent_answered_a_question_outside_the_identity_block() -> None:
    codebook = load_codebook(2024)
    identity = [q.id for q in codebook.questions if q.is_identity]
    content = codebook.respondent_questions
    assert "type_structure" in identity and "type_structure" not in content
    assert "budget_total" in content
    frame = pd.DataFrame({
        "type_structure": ["CS", "CS", "EVS"],
        "mode_gestion": ["associatif", None, "caf"],
        "budget_total": [None, 1000.0, None],
    })
    assert codebook.respondents(frame).tolist() == [False, True, False]
    assert codebook.respondents(frame[identity[:1]]).tolist() == [False, False, False]
