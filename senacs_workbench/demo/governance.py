"""The demo's governance: fictitious committees, with the acting user as designated preparer.

The demo designates whoever runs it as the national preparer, so that ``senacs demo`` works
for any login; committees and correspondents are fictitious people.
"""

from __future__ import annotations

import datetime as dt

from senacs_workbench.core import territories as geo
from senacs_workbench.trust.governance import Designation, Governance, Member, TerritoryGovernance

DEMO_CAF = Member("caf.demo", "Claire Caf (démo)", "caf")
DEMO_FEDERATION = Member("federation.demo", "Fabien Fédération (démo)", "federation")
DEMO_REGION = "75"  # Nouvelle-Aquitaine
DEMO_DEPARTEMENT = "24"  # Dordogne


def demo_governance(preparer: str) -> Governance:
    designated = dt.date(2025, 1, 15)
    national = TerritoryGovernance(
        territory=geo.territory("national", geo.NATIONAL_CODE),
        committee=(DEMO_CAF, DEMO_FEDERATION),
        preparer=Designation(preparer, f"{preparer} (préparateur de la démo)", designated,
                             (DEMO_CAF.user, DEMO_FEDERATION.user)),
        correspondents=(Member("correspondant.caf", "Camille Correspondante Caf (démo)", "caf"),),
    )
    regional_members = []
    for dep in geo.departements_of(DEMO_REGION):
        regional_members.append(Member(f"caf.{dep}", f"Représentant Caf {dep} (démo)", "caf", dep))
        regional_members.append(
            Member(f"federation.{dep}", f"Représentant fédération {dep} (démo)", "federation", dep)
        )
    regional = TerritoryGovernance(
        territory=geo.territory("region", DEMO_REGION),
        committee=tuple(regional_members),
        preparer=Designation(preparer, f"{preparer} (préparateur de la démo)", designated,
                             (regional_members[0].user, regional_members[1].user)),
        correspondents=(),
    )
    dep_caf = Member(f"caf.{DEMO_DEPARTEMENT}", f"Représentant Caf {DEMO_DEPARTEMENT} (démo)", "caf")
    dep_fed = Member(f"federation.{DEMO_DEPARTEMENT}", f"Représentant fédération {DEMO_DEPARTEMENT} (démo)",
                     "federation")
    departemental = TerritoryGovernance(
        territory=geo.territory("departement", DEMO_DEPARTEMENT),
        committee=(dep_caf, dep_fed),
        preparer=Designation(preparer, f"{preparer} (préparateur de la démo)", designated,
                             (dep_caf.user, dep_fed.user)),
        correspondents=(Member("correspondant.24", "Dominique Correspondant fédération (démo)", "federation"),),
    )
    return Governance((national, regional, departemental))
