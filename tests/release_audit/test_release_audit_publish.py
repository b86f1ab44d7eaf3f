"""The publish gate withholds a question that leaks through a declared relation (issue 16, A16).

A small national year is generated, then concentrated in one département (Creuse) with
consistent budgets (budget = Σ sources) and one centre holding nearly all the intercommunal
funding. An engine protecting each question apart (as it did before linked questions, simulated
here by declaring no linked relation to it) hides the intercommunal totals and publishes the
budget and the seven other sources, so the hidden total is their difference: the gate must
withhold it (before the union audit was wired into ``publish_year`` this draft was written as
is). The engine as released protects the nine questions together: nothing to withhold, and the
union audit passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.release_audit import audit_union
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import draft_dir
from senacs_workbench.restricted.publication.publish import publish_year
from senacs_workbench.restricted.store import RawDataStore

YEAR = 2025
SOURCES = ["financement_caf", "financement_communes", "financement_interco", "financement_departement",
           "financement_region", "financement_etat", "financement_usagers", "financement_autres"]
BUDGET = ["budget_total", *SOURCES]
LEAKING = "financement_interco"


def concentrated_export(tmp_path: Path) -> Path:
    source = next(p for p in generate([YEAR], tmp_path / "incoming", seed=11, scale=0.02)
                  if p.name == f"senacs_{YEAR}.csv")
    frame = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame[(frame["personnes_touchees"] != "") & (frame["salaries"] != "")].head(24).copy()
    communes = geo.communes()
    frame["code_commune"] = communes.loc[communes["departement"] == "23", "code"].iloc[0]
    frame["departement"] = "23"
    for i, column in enumerate(SOURCES):
        frame[column] = [str(20000 + 1000 * i + 137 * k) for k in range(len(frame))]
    frame[LEAKING] = ["400000"] + ["0"] * (len(frame) - 1)
    frame["budget_total"] = frame[SOURCES].astype(int).sum(axis=1).astype(str)
    target = tmp_path / f"senacs_{YEAR}.csv"
    frame.to_csv(target, sep=";", index=False, encoding="utf-8-sig")
    return target


@pytest.fixture
def concentrated(national_workspace: Workspace, tmp_path: Path) -> Workspace:
    import_file(national_workspace, concentrated_export(tmp_path), YEAR)
    return national_workspace


def test_publish_withholds_and_names_a_question_recovered_through_the_budget_relation(
        concentrated: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from senacs_workbench.disclosure import linked

    monkeypatch.setattr(linked, "linked_groups", lambda relations, questions: [])  # the engine of before
    outcome = publish_year(concentrated, YEAR, workers=1, only=BUDGET)
    folder = draft_dir(concentrated, YEAR)
    bundle = pd.read_parquet(folder / f"senacs_{YEAR}.parquet")
    assert LEAKING not in set(bundle["variable"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert LEAKING in manifest["audit"]["withheld_variables"]
    assert LEAKING in manifest["audit"]["union_withheld_variables"]
    assert LEAKING in outcome.message_fr and "faute de protection garantie" in outcome.message_fr
    # What is published passes the union audit.
    store = RawDataStore(concentrated, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[*BREAKDOWNS, *BUDGET])
    assert audit_union([bundle], wide, load_codebook(YEAR)).ok


def test_the_engine_protects_the_budget_and_its_sources_together_nothing_withheld(concentrated: Workspace) -> None:
    publish_year(concentrated, YEAR, workers=1, only=BUDGET)
    folder = draft_dir(concentrated, YEAR)
    bundle = pd.read_parquet(folder / f"senacs_{YEAR}.parquet")
    assert set(BUDGET) <= set(bundle["variable"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert not manifest["audit"].get("union_withheld_variables")
    store = RawDataStore(concentrated, "prep")
    wide = store.wide(YEAR, "FR", store.latest_version(YEAR), variables=[*BREAKDOWNS, *BUDGET])
    assert audit_union([bundle], wide, load_codebook(YEAR)).ok
