"""Who is who in each territory (charter 1.3 and 3.2), checked when loaded.

``governance.yaml`` in the workspace lists, per territory, the steering committee, the
designated preparer with the designation record, and the SENACS correspondents::

    territories:
      - territory: departement:24        # or region:75, or FR
        committee:
          - {user: amartin, name: Anne Martin, institution: caf, key: "ed25519:…"}
          - {user: bleroy, name: Bruno Leroy, institution: federation, key: "ed25519:…"}
          # at région level, each member says which département mandated them:
          # - {user: ..., name: ..., institution: caf, mandated_by: "24"}
        preparer:
          user: pdupont
          name: Paul Dupont
          designated_on: 2025-01-15
          designated_by: [amartin, bleroy]   # committee members, at least a CAF and a federation one
        correspondents:
          - {user: cdurand, name: Claire Durand, institution: caf}

Rules (a French message names what is missing): a département's committee has at least one
CAF and one federation member; a région's committee has, for each of its départements, a CAF
and a federation member mandated by it; the national committee has at least one CAF and one
federation member; the preparer is designated collegially by committee members including a
CAF and a federation one, on a given date; correspondents belong to the CAF or the federation.

``key`` is the person's Ed25519 public key (``senacs keys init`` prints it): only a member with
a key can sign an approval. ``account`` is the person's operating-system login when it differs
from ``user``. A top-level ``demo: true`` marks a demonstration or test governance: its
fictitious members may have derivable demonstration keys (:mod:`.signatures`), and
``SENACS_USER`` is honoured there only. The file is in force only as the head of its signed
chain (:mod:`.governance_chain`).

A user's raw-data reach: the designated preparer of a territory and its correspondents may
read the raw data of that territory and of the territories inside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from senacs_workbench.core import territories as geo
from senacs_workbench.core.approvals import INSTITUTION_LABELS, PARTNER_INSTITUTIONS
from senacs_workbench.core.errors import GovernanceError
from senacs_workbench.core.signatures import SignatureError, is_demo_key, load_public_key

Institution = Literal["caf", "federation", "other"]
INSTITUTIONS: tuple[str, ...] = (*PARTNER_INSTITUTIONS, "other")


@dataclass(frozen=True)
class Member:
    user: str
    name: str
    institution: Institution
    mandated_by: str | None = None
    key: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class Designation:
    user: str
    name: str
    designated_on: dt.date
    designated_by: tuple[str, ...]
    key: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class TerritoryGovernance:
    territory: geo.Territory
    committee: tuple[Member, ...]
    preparer: Designation
    correspondents: tuple[Member, ...]

    def committee_member(self, user: str) -> Member | None:
        return next((m for m in self.committee if m.user == user), None)


@dataclass(frozen=True)
class Governance:
    territories: tuple[TerritoryGovernance, ...]
    demo: bool = False
    reviewed_notebooks: tuple[tuple[str, str], ...] = ()
    """Notebooks reviewed for the committee and centres besides the shipped ones: (path, sha256)."""

    def person_of_account(self, account: str) -> str | None:
        """The identifier (``user``) of the person whose operating-system login is ``account``."""
        for entry in self.territories:
            people: list[Member | Designation] = [*entry.committee, entry.preparer, *entry.correspondents]
            for person in people:
                if (person.account or person.user) == account:
                    return person.user
        return None

    def for_territory(self, territory: geo.Territory) -> TerritoryGovernance | None:
        return next((t for t in self.territories if t.territory == territory), None)

    def raw_data_reach(self, user: str) -> list[tuple[geo.Territory, str]]:
        """Territories whose raw data ``user`` may read, with the role that grants it."""
        reach: list[tuple[geo.Territory, str]] = []
        for entry in self.territories:
            if entry.preparer.user == user:
                reach.append((entry.territory, "preparer"))
            if any(c.user == user for c in entry.correspondents):
                reach.append((entry.territory, "correspondent"))
        return reach

    def raw_access_role(self, user: str, territory: geo.Territory) -> str | None:
        for outer, role in self.raw_data_reach(user):
            if outer.contains(territory):
                return role
        return None


def _key(raw: dict[str, Any], user: str, where: str, demo: bool) -> str | None:
    key = raw.get("key")
    if key is None:
        return None
    try:
        load_public_key(str(key), where)
    except SignatureError as exc:
        raise GovernanceError(exc.message) from exc
    if not demo and is_demo_key(user, str(key)):
        raise GovernanceError(
            f"{where} : la clé de {user} est une clé de démonstration, calculable par tous ; elle n'est "
            "acceptée que dans une gouvernance de démonstration (demo: true). Créez une vraie clé "
            "(« senacs keys init »)."
        )
    return str(key)


def _member(raw: dict[str, Any], where: str, demo: bool = False) -> Member:
    missing = [k for k in ("user", "name", "institution") if not raw.get(k)]
    if missing:
        raise GovernanceError(f"{where} : champ(s) manquant(s) : {', '.join(missing)}.")
    institution = str(raw["institution"])
    if institution not in INSTITUTIONS:
        raise GovernanceError(
            f"{where} : institution « {institution} » inconnue (attendu : caf, federation ou other)."
        )
    mandated = raw.get("mandated_by")
    user = str(raw["user"])
    account = raw.get("account")
    return Member(user, str(raw["name"]), institution, None if mandated is None else str(mandated),  # type: ignore[arg-type]
                  _key(raw, user, where, demo), None if account is None else str(account))


def _check_committee(entry: TerritoryGovernance, where: str) -> None:
    institutions = {m.institution for m in entry.committee}
    territory = entry.territory
    if territory.level == "region":
        for dep in geo.departements_of(territory.code):
            mandated = {m.institution for m in entry.committee if m.mandated_by == dep}
            lacking = [INSTITUTION_LABELS[i] for i in PARTNER_INSTITUTIONS if i not in mandated]
            if lacking:
                name = geo.territory("departement", dep).name
                raise GovernanceError(
                    f"{where} : le comité de pilotage régional doit compter une double représentation "
                    f"Caf et centres sociaux mandatée par chaque département (charte 3.2) ; "
                    f"il manque pour {name} ({dep}) : {' et '.join(lacking)}."
                )
    else:
        lacking = [INSTITUTION_LABELS[i] for i in PARTNER_INSTITUTIONS if i not in institutions]
        if lacking:
            raise GovernanceError(
                f"{where} : le comité de pilotage doit compter au moins une personne de la Caf et une "
                f"personne de la fédération (charte 3.2) ; il manque : {' et '.join(lacking)}."
            )
    designators = [entry.committee_member(u) for u in entry.preparer.designated_by]
    unknown = [u for u, m in zip(entry.preparer.designated_by, designators) if m is None]
    if unknown:
        raise GovernanceError(
            f"{where} : la désignation du préparateur cite des personnes qui ne sont pas membres "
            f"du comité de pilotage : {', '.join(unknown)}."
        )
    designating = {m.institution for m in designators if m is not None}
    if not set(PARTNER_INSTITUTIONS) <= designating:
        raise GovernanceError(
            f"{where} : le préparateur doit être désigné collégialement par le comité, dont au moins "
            "un membre de la Caf et un membre de la fédération (charte 3.2)."
        )
    for correspondent in entry.correspondents:
        if correspondent.institution not in PARTNER_INSTITUTIONS:
            raise GovernanceError(
                f"{where} : le correspondant SENACS {correspondent.name} doit être mandaté par la Caf "
                "ou par la fédération (charte 1.3)."
            )


def parse_governance(raw: dict[str, Any], source: str = "governance.yaml") -> Governance:
    entries: list[TerritoryGovernance] = []
    seen: set[geo.Territory] = set()
    demo = bool(raw.get("demo", False))
    for index, item in enumerate(raw.get("territories") or [], start=1):
        where = f"{source}, territoire n° {index}"
        try:
            territory = geo.parse_territory(str(item.get("territory", "")))
        except ValueError as exc:
            raise GovernanceError(f"{where} : {exc}") from exc
        where = f"{source}, {geo.LEVEL_LABELS[territory.level]} {territory.name}"
        if territory in seen:
            raise GovernanceError(f"{where} : territoire décrit deux fois.")
        seen.add(territory)
        preparer = item.get("preparer") or {}
        if not preparer.get("user") or not preparer.get("designated_on") or not preparer.get("designated_by"):
            raise GovernanceError(
                f"{where} : le préparateur désigné doit être indiqué avec son identifiant (user), "
                "la date de sa désignation (designated_on) et les membres du comité qui l'ont désigné "
                "(designated_by)."
            )
        designated_on = preparer["designated_on"]
        if isinstance(designated_on, str):
            try:
                designated_on = dt.date.fromisoformat(designated_on)
            except ValueError as exc:
                raise GovernanceError(f"{where} : date de désignation illisible « {designated_on} ».") from exc
        entry = TerritoryGovernance(
            territory=territory,
            committee=tuple(
                _member(m, f"{where}, comité de pilotage", demo) for m in item.get("committee") or []
            ),
            preparer=Designation(
                user=str(preparer["user"]),
                name=str(preparer.get("name", preparer["user"])),
                designated_on=designated_on,
                designated_by=tuple(str(u) for u in preparer["designated_by"]),
                key=_key(preparer, str(preparer["user"]), f"{where}, préparateur", demo),
                account=None if preparer.get("account") is None else str(preparer["account"]),
            ),
            correspondents=tuple(
                _member(m, f"{where}, correspondants", demo) for m in item.get("correspondents") or []
            ),
        )
        _check_committee(entry, where)
        entries.append(entry)
    reviewed: list[tuple[str, str]] = []
    for index, item in enumerate(raw.get("reviewed_notebooks") or [], start=1):
        if not isinstance(item, dict) or not item.get("path") or not item.get("sha256"):
            raise GovernanceError(f"{source}, reviewed_notebooks n° {index} : « path » et « sha256 » sont requis.")
        reviewed.append((str(item["path"]), str(item["sha256"])))
    return Governance(tuple(entries), demo, tuple(reviewed))


def load_governance_text(path: Path) -> Governance:
    """Parse and check the governance file's text alone (no chain: see :func:`load_governance`)."""
    if not path.exists():
        raise GovernanceError(
            f"Le fichier de gouvernance {path} n'existe pas : il doit désigner le comité de pilotage, "
            "le préparateur et les correspondants SENACS de chaque territoire."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GovernanceError(f"Le fichier de gouvernance {path} est illisible : {exc}") from exc
    return parse_governance(raw, source=path.name)


def load_governance(path: Path) -> Governance:
    """The governance in force: the file's text, checked, and verified as the head of its signed chain."""
    from senacs_workbench.core.governance_chain import verify_workspace_chain

    governance = load_governance_text(path)
    verify_workspace_chain(path)
    return governance


def dump_governance(governance: Governance) -> str:
    def member(m: Member) -> dict[str, Any]:
        out: dict[str, Any] = {"user": m.user, "name": m.name, "institution": m.institution}
        if m.mandated_by:
            out["mandated_by"] = m.mandated_by
        if m.key:
            out["key"] = m.key
        if m.account:
            out["account"] = m.account
        return out

    def preparer(p: Designation) -> dict[str, Any]:
        out: dict[str, Any] = {"user": p.user, "name": p.name, "designated_on": p.designated_on.isoformat(),
                               "designated_by": list(p.designated_by)}
        if p.key:
            out["key"] = p.key
        if p.account:
            out["account"] = p.account
        return out

    raw: dict[str, Any] = {"demo": True} if governance.demo else {}
    if governance.reviewed_notebooks:
        raw["reviewed_notebooks"] = [{"path": p, "sha256": h} for p, h in governance.reviewed_notebooks]
    raw |= {
        "territories": [
            {
                "territory": t.territory.key,
                "committee": [member(m) for m in t.committee],
                "preparer": preparer(t.preparer),
                "correspondents": [member(m) for m in t.correspondents],
            }
            for t in governance.territories
        ]
    }
    return str(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
