from __future__ import annotations

import pytest

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import InputError, SenacsError


def test_eighteen_regions_and_101_departements_with_string_codes() -> None:
    regions = geo.regions()
    deps = geo.departements()
    assert len(regions) == 18
    assert len(deps) == 101
    assert {"01", "2A", "2B", "971", "976"} <= set(deps.code)
    assert "20" not in set(deps.code)
    assert {"01", "06", "84", "94"} <= set(regions.code)
    assert set(deps.region) == set(regions.code)


def test_every_departement_has_communes_and_some_epci_straddle_two_departements() -> None:
    communes = geo.communes()
    assert set(communes.departement) == set(geo.departements().code)
    straddling = geo.epci_departements().groupby("epci").departement.nunique()
    assert (straddling > 1).sum() > 10
    links = geo.epci_departements()
    assert links.communes.sum() == (geo.communes().epci != "").sum()


def test_parse_territory_forms() -> None:
    assert geo.parse_territory("FR").level == "national"
    assert geo.parse_territory("region:84").name == "Auvergne-Rhône-Alpes"
    assert geo.parse_territory("R75").code == "75"
    assert geo.parse_territory("2A").name == "Corse-du-Sud"
    with pytest.raises(ValueError, match="inconnu"):
        geo.parse_territory("departement:20")
    assert geo.region_of("24") == "75"
    assert "24" in geo.departements_of("75")


def test_municipal_arrondissements_are_known_with_their_commune() -> None:
    everything = geo.communes(with_arrondissements=True).set_index("code")
    assert everything.loc["75101", "parent"] == "75056"
    assert everything.loc["13201", "epci"] == everything.loc["13055", "epci"] != ""
    assert "75101" not in set(geo.communes().code)


@pytest.mark.parametrize("reference", ["FR", "region:84", "departement:2A", "epci:200054781"])
def test_a_territory_key_is_the_reference_it_is_parsed_from(reference: str) -> None:
    place = geo.parse_territory(reference)
    assert place.key == reference
    assert geo.parse_territory(place.key) == place
    assert geo.as_territory(place) is place
    assert geo.as_territory(reference) == place


@pytest.mark.parametrize(("reference", "message"), [
    ("999", "Territoire inconnu : département « 999 »"),
    ("region:99", "Territoire inconnu : région « 99 »"),
    ("canton:12", "Niveau de territoire inconnu : « canton »"),
])
def test_a_bad_territory_code_is_refused_in_french(reference: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        geo.parse_territory(reference)
    assert isinstance(raised.value, SenacsError)
    assert raised.value.details["territory"]


def test_a_territory_contains_itself_and_what_lies_within_it() -> None:
    france, idf, paris, dordogne = (geo.parse_territory(r) for r in ("FR", "region:11", "departement:75", "24"))
    assert france.contains(idf) and france.contains(dordogne) and france.contains(france)
    assert idf.contains(paris) and idf.contains(idf)
    assert not idf.contains(dordogne) and not idf.contains(france)
    assert not paris.contains(idf) and not dordogne.contains(paris)
