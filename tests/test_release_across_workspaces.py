"""One ledger across workspaces (issue 16, leak 3; attack A18): national, régional and départemental
releases of the same answers, read side by side.

The same synthetic answers (2025, scale 0.3) are imported into a national workspace, the
Nouvelle-Aquitaine (75) workspace and the Dordogne (24) workspace (each with its own rows).
Two publication orders are run, each with ``senacs compare add`` between the steps:

- national first: national → compare add into the région and the département → their releases;
- département first: Dordogne → compare add into the région → région → compare add of both
  into the national workspace → national release.

In both, every cell two releases hold has the same status and value, and the union of the
releases (a cell is known when any release publishes it) passes the engine's audit with the
national protection levels. A correction made in the département after the national release
withholds the corrected question only, with a French message naming the cell and the release.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.core.governance import dump_governance
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.demo.governance import DEMO_DEPARTEMENT, DEMO_REGION, demo_governance
from senacs_workbench.demo.synthetic import export
from senacs_workbench.demo.synthetic.generator import generate_frames
from senacs_workbench.disclosure.audit import audit
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.ledger import KEY_COLUMNS
from senacs_workbench.disclosure.protect import protect
from senacs_workbench.disclosure.rules import load_rules
from senacs_workbench.released.published import PublishedReader
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import approve, draft_dir
from senacs_workbench.restricted.publication.comparisons import add_comparison
from senacs_workbench.restricted.publication.publish import LEVELS_OF_WORKSPACE, microdata, publish_year
from senacs_workbench.restricted.store import RawDataStore
from senacs_workbench.trust.demo_keys import adopt_demo_governance

YEAR = 2025
SCALE = 0.3
QUESTIONS = ("budget_total", "enfants_accompagnes", "financement_caf", "actions_numerique")
DEP, REG = DEMO_DEPARTEMENT, DEMO_REGION
APPROVERS = {"FR": ("caf.demo", "federation.demo"), "dep": (f"caf.{DEP}", f"federation.{DEP}"),
             "reg": ("caf.16", "federation.16")}
KEYS = list(KEY_COLUMNS)


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    """The export of one synthetic campaign (text cells, as written to the CSV)."""
    return generate_frames([YEAR], scale=SCALE)[YEAR].export_frame()


@pytest.fixture(scope="module")
def user() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("SENACS_USER", "prep")
    yield
    mp.undo()


def make_workspace(root: Path, kind: str, answers: pd.DataFrame) -> Workspace:
    """A workspace of ``kind`` (``FR``, ``reg``, ``dep``) holding its own rows of ``answers``."""
    territory = {"FR": "FR", "reg": f"region:{REG}", "dep": f"departement:{DEP}"}[kind]
    rows = {"FR": answers, "reg": answers[answers["departement"].isin(geo.departements_of(REG))],
            "dep": answers[answers["departement"] == DEP]}[kind]
    workspace = init_workspace(root / kind, territory=territory)
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    path = root / f"{kind}.csv"
    export.write_csv(rows, path)
    import_file(workspace, path, YEAR)
    return workspace


def publish_and_release(workspace: Workspace, kind: str) -> str:
    """Publish the draft (the question subset), have the committee approve it; the French message."""
    outcome = publish_year(workspace, YEAR, only=QUESTIONS, workers=1)
    for approver in APPROVERS[kind]:
        approve(workspace, YEAR, user=approver)
    return outcome.message_fr


def released(workspace: Workspace) -> pd.DataFrame:
    return PublishedReader(workspace.published).table(YEAR)


@dataclass
class Releases:
    national: Workspace
    region: Workspace
    departement: Workspace
    messages: dict[str, str]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"FR": released(self.national), "reg": released(self.region), "dep": released(self.departement)}


@pytest.fixture(scope="module")
def national_first(tmp_path_factory: pytest.TempPathFactory, answers: pd.DataFrame, user: None) -> Releases:
    root = tmp_path_factory.mktemp("national_first")
    national, region, departement = (make_workspace(root, k, answers) for k in ("FR", "reg", "dep"))
    messages = {"FR": publish_and_release(national, "FR")}
    for kind, workspace in (("dep", departement), ("reg", region)):
        assert add_comparison(workspace, national.published)[0].startswith(f"FR {YEAR} : ajouté pour comparaison")
        messages[kind] = publish_and_release(workspace, kind)
    return Releases(national, region, departement, messages)


@pytest.fixture(scope="module")
def departement_first(tmp_path_factory: pytest.TempPathFactory, answers: pd.DataFrame, user: None) -> Releases:
    root = tmp_path_factory.mktemp("departement_first")
    national, region, departement = (make_workspace(root, k, answers) for k in ("FR", "reg", "dep"))
    messages = {"dep": publish_and_release(departement, "dep")}
    add_comparison(region, departement.published)
    messages["reg"] = publish_and_release(region, "reg")
    # a national workspace accepts a département's (and a région's) released folder
    assert add_comparison(national, departement.published) == [
        f"departement-{DEP} {YEAR} : ajouté pour comparaison "
        f"({national.published}/comparisons/departement-{DEP}/{YEAR}/v1)."]
    assert add_comparison(national, region.published)[0].startswith(f"region-{REG} {YEAR} : ajouté")
    messages["FR"] = publish_and_release(national, "FR")
    return Releases(national, region, departement, messages)


def disagreements(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Cells both tables hold with another status, ``n`` or published value."""
    both = first.merge(second, on=KEYS, suffixes=("_1", "_2"))
    assert len(both), "the two releases hold no common cell"
    v1, v2 = both["value_1"].to_numpy(dtype=float), both["value_2"].to_numpy(dtype=float)
    same_value = np.isclose(v1, v2, rtol=1e-9, atol=1e-9) | (np.isnan(v1) & np.isnan(v2))
    differs = (both["status_1"] != both["status_2"]) | (both["n_1"] != both["n_2"]) | ~same_value
    return both.loc[differs, [*KEYS, "value_1", "value_2", "status_1", "status_2"]]


def assert_same_cells(releases: Releases) -> None:
    tables = releases.tables()
    for kind in ("dep", "reg"):
        assert set(tables[kind]["variable"]) == set(QUESTIONS), releases.messages[kind]
    # every pair of releases agrees on the cells both hold (the Dordogne's cells are in all three)
    for a, b in (("FR", "dep"), ("FR", "reg"), ("reg", "dep")):
        bad = disagreements(tables[a], tables[b])
        assert bad.empty, f"{a} / {b}:\n{bad.head(20).to_string()}"
    dordogne = tables["dep"]
    assert (dordogne["status"] != "V").any() and (dordogne["status"] == "V").any()


def test_national_first_the_region_and_the_departement_publish_the_national_cells_as_released(
        national_first: Releases) -> None:
    assert_same_cells(national_first)


def test_departement_first_the_region_and_the_nation_keep_the_departement_cells_as_released(
        departement_first: Releases) -> None:
    assert_same_cells(departement_first)
    manifest = json.loads((national_first_manifest(departement_first.national)).read_text(encoding="utf-8"))
    assert any(r.startswith(f"departement-{DEP}/{YEAR}/v1:") for r in manifest["audit"]["compared_releases"])
    # re-publishing with the same comparisons changes nothing; nothing is withheld
    assert "rien n'a changé" in publish_year(departement_first.national, YEAR, only=QUESTIONS, workers=1).message_fr
    assert "withheld_variables" not in manifest["audit"]


def national_first_manifest(workspace: Workspace) -> Path:
    return PublishedReader(workspace.published).bundle(YEAR).folder / "manifest.json"


def union_problems(releases: Releases) -> dict[str, int]:
    """A18: the union of the three releases (a cell is known when any of them publishes it),
    with true values and the national protection levels, audited by the engine's audit.
    Returns the number of problems per question (empty: every question passes)."""
    tables = releases.tables()
    union = pd.concat(tables.values(), ignore_index=True)
    union["published"] = union["status"] == "V"
    known = union.groupby(KEYS, sort=False)["published"].any()
    wide = RawDataStore(releases.national, "prep").wide(YEAR, "FR", variables=[*BREAKDOWNS, *QUESTIONS])
    codebook = load_codebook(YEAR)
    problems: dict[str, int] = {}
    for variable in QUESTIONS:
        question = codebook.question(variable)
        result = protect(microdata(wide, question), question, YEAR,
                         spec=ReleaseSpec(levels=LEVELS_OF_WORKSPACE["national"]))
        cells = result.cells.copy()
        published = known.reindex(pd.MultiIndex.from_frame(cells[KEYS])).fillna(False).to_numpy(dtype=bool)
        cells["status"] = np.where(published, "V", np.where(cells["status"] == "V", "D", cells["status"]))
        report = audit(cells, result.protection, rules=load_rules())
        if not report.ok:
            problems[variable] = len(report.problems)
    return problems


def test_a18_the_union_of_the_releases_passes_the_audit_national_first(national_first: Releases) -> None:
    assert union_problems(national_first) == {}


def test_a18_the_union_of_the_releases_passes_the_audit_departement_first(departement_first: Releases) -> None:
    assert union_problems(departement_first) == {}


def test_a_correction_in_the_departement_withholds_that_question_only(
        national_first: Releases, tmp_path: Path, answers: pd.DataFrame, user: None) -> None:
    from senacs_workbench.restricted.coherence.commands import correct

    national = released(national_first.national)
    departement = make_workspace(tmp_path, "dep", answers)
    add_comparison(departement, national_first.national.published)
    # a budget in a Dordogne cell the national release published: corrected here only
    cells = national.query("variable == 'budget_total' and statistic == 'sum' and level == 'departement' "
                           "and territory == @DEP and status == 'V'")
    assert len(cells)
    cell = cells.sort_values("breakdown").iloc[0]
    wide = RawDataStore(departement, "prep").wide(YEAR, f"departement:{DEP}", variables=[*BREAKDOWNS, "budget_total"])
    inside = wide["budget_total"].notna()
    if cell["breakdown"]:
        inside &= wide[cell["breakdown"]].astype(str) == cell["category"]
    row = wide[inside].iloc[0]
    correct(departement, str(row["structure_id"]), "budget_total", str(int(row["budget_total"]) + 5000),
            why="test : budget corrigé dans le département seulement", year=YEAR)

    outcome = publish_year(departement, YEAR, only=QUESTIONS, workers=1)
    assert outcome.changed and outcome.audit["withheld_variables"] == ["budget_total"]
    message = outcome.message_fr
    assert "non publiée(s) faute de protection garantie : budget_total" in message
    assert "Question « budget_total » non publiée : la case département Dordogne (24)" in message
    assert f"jeu de tableaux national de la campagne {YEAR} (v1)" in message
    manifest = json.loads((draft_dir(departement, YEAR) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["withheld_variables"] == ["budget_total"]
    bundle = pd.read_parquet(draft_dir(departement, YEAR) / f"senacs_{YEAR}.parquet")
    assert set(bundle["variable"]) == set(QUESTIONS) - {"budget_total"}
    # what is published agrees with the national release
    assert disagreements(national, bundle).empty
    assert str(int(row["budget_total"]) + 5000) not in message  # no confidential value in the message


def test_a_comparison_added_later_makes_the_next_publish_run_again(national_first: Releases, tmp_path: Path,
                                                                     answers: pd.DataFrame, user: None) -> None:
    departement = make_workspace(tmp_path, "dep", answers)
    publish_year(departement, YEAR, only=QUESTIONS, workers=1)
    again = publish_year(departement, YEAR, only=QUESTIONS, workers=1)
    assert not again.changed
    add_comparison(departement, national_first.national.published)
    after = publish_year(departement, YEAR, only=QUESTIONS, workers=1)
    assert after.changed
    bundle = pd.read_parquet(draft_dir(departement, YEAR) / f"senacs_{YEAR}.parquet")
    assert disagreements(released(national_first.national), bundle).empty


def _cell(level: str, territory: str, value: float, status: str, n: int = 5, statistic: str = "sum") -> dict:
    return {"year": YEAR, "variable": "budget_total", "statistic": statistic, "answer": "", "level": level,
            "territory": territory, "breakdown": "", "category": "", "value": value, "n": n, "status": status}


def test_the_cells_a_release_holds_and_the_check_against_another_release() -> None:
    from senacs_workbench.restricted.publication.compared import in_scope, mismatch

    cells = pd.DataFrame([_cell("national", "FR", 10.0, "V"), _cell("region", REG, 6.0, "V"),
                          _cell("region", "11", 4.0, "V"), _cell("departement", DEP, 1.0, "D"),
                          _cell("departement", "33", 5.0, "V"), _cell("departement", "75", 4.0, "V")])
    region = geo.parse_territory(f"region:{REG}")
    assert in_scope(cells, region, LEVELS_OF_WORKSPACE["region"]).tolist() == [False, True, False, True, True, False]
    dordogne = geo.parse_territory(f"departement:{DEP}")
    assert in_scope(cells, dordogne, LEVELS_OF_WORKSPACE["departement"]).tolist() == [False] * 3 + [True, False, False]

    there = cells.assign(source="FR", source_year=YEAR, folder="v1", bundle_hash="h", release=-1)
    there.loc[there["status"] != "V", "value"] = np.nan
    assert mismatch("budget_total", cells, there) is None
    assert mismatch("budget_total", cells.assign(value=cells["value"] * (1 + 1e-12)), there) is None
    published_here = cells.assign(status="V")
    assert "est masquée dans le jeu de tableaux national de la campagne 2025 (v1) et serait publiée ici" in (
        mismatch("budget_total", published_here, there) or "")
    corrected = cells.copy()
    corrected.loc[corrected["territory"] == "33", "value"] = 5.5
    message = mismatch("budget_total", corrected, there) or ""
    assert "la case département Gironde (33), somme est déjà publiée dans le jeu de tableaux national" in message
    assert "5,5" not in message and "5.5" not in message
    late = cells.copy()
    late.loc[late["territory"] == DEP, "n"] = 6  # a late questionnaire in a suppressed cell: its n is public
    assert "département Dordogne (24), somme" in (mismatch("budget_total", late, there) or "")
    # the source's revision v2 (a public change) is what a new release must match
    revised = there.assign(folder="v2", release=0)
    revised.loc[revised["territory"] == "33", "value"] = 5.5
    assert mismatch("budget_total", corrected, pd.concat([there, revised], ignore_index=True)) is None
