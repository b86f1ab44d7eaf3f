"""The demo's governance: fictitious committees, with the acting user as designated preparer.

The demo designates whoever runs it as the national preparer, so that ``senacs demo`` works
for any login; committees and correspondents are fictitious people.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import TypeVar

from senacs_workbench.core import territories as geo
from senacs_workbench.core.governance import Designation, Governance, Member, TerritoryGovernance
from senacs_workbench.core.signatures import demo_private_key, public_key_text
from senacs_workbench.trust.identity import USER_ENV_VAR, os_account


def demo_preparer() -> str:
    """Who runs the demo: ``SENACS_USER`` if set, else the operating-system account."""
    return os.environ.get(USER_ENV_VAR) or os_account()


P = TypeVar("P", Member, Designation)


def _keyed(person: P) -> P:
    return dataclasses.replace(person, key=public_key_text(demo_private_key(person.user).public_key()))

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
    territories = tuple(
        dataclasses.replace(t, committee=tuple(_keyed(m) for m in t.committee),
                            preparer=_keyed(t.preparer),
                            correspondents=tuple(_keyed(m) for m in t.correspondents))
        for t in (national, regional, departemental))
    return Governance(territories, demo=True)
