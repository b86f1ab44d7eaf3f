"""Which released bundle speaks for each territory: the workspace's own, or one added for comparison.

A département or région workspace publishes its own territory; ``senacs compare add`` brings the
released bundles of its région and of the nation into ``published/comparisons/``. Every committee
surface (notebooks, dashboards, plaquette) reads a territory's cells from exactly one bundle,
chosen by one rule (:meth:`ReleasedSources.source_for`):

1. a comparison bundle released *for that very territory* (the région's own bundle for the
   région, the nation's for the nation): each committee's figures for its own territory;
2. else the workspace's own bundle, if its territory contains the place;
3. else the narrowest comparison bundle whose territory contains it (the région's bundle for
   the other départements of the région, the nation's for anything else).

Cells are never mixed within one territory: the same département published by the département's
and the région's committees may carry different suppression patterns, and a figure shown next
to its n, response rate and ``s`` must come from one release. Everything read here is a
released, approved bundle (the reader verifies each one); nothing here reads the restricted zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.released.published import LOCAL, BundleError, PublishedReader, ReleasedBundle

LEVEL_RANK = {"departement": 0, "region": 1, "national": 2}


def owner_of(bundle: ReleasedBundle) -> geo.Territory:
    """The territory whose committee released ``bundle`` (recorded in its manifest)."""
    return geo.parse_territory(str(bundle.manifest.get("territory", geo.NATIONAL_CODE)))


def comparison_places(home: geo.Territory) -> list[geo.Territory] | None:
    """The territories a committee's surfaces show: its own, the other départements of its région,
    its région and the nation. None for the nation (it shows everything it released)."""
    if home.level == "national":
        return None
    nation = geo.territory("national", geo.NATIONAL_CODE)
    region_code = home.code if home.level == "region" else geo.region_of(home.code)
    region = geo.territory("region", region_code)
    departements = [geo.territory("departement", code) for code in geo.departements_of(region_code)]
    return [*departements, region, nation]


def neighbours(place: geo.Territory) -> list[geo.Territory]:
    """What ``place`` is compared with on a chart: its région (for a département) and the nation."""
    nation = geo.territory("national", geo.NATIONAL_CODE)
    if place.level == "departement":
        return [geo.territory("region", geo.region_of(place.code)), nation]
    if place.level == "region":
        return [nation]
    return []


@dataclass(frozen=True)
class Source:
    """One released bundle of the year: its folder name under ``comparisons/`` (or ``local``),
    the territory of the committee that released it, and the verified bundle."""

    name: str
    owner: geo.Territory
    bundle: ReleasedBundle

    @property
    def label(self) -> str:
        """French description, for the notes under figures taken from it."""
        version = self.bundle.folder.name
        if self.name == LOCAL:
            return f"jeu de tableaux du comité ({version})"
        if self.owner.level == "national":
            return f"publication nationale ({version})"
        kind = "régionale" if self.owner.level == "region" else "départementale"
        return f"publication {kind} {self.owner.name} ({version})"


class ReleasedSources:
    """The released bundles of one year in a ``published/`` folder, and which one answers for a territory."""

    def __init__(self, reader: PublishedReader, year: int) -> None:
        self.reader = reader
        self.year = year
        self.sources: list[Source] = []
        for name in reader.sources():
            if year not in reader.years(name):
                continue
            try:
                bundle = reader.bundle(year, name)
            except BundleError:
                if name == LOCAL:
                    raise
                continue  # a comparison bundle that fails verification is not shown, never half-read
            self.sources.append(Source(name, owner_of(bundle), bundle))

    @property
    def home(self) -> geo.Territory | None:
        """The workspace's own territory (None if it has not released ``year``)."""
        local = [s.owner for s in self.sources if s.name == LOCAL]
        return local[0] if local else None

    def source_for(self, place: geo.Territory) -> Source | None:
        """The one bundle whose cells are shown for ``place`` (rule in the module docstring)."""
        exact = [s for s in self.sources if s.owner == place and s.name != LOCAL]
        if exact:
            return exact[0]
        local = [s for s in self.sources if s.name == LOCAL and s.owner.contains(place)]
        if local:
            return local[0]
        containing = [s for s in self.sources if s.owner.contains(place)]
        containing.sort(key=lambda s: LEVEL_RANK[s.owner.level])
        return containing[0] if containing else None

    def cells(self, place: geo.Territory, **filters: str | list[str] | None) -> pd.DataFrame:
        """The released cells of ``place`` from its one source, with a ``source`` column (empty if none)."""
        source = self.source_for(place)
        if source is None:
            return pd.DataFrame(columns=["source"])
        frame = self.reader.table(self.year, source=source.name, level=place.level, territory=place.code,
                                  **filters)  # type: ignore[arg-type]
        return frame.assign(source=source.name)

    def places_cells(self, places: list[geo.Territory], **filters: str | list[str] | None) -> pd.DataFrame:
        """The released cells of several places, each from its own source, in one frame."""
        frames = [frame for place in places if not (frame := self.cells(place, **filters)).empty]
        if not frames:
            return pd.DataFrame(columns=["source"])
        return pd.concat(frames, ignore_index=True)

    def label(self, name: str) -> str:
        return next((s.label for s in self.sources if s.name == name), name)

