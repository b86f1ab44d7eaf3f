"""Plaquette content without a browser: édito file, public structure list, map, typography, sections."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from plaquette_support import SECRET_REGION_BENEVOLES, YEAR

from senacs_workbench.core import territories as geo
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.plaquette.content import (
    SECTION_TITLES,
    assemble,
    public_structure_list,
    read_edito,
    slug_of,
)
from senacs_workbench.released.plaquette.maps import HIGHLIGHT, department_map, path_bbox, shapes
from senacs_workbench.released.plaquette.render import french_typography


def test_edito_from_the_committee_file_or_a_placeholder(tmp_path: Path) -> None:
    dordogne = geo.territory("departement", "24")
    placeholder = read_edito(tmp_path, dordogne)
    assert placeholder.placeholder and "plaquette/edito/24.md" in placeholder.paragraphs[0]
    folder = tmp_path / "plaquette" / "edito"
    folder.mkdir(parents=True)
    (folder / "24.md").write_text(
        "---\ncaf: Marie Dupont, directrice de la Caf\nfederation: Jean Martin, président de la fédération\n---\n"
        "Premier paragraphe\nsur deux lignes.\n\nSecond paragraphe.\n", encoding="utf-8")
    edito = read_edito(tmp_path, dordogne)
    assert not edito.placeholder
    assert edito.paragraphs == ("Premier paragraphe sur deux lignes.", "Second paragraphe.")
    assert edito.caf_signatory.startswith("Marie Dupont") and edito.federation_signatory.startswith("Jean Martin")
    (folder / "R75.yaml").write_text("caf: A\nfederation: B\ntexte: Bonjour.\n", encoding="utf-8")
    assert read_edito(tmp_path, geo.territory("region", "75")).paragraphs == ("Bonjour.",)


def test_public_structure_list_reads_public_identity_fields_only() -> None:
    frame = pd.DataFrame({"nom": ["B", "A", "C"], "commune": ["Y", "X", "Z"], "departement": ["24", "24", "33"],
                          "type_structure": ["CS", "EVS", "CS"], "mode_gestion": ["associatif", "caf", "autre"],
                          "budget_total": [1.0, 2.0, 3.0]})
    rows = public_structure_list(frame, geo.territory("departement", "24"))
    assert rows == [{"nom": "A", "commune": "X", "type": "Espace de vie sociale", "mode": "Gestion Caf"},
                    {"nom": "B", "commune": "Y", "type": "Centre social", "mode": "Associatif"}]
    assert len(public_structure_list(frame, geo.territory("region", "75"))) == 3
    assert len(public_structure_list(frame, geo.territory("national", "FR"))) == 3


def test_map_from_the_packaged_svg() -> None:
    codes = {s.code for s in shapes()}
    assert set(geo.departements().code) <= codes  # 2A, 2B, 971–976 included; 975 is not a département
    assert path_bbox("m 10,10 l 5,0 0,5 z m 2,2 c 1,1 2,2 3,3") == (10.0, 10.0, 15.0, 15.0)
    national = department_map(geo.territory("national", "FR"))
    assert national.count("<path") == 96 + 4 + 5  # metropolitan, Paris inset, overseas inset
    region = department_map(geo.territory("region", "75"), {"24": "68 structures"})
    assert region.count(f'fill="{HIGHLIGHT}"') == len(geo.departements_of("75")) and "68 structures" in region
    dordogne = department_map(geo.territory("departement", "24"))
    assert dordogne.count(f'fill="{HIGHLIGHT}"') == 1
    assert "http" not in national.replace("http://www.w3.org/2000/svg", "")


def test_french_typography_in_text_nodes_only() -> None:
    html = "<style>a : b</style><p>« x » : oui ? non ; l'an</p>"
    expected = "<style>a : b</style><p>«\u00a0x\u00a0»\u00a0: oui\u202f? non\u202f; l\u2019an</p>"
    assert french_typography(html) == expected


def test_slugs() -> None:
    assert [slug_of(geo.parse_territory(t)) for t in ("FR", "region:75", "R75", "24", "2A")] == \
        ["FR", "R75", "R75", "24", "2A"]


def test_every_section_from_released_bundles(released: Workspace) -> None:
    content = assemble(released.published, "R75", YEAR)
    assert list(content.sections) == list(SECTION_TITLES)
    assert content.sections["theme"].title == "Thème de l'année : Les jeunes adultes (18-30 ans)"
    benevoles = next(f for f in content.sections["hr"].figs["sums"] if f.label == "Bénévoles d'activité")
    assert benevoles.suppressed and benevoles.value is None and benevoles.text == "s"
    assert SECRET_REGION_BENEVOLES not in [f.value for f in content.sections["hr"].figs["sums"]]
    structures = content.sections["key"].figs["structures"]
    assert structures.available and structures.n == structures.value
    rows = content.sections["structures"].figs["by_territory"]
    assert {r["code"] for r in rows} == set(geo.departements_of("75"))
    national = content.sections["national"].figs["rows"]
    assert all(len(figs) == 2 and all(f.n is not None for f in figs) for _, figs in national)
    assert [header for header, _ in content.sections["national"].figs["columns"]] == ["Nouvelle-Aquitaine", "France"]
