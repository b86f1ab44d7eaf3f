"""Infra-départemental views (issue 9): the authorised bundle, its joint protection, the notebook, its audience.

One national synthetic year (scale 0.3) is imported; the committee bundle of a few questions is
published and approved; then the Val-d'Oise (95) gets its EPCI and commune views. The
Val-d'Oise has EPCI straddling other départements (Roissy Pays de France with Seine-et-Marne,
the Métropole du Grand Paris…), which hold structures in the synthetic data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm
import pytest
import scipy.sparse as sp
import yaml
from scipy.optimize import linprog
from workspace_support import national_workspace_at

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, load_codebook
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.synthetic import generate
from senacs_workbench.released.published import PublishedReader
from senacs_workbench.restricted.authorised_reader import read_infra_tables
from senacs_workbench.restricted.campaign.runner import run_campaign
from senacs_workbench.restricted.campaign.spec import CampaignError
from senacs_workbench.restricted.intake import import_file
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.authorised import INFRA_QUESTIONS, publish_authorised
from senacs_workbench.restricted.publication.bundle_writer import PublicationRefused
from senacs_workbench.restricted.publication.publish import microdata, publish_year
from senacs_workbench.restricted.store import RawDataStore
from senacs_workbench.trust.access import RAW_ACTIONS
from senacs_workbench.trust.audit_log import entries

REPO = Path(__file__).resolve().parents[1]
YEAR = 2025
DEP = "95"
ATTACKED = ("budget_total", "salaries", "personnes_touchees", "actions_jeunesse")
DEPARTEMENT_GOVERNANCE = [
    {"territory": "95",
     "committee": [{"user": "caf95", "name": "Dominique Caf", "institution": "caf"},
                   {"user": "fed95", "name": "Sacha Fédé", "institution": "federation"}],
     "preparer": {"user": "prep95", "name": "Lou Préparateur", "designated_on": "2025-01-20",
                  "designated_by": ["caf95", "fed95"]},
     "correspondents": [{"user": "corr95", "name": "Claude Correspondant", "institution": "caf"}]},
    {"territory": "24",
     "committee": [{"user": "caf24", "name": "Alex Caf", "institution": "caf"},
                   {"user": "fed24", "name": "Robin Fédé", "institution": "federation"}],
     "preparer": {"user": "prep24", "name": "Sam Préparatrice", "designated_on": "2025-01-20",
                  "designated_by": ["caf24", "fed24"]},
     "correspondents": [{"user": "corr24", "name": "Camille Correspondante", "institution": "federation"}]},
]


@pytest.fixture(scope="module")
def infra_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    mp = pytest.MonkeyPatch()
    mp.setenv("SENACS_USER", "prep")
    root = tmp_path_factory.mktemp("infra")
    workspace = national_workspace_at(root / "ws", DEPARTEMENT_GOVERNANCE)
    paths = generate([YEAR], root / "incoming", scale=0.3)
    csv = next(p for p in paths if p.name == f"senacs_{YEAR}.csv")
    import_file(workspace, csv, YEAR)
    with pytest.raises(PublicationRefused, match="Publiez d'abord"):
        publish_authorised(workspace, YEAR, DEP)
    publish_year(workspace, YEAR, only=[*BREAKDOWNS, *INFRA_QUESTIONS])
    approve(workspace, YEAR, user="ccaf")
    approve(workspace, YEAR, user="ffed")
    logged = len(entries(workspace.audit_log_path))
    outcome = publish_authorised(workspace, YEAR, DEP)
    assert outcome.changed and not outcome.withheld, outcome.message_fr
    # one authorised raw-data session (issue 19): one access, for the workspace's whole territory
    accesses = [(e["action"], e["territory"]) for e in entries(workspace.audit_log_path)[logged:]
                if e["action"] in RAW_ACTIONS]
    assert accesses == [("publish", "FR")]
    yield workspace
    mp.undo()


def test_the_authorised_bundle_stays_in_the_restricted_zone(infra_workspace: Workspace) -> None:
    workspace = infra_workspace
    folders = list((workspace.restricted / "authorised" / str(YEAR) / DEP).glob("v*"))
    assert [f.name for f in folders] == ["v1"]
    bundle = pd.read_parquet(folders[0] / f"senacs_{YEAR}.parquet")
    assert set(bundle["level"]) <= {"epci", "commune"} and (bundle["level"] == "epci").any()
    assert bundle.loc[bundle["status"] != "V", "value"].isna().all()
    # nothing infra-départemental anywhere in the published zone
    for parquet in workspace.published.rglob("*.parquet"):
        assert not pd.read_parquet(parquet, columns=["level"])["level"].isin(["epci", "commune"]).any(), parquet
    # the straddling EPCI are there, whole (their structures outside the Val-d'Oise counted)
    tables = read_infra_tables(workspace, YEAR, DEP)
    links = geo.epci_departements()
    spans = links.groupby("epci")["departement"].nunique()
    straddling = [e for e in tables.epcis if spans.get(e, 1) > 1]
    assert straddling
    wide = RawDataStore(workspace).wide(YEAR, "FR", variables=["type_structure"])
    whole = tables.cells.query("level == 'epci' and statistic == 'structures' and variable == 'budget_total'")
    counts = whole.set_index("territory")["value"]
    for epci in straddling:
        assert counts[epci] == (wide["epci"] == epci).sum()
    assert (wide.loc[wide["epci"].isin(straddling), "departement"] != DEP).any()
    # the release is in the audit log and the ledger knows it (a later committee release is joint with it)
    assert "publish_authorised" in [e["action"] for e in entries(workspace.audit_log_path)]
    again = publish_authorised(workspace, YEAR, DEP)
    assert not again.changed and "rien n'a changé" in again.message_fr


def test_only_the_preparer_and_the_departements_correspondents_may_read_it(infra_workspace: Workspace) -> None:
    assert read_infra_tables(infra_workspace, YEAR, DEP, user="corr95").epcis
    for outsider in ("corr24", "caf95", "ccaf"):
        with pytest.raises(AccessDenied, match="Accès refusé"):
            read_infra_tables(infra_workspace, YEAR, DEP, user=outsider)
    refused = [e for e in entries(infra_workspace.audit_log_path) if e["action"] == "refused:read_authorised"]
    assert {e["user"] for e in refused} >= {"corr24", "caf95", "ccaf"}
    # nor produce them (not even learn whether they exist)
    with pytest.raises(AccessDenied, match="préparer une publication"):
        publish_authorised(infra_workspace, YEAR, DEP, user="caf95")


def _attack_one(workspace: Workspace, variable: str, infra: pd.DataFrame, committee: pd.DataFrame) -> list[str]:
    """An LP attacker who knows every structure's public identity (département, EPCI, commune,
    breakdown categories) and who answered, and every published cell (committee + EPCI/commune):
    min and max of every suppressed cell. Returns the suppressed cells it pins exactly."""
    question = load_codebook(YEAR).question(variable)
    wide = RawDataStore(workspace).wide(YEAR, "FR", variables=[*BREAKDOWNS, variable])
    micro = microdata(wide, question)
    answered = micro["value"].notna().to_numpy()
    rows = micro[answered].reset_index(drop=True)
    counts = not question.type.is_numeric
    if counts:
        truth = (rows["value"].astype(str) == "oui").astype(float).to_numpy()
        cells_of = {"count", "share"}
    else:
        truth = rows["value"].astype(float).to_numpy()
        cells_of = {"sum", "mean"}
    cells = pd.concat([committee, infra], ignore_index=True)
    cells = cells[(cells["variable"] == variable) & cells["statistic"].isin(cells_of)
                  & (cells["answer"].isin(["", "oui"]))]
    membership: dict[tuple[str, str, str, str], np.ndarray] = {}

    def members(level: str, territory: str, breakdown: str, category: str) -> np.ndarray:
        key = (level, territory, breakdown, category)
        if key not in membership:
            mask = np.ones(len(rows), dtype=bool) if level == "national" else \
                (rows[level].astype("string").fillna("") == territory).to_numpy()
            if breakdown:
                cat = rows[breakdown].astype("string").fillna("non_renseigne").to_numpy()
                mask &= cat == category
            membership[key] = mask
        return membership[key]

    published_rows, rhs, suppressed = [], [], []
    for cell in cells.itertuples(index=False):
        mask = members(cell.level, cell.territory, cell.breakdown, cell.category)
        total_of = float(cell.value) * (int(cell.n) if cell.statistic in ("mean", "share") else 1)
        if cell.status == "V":
            if math.isnan(total_of):
                continue  # a mean or share of no respondent: nothing published
            published_rows.append(mask)
            rhs.append(total_of)
        elif cell.statistic in ("sum", "count") and (
                cell.level in ("epci", "commune") or cell.territory in (DEP, "11")):
            suppressed.append((cell, mask))
    a_eq = sp.csr_matrix(np.array(published_rows, dtype=float))
    upper = 1.0 if counts else None
    bounds = [(0.0, upper)] * len(rows)
    exact: list[str] = []
    scale = max(1.0, float(np.abs(truth).max()))
    for cell, mask in suppressed:
        objective = mask.astype(float)
        low = linprog(objective, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0, (cell, low.message, high.message)
        lo, hi = low.fun, -high.fun
        true_value = float(truth[mask].sum())
        assert lo - 1e-6 * scale <= true_value <= hi + 1e-6 * scale
        pinned = (math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) < 1) if counts else (hi - lo < 1e-6 * scale)
        if pinned:
            exact.append(f"{cell.level} {cell.territory} {cell.breakdown}={cell.category} {cell.statistic}: "
                         f"[{lo}, {hi}] = {true_value}")
    return exact


def test_an_lp_attack_on_epci_and_released_cells_recovers_no_suppressed_value(infra_workspace: Workspace) -> None:
    tables = read_infra_tables(infra_workspace, YEAR, DEP)
    committee = PublishedReader(infra_workspace.published).table(YEAR)
    attacked = 0
    for variable in ATTACKED:
        infra = tables.cells[tables.cells["variable"] == variable]
        assert (infra["status"] != "V").any() or variable == "actions_jeunesse"
        attacked += int((infra["status"] != "V").sum())
        assert _attack_one(infra_workspace, variable, infra, committee) == []
    assert attacked > 0


def test_the_notebook_runs_on_its_own_for_a_departement_with_straddling_epci(
        infra_workspace: Workspace, tmp_path: Path) -> None:
    output = tmp_path / "infra.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "infra_departemental.ipynb"), str(output),
        parameters={"departement": DEP, "year": YEAR, "workspace_dir": str(infra_workspace.root),
                    "output_dir": str(tmp_path)},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    figures = yaml.safe_load((tmp_path / "key_figures.json").read_text(encoding="utf-8"))
    assert figures["audience"] == "restricted"
    assert figures["extra"]["straddling_epci"]
    assert figures["extra"]["qpv_communes_uncovered"] is not None
    text = output.read_text(encoding="utf-8")
    assert "à cheval sur 95" in text and "Couverture des communes accueillant un quartier prioritaire" in text
    assert "Document réservé au préparateur" in text


def _campaign(tmp_path: Path, audience: str) -> Path:
    path = tmp_path / f"infra-{audience}.yaml"
    path.write_text(yaml.safe_dump({
        "name": f"infra-{audience}", "notebooks": str(REPO / "notebooks"), "timeout": 300,
        "runs": [{"notebook": "infra_departemental", "audience": audience,
                  "parameters": {"departement": [DEP], "year": YEAR}}],
    }, allow_unicode=True), encoding="utf-8")
    return path


def test_a_campaign_runs_it_for_the_restricted_audience_and_refuses_the_committee(
        infra_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="refusé"):
        run_campaign(infra_workspace, _campaign(tmp_path, "committee"), workers=1, progress=False)
    assert not (infra_workspace.reports / "committee" / "infra-committee").exists()
    report = run_campaign(infra_workspace, _campaign(tmp_path, "restricted"), workers=1, progress=False)
    assert report.exit_code == 0, report.summary_fr()
    outputs = list((infra_workspace.reports / "restricted").rglob("infra_departemental*"))
    assert outputs, list((infra_workspace.reports).rglob("*"))
    assert not list((infra_workspace.reports / "committee").rglob("infra_departemental*"))


def test_a_later_committee_release_is_joint_with_the_infra_views(infra_workspace: Workspace) -> None:
    """A correction in the Val-d'Oise after the infra release: the new committee version is
    protected with the EPCI cells in the system (the ledger), and the question refused (withheld,
    named) because republishing the changed cells would reveal the one corrected answer; the
    other questions are published."""
    from senacs_workbench.restricted.coherence.commands import correct

    wide = RawDataStore(infra_workspace).wide(YEAR, "departement:95", variables=["budget_total"])
    row = wide.dropna(subset=["budget_total"]).iloc[0]
    correct(infra_workspace, str(row["structure_id"]), "budget_total", str(int(row["budget_total"]) + 5000),
            why="test : budget corrigé", year=YEAR)
    outcome = publish_year(infra_workspace, YEAR, only=[*BREAKDOWNS, "budget_total"], workers=1)
    assert outcome.audit["withheld_variables"] == ["budget_total"]
    assert "Question « budget_total », campagne 2025" in outcome.message_fr
    assert "Publication refusée" in outcome.message_fr
