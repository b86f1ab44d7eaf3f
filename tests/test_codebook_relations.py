"""The relations between questions that the codebook declares: they hold for the centres,
and the coherence rules take their questions and thresholds from them (one declaration)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from senacs_workbench.core.codebook import Relation, RelationKind, declared_relations, load_codebook
from senacs_workbench.demo.synthetic.generator import generate_frames
from senacs_workbench.restricted.coherence.rules import RuleCatalogueError, load_catalogue, parse_catalogue


def _gap(relation: Relation, data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per centre answering every question of the relation: how far it is off, and its tolerance."""
    values = data[list(relation.questions)].apply(pd.to_numeric, errors="coerce").dropna()
    parts = values[list(relation.parts)].sum(axis=1)
    if relation.kind is RelationKind.SUM_TO_TOTAL:
        reference = values[relation.total]
        gap = (parts - reference).abs()
    elif relation.kind is RelationKind.SUM_TO_CONSTANT:
        reference = pd.Series(float(relation.constant or 0.0), index=values.index)
        gap = (parts - reference).abs()
    else:
        reference = values[relation.bound]
        gap = (parts - reference).clip(lower=0.0)
    tolerance = reference.map(relation.tolerance)
    return gap, tolerance


def test_every_declared_relation_holds_for_the_centres_without_a_planted_incoherence() -> None:
    year = generate_frames([2025], scale=0.2)[2025]
    planted = set(year.ground_truth["id_structure"].astype(str))
    clean = year.data[~year.data["id_structure"].astype(str).isin(planted)]
    relations = load_codebook(2025).relations
    assert {r.kind for r in relations} == set(RelationKind)
    for relation in relations:
        gap, tolerance = _gap(relation, clean)
        assert len(gap) > 100, relation.id
        off = gap > tolerance + 1e-9
        assert not off.any(), (relation.id, clean.loc[off[off].index, list(relation.questions)].head())
        if relation.kind is RelationKind.SUM_TO_TOTAL:
            # an identity, not a loose bound: most centres meet it exactly (attack A16's premise)
            assert float(np.mean(gap.to_numpy() == 0.0)) > 0.5, relation.id


def test_a_year_keeps_only_the_relations_whose_questions_it_asks() -> None:
    for relation in declared_relations():
        for year in (2019, 2025):
            codebook = load_codebook(year)
            present = all(q in codebook for q in relation.questions)
            assert (relation in codebook.relations) == present


def test_coherence_rules_read_their_thresholds_from_the_declared_relation() -> None:
    catalogue = load_catalogue()
    by_relation = {
        "financements_total_budget": catalogue.rule("financements_total_budget"),
        "tranches_age_total": catalogue.rule("tranches_age_total"),
        "etp_au_plus_salaries": catalogue.rule("etp_superieur_salaries"),
    }
    declared = {r.id: r for r in declared_relations()}
    budget = declared["financements_total_budget"]
    assert by_relation["financements_total_budget"].questions == budget.questions
    assert by_relation["financements_total_budget"].params["relative_tolerance"] == budget.relative_tolerance
    assert by_relation["tranches_age_total"].params["target"] == declared["tranches_age_total"].constant
    assert by_relation["etp_au_plus_salaries"].params["left"] == "etp"
    assert by_relation["etp_au_plus_salaries"].params["right"] == "salaries"


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"relation": "financements_total_budget", "kind": "sum_to_total",
          "params": {"relative_tolerance": 0.5}}, "viennent de la relation"),
        ({"relation": "etp_au_plus_salaries", "kind": "sum_to_total"}, "se contrôle par « compare »"),
        ({"relation": "inconnue", "kind": "compare"}, "Relation inconnue"),
    ],
)
def test_a_rule_cannot_restate_or_misread_a_relation(item: dict[str, object], words: str) -> None:
    raw = {"rules": [{"id": "r", "severity": "warning", "label": "l", "message": "m", "question": "q", **item}]}
    with pytest.raises(RuleCatalogueError, match=words):
        parse_catalogue(raw)
