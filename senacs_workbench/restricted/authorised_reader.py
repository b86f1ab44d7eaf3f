"""Reader of the authorised bundle (EPCI and commune views), for the preparer and correspondents only.

The authorised bundle (written by :mod:`senacs_workbench.restricted.publication.authorised`) lives in
the restricted zone. Reading it is a raw-data-zone operation: the acting user must be the
designated preparer or a SENACS correspondent of the département asked for (or of a territory
containing it); the access — or its refusal — is written to the audit log. The reader returns
the EPCI that touch the département (straddling ones included, whole) and the département's
communes; the département, région and national figures come from the committee's released
bundle (:class:`~senacs_workbench.released.published.PublishedReader`), which the authorised bundle was
protected jointly with.

Committee-facing code (dashboards, committee notebooks, the plaquette) never imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from senacs_workbench.core import territories as geo
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.released.bundle_contract import read_manifest, sha256_file, table_name
from senacs_workbench.restricted.publication.authorised import authorised_versions
from senacs_workbench.trust.access import require_raw_access


class AuthorisedBundleError(SenacsError):
    """The authorised bundle is missing or altered (French message)."""


@dataclass(frozen=True)
class InfraTables:
    """The infra-départemental cells of one département and year."""

    year: int
    departement: geo.Territory
    cells: pd.DataFrame  # contract columns; levels epci and commune
    manifest: dict[str, Any]

    @property
    def epcis(self) -> list[str]:
        return sorted(self.cells.loc[self.cells["level"] == "epci", "territory"].unique())

    @property
    def communes(self) -> list[str]:
        return sorted(self.cells.loc[self.cells["level"] == "commune", "territory"].unique())


def epcis_of(departement: str) -> pd.DataFrame:
    """EPCI with at least one commune in ``departement``: ``epci, nom, departements`` (all the
    départements it touches, so a straddling EPCI shows ``24, 33``)."""
    links = geo.epci_departements()
    touching = links.loc[links["departement"] == departement, "epci"].unique()
    spans = links[links["epci"].isin(touching)].groupby("epci")["departement"].apply(lambda s: sorted(set(s)))
    names = geo.epcis().set_index("code")["nom"]
    return pd.DataFrame({
        "epci": spans.index,
        "nom": [str(names.get(code, code)) for code in spans.index],
        "departements": spans.to_numpy(),
    }).sort_values("nom").reset_index(drop=True)


def read_infra_tables(workspace: Workspace, year: int, departement: str, user: str | None = None) -> InfraTables:
    """The latest authorised EPCI and commune cells of ``departement`` for ``year`` (access-checked)."""
    place = geo.territory("departement", departement)
    require_raw_access(workspace, "read_authorised", place, details={"year": year}, user=user)
    versions = authorised_versions(workspace, year, departement)
    if not versions:
        raise AuthorisedBundleError(
            f"Aucune vue infra-départementale de {place.name} pour la campagne {year} : lancez d'abord "
            f"« senacs publish --year {year} --infra {departement} » (après l'approbation des tableaux du comité)."
        )
    folder = versions[-1]
    manifest = read_manifest(folder)
    table = folder / table_name(year)
    if sha256_file(table) != manifest.get("files", {}).get(table.name):
        raise AuthorisedBundleError(f"Le fichier {table} a été modifié depuis sa production : il ne peut pas être lu.")
    frame = pq.read_table(table).to_pandas()
    epci = set(epcis_of(departement)["epci"])
    communes = geo.communes()
    own = set(communes.loc[communes["departement"] == departement, "code"])
    keep = ((frame["level"] == "epci") & frame["territory"].isin(epci)) | (
        (frame["level"] == "commune") & frame["territory"].isin(own))
    return InfraTables(year, place, frame[keep].reset_index(drop=True), manifest)
