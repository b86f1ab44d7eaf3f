"""Plaquettes built by a campaign (``plaquettes`` section of a campaign file), and the département's commune map."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from plaquette_support import YEAR, needs_chromium, released_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "campaign"))
from campaign_support import write_campaign

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.demo.release import demo_committee
from senacs_workbench.released.plaquette.build import draft_folder, read_record
from senacs_workbench.released.plaquette.commune_map import count_by_commune
from senacs_workbench.restricted.campaign.execute import DONE, FAILED, SKIPPED
from senacs_workbench.restricted.campaign.plaquettes import state_path
from senacs_workbench.restricted.campaign.runner import CampaignReport, run_campaign
from senacs_workbench.restricted.campaign.spec import CampaignError, load_campaign
from senacs_workbench.restricted.publication.plaquette import approve_plaquette

SECRET = "987654321"  # a non-public column of the directory file: never shown
DIRECTORY = pd.DataFrame([
    # Périgueux by INSEE code (3), Bergerac and Sarlat by name only (other spellings), Terrasson by code;
    # one structure of the Dordogne with an unknown commune; one of the Gironde (another plaquette's).
    *({"nom_structure": f"Centre social Périgueux {i}", "code_commune": "24322", "departement": "24",
       "type_structure": "CS", "mode_gestion": "associatif", "budget_total": SECRET} for i in (1, 2, 3)),
    *({"nom_structure": f"EVS Bergerac {i}", "commune": "BERGERAC", "departement": "24",
       "type_structure": "EVS", "mode_gestion": "associatif", "budget_total": SECRET} for i in (1, 2)),
    {"nom_structure": "Centre social du Sarladais", "commune": "sarlat la caneda", "departement": "24",
     "type_structure": "CS", "mode_gestion": "collectivite", "budget_total": SECRET},
    {"nom_structure": "EVS Terrasson", "code_commune": "24547", "departement": "24", "type_structure": "EVS",
     "mode_gestion": "associatif", "budget_total": SECRET},
    {"nom_structure": "EVS Nulle Part", "commune": "Nulle-Part-sur-Isle", "departement": "24",
     "type_structure": "EVS", "mode_gestion": "associatif", "budget_total": SECRET},
    {"nom_structure": "Centre social Bastide", "code_commune": "33063", "departement": "33", "type_structure": "CS",
     "mode_gestion": "associatif", "budget_total": SECRET},
])
HOSTING = {"24322": 3, "24037": 2, "24520": 1, "24547": 1}  # the Dordogne's communes hosting structures
TERRITORIES = ["national", "region:75", "departement:24"]


def _directory(workspace: Workspace) -> Path:
    path = workspace.published / "plaquette" / "annuaire" / f"{YEAR}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    DIRECTORY.to_csv(path, sep=";", index=False)
    return path


def _bad_edito(workspace: Workspace) -> Path:
    path = workspace.published / "plaquette" / "edito" / "R75.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("texte: [une liste jamais fermée\ncaf: Caf\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, CampaignReport]:
    """One campaign building FR, Nouvelle-Aquitaine (whose édito is broken: it fails) and the Dordogne."""
    workspace = released_workspace(tmp_path_factory.mktemp("plaquette-campaign") / "ws")
    _directory(workspace)
    _bad_edito(workspace)
    path = write_campaign(workspace.root.parent / "parameters" / "plaquettes-2024.yaml",
                          {"name": "plaquettes-2024", "plaquettes": {"territories": TERRITORIES, "year": YEAR}})
    report = run_campaign(workspace, path, progress=False)
    return workspace, path, report


@needs_chromium
def test_campaign_builds_drafts_reports_them_and_fails_on_one(campaign: tuple[Workspace, Path, CampaignReport]
                                                             ) -> None:
    workspace, _path, report = campaign
    statuses = {o.slug: o.status for o in report.plaquettes}
    assert statuses == {"FR": DONE, "R75": FAILED, "24": DONE}
    assert report.exit_code == 1 and not report.ok
    failed = next(o for o in report.plaquettes if o.slug == "R75")
    assert "Édito illisible" in failed.message and "R75.yaml" in failed.message
    for slug in ("FR", "24"):
        record = read_record(draft_folder(workspace.reports, slug, YEAR))
        assert record is not None and record["approvals"] == []  # a draft, waiting for the committee
    assert read_record(draft_folder(workspace.reports, "R75", YEAR)) is None
    summary = report.summary_fr()
    assert "Plaquettes : 3 (" in summary and "ÉCHEC plaquette Région Nouvelle-Aquitaine (2024) : Édito illisible" \
        in summary
    index = workspace.reports / "committee" / "plaquettes-2024" / "index.html"
    assert index in report.indexes
    page = index.read_text(encoding="utf-8")
    assert '<a href="../plaquettes/2024/FR/plaquette.pdf">France</a>' in page
    assert "../plaquettes/2024/24/plaquette.pdf" in page and "Dordogne (24)" in page
    assert "2 plaquette(s) disponible(s) sur 3" in page
    assert re.search(r"Région Nouvelle-Aquitaine <strong class=\"echec\">\(échec : Édito illisible", page)
    state = json.loads(state_path(workspace, "plaquettes-2024").read_text(encoding="utf-8"))
    assert state[f"{YEAR}/24"]["status"] == DONE and state[f"{YEAR}/R75"]["status"] == FAILED
    audit = workspace.audit_log_path.read_text(encoding="utf-8")
    assert audit.count('"build_plaquette"') == 2


@needs_chromium
def test_departement_plaquette_maps_its_structures_by_commune(campaign: tuple[Workspace, Path, CampaignReport]
                                                             ) -> None:
    _workspace, _path, report = campaign
    dordogne = next(o for o in report.plaquettes if o.slug == "24")
    assert dordogne.html is not None and dordogne.pdf is not None
    page = dordogne.html.read_text(encoding="utf-8")
    svg = page[page.index('class="commune-map"'):]
    svg = svg[:svg.index("</svg>")]
    dots = dict(re.findall(r'<circle class="commune" data-commune="(\w+)" data-structures="(\d+)"', svg))
    assert {code: int(n) for code, n in dots.items()} == HOSTING
    assert "Périgueux" in svg and "Bergerac" in svg  # the communes with several structures are named
    assert SECRET not in page
    text = subprocess.run(["pdftotext", str(dordogne.pdf), "-"], check=True, capture_output=True,  # reading order
                          text=True).stdout.replace("\u2019", "'")
    map_page = next(p for p in text.split("\f") if "Carte des structures" in p)
    flat = " ".join(map_page.split())
    assert "La carte situe les 7 structures de l'annuaire public dans 4 communes" in flat
    assert "chaque point est une commune, sa surface est proportionnelle au nombre de structures" in flat
    assert "1 structure de l'annuaire, dont la commune n'a pas été reconnue, ne figure pas sur la carte" in flat
    assert "Commune Structures Périgueux 3 Bergerac 2 Sarlat-la-Canéda 1 Terrasson-Lavilledieu 1" in flat
    assert "1 structure" in flat and "3 structures" in flat  # the legend of dot sizes
    national = next(o for o in report.plaquettes if o.slug == "FR")
    assert national.html is not None and 'class="commune"' not in national.html.read_text(encoding="utf-8")


@needs_chromium
def test_an_approved_unchanged_plaquette_is_kept_even_without_resume(
        campaign: tuple[Workspace, Path, CampaignReport]) -> None:
    """A scheduled run (no ``--resume``) builds again what changed and keeps what the committee approved."""
    workspace, path, first = campaign
    caf, _federation = demo_committee("FR")
    approve_plaquette(workspace, "FR", YEAR, user=caf)
    before = {o.slug: o.pdf for o in first.plaquettes if o.pdf}
    fr_hash = read_record(draft_folder(workspace.reports, "FR", YEAR))["pdf_sha256"]  # type: ignore[index]
    (workspace.published / "plaquette" / "edito" / "R75.yaml").write_text(
        "texte: Un édito de la région.\ncaf: La Caf\nfederation: La fédération\n", encoding="utf-8")
    directory = _directory(workspace)
    directory.write_text(directory.read_text(encoding="utf-8") + "EVS Nontron;24311;24;EVS;associatif;;\n",
                         encoding="utf-8")  # the Dordogne's directory changed: its plaquette is built again
    report = run_campaign(workspace, path, resume=False, progress=False)
    statuses = {o.slug: o.status for o in report.plaquettes}
    assert statuses == {"FR": SKIPPED, "R75": DONE, "24": DONE}
    assert report.exit_code == 0
    fr = read_record(draft_folder(workspace.reports, "FR", YEAR))
    assert fr is not None and fr["pdf_sha256"] == fr_hash and [a["user"] for a in fr["approvals"]] == [caf]
    assert next(o.pdf for o in report.plaquettes if o.slug == "FR") == before["FR"]
    dordogne = (draft_folder(workspace.reports, "24", YEAR) / "plaquette.html").read_text(encoding="utf-8")
    assert dordogne.count('class="commune"') == len(HOSTING) + 1  # Nontron now hosts one
    assert "inchangée, non reconstruite" in (workspace.reports / "committee" / "plaquettes-2024" / "index.html"
                                             ).read_text(encoding="utf-8")


def test_count_by_commune_reads_codes_names_and_leaves_out_other_departements() -> None:
    counts = count_by_commune(DIRECTORY, "24")
    assert counts.counts == HOSTING and counts.located == 7 and counts.unplaced == 1
    assert counts.ranked()[:2] == [("24322", "Périgueux", 3), ("24037", "Bergerac", 2)]
    gironde = count_by_commune(DIRECTORY, "33")
    assert gironde.counts == {"33063": 1} and gironde.unplaced == 0


def test_a_bad_plaquettes_section_is_refused_in_french(tmp_path: Path) -> None:
    workspace = released_workspace(tmp_path / "ws")
    path = write_campaign(tmp_path / "parameters" / "mauvaise.yaml", {
        "plaquettes": {"territories": ["national", "departement:99", "epci:200000172"], "year": 2019,
                       "format": "A5"},
    })
    with pytest.raises(CampaignError) as refused:
        load_campaign(workspace, path)
    message = str(refused.value)
    assert message.startswith(f"Campagne refusée ({path}), rien n'a été lancé")
    assert "plaquettes : clé(s) inconnue(s) format" in message
    assert "plaquettes.territories : territoire « departement:99 »" in message
    assert "plaquettes.territories : territoire « epci:200000172 » : seuls la France" in message
    assert "plaquettes.year = 2019 : aucun jeu de tableaux validé" in message
    write_campaign(path, {"plaquettes": {"territories": "regions", "year": "2024"}})
    with pytest.raises(CampaignError, match=r"plaquettes.year = '2024' : une année \(nombre entier\)"):
        run_campaign(workspace, path, progress=False)
    write_campaign(path, {"plaquettes": ["national"]})
    with pytest.raises(CampaignError, match="plaquettes : un dictionnaire est attendu"):
        load_campaign(workspace, path)
    assert not (workspace.reports / "committee" / "plaquettes").exists()  # nothing was built
