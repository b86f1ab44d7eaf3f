"""The catalogue of coherence rules (``data/coherence/rules.yaml``), loaded and checked.

Each rule names the vectorised check that implements it (``kind``, see :mod:`.checks`), its
severity, the questions it concerns, the French message a centre reads and the question the
correspondent asks. ``family`` maps a rule to the synthetic generator's family of planted
incoherences, for the measured recall and precision.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from senacs_workbench.core.codebook import CodebookError, RelationKind, relation
from senacs_workbench.core.errors import SenacsError

SEVERITIES = ("error", "warning", "information")
SEVERITY_LABELS = {"error": "erreur", "warning": "alerte", "information": "information"}
OBJECTION_RULE = "objection_centre"
_DATA = "senacs_workbench.data.coherence"


class RuleCatalogueError(SenacsError):
    """The rules catalogue is malformed."""


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str
    label: str
    message: str
    question: str
    questions: tuple[str, ...] = ()
    family: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    """Other French texts of the rule (e.g. ``message_oui``)."""


@dataclass(frozen=True)
class PeerSettings:
    min_peers: int
    mad_floor: float
    size_variable: str
    size_bins: tuple[float, ...]
    size_labels: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Catalogue:
    version: int
    rules: tuple[Rule, ...]
    peers: PeerSettings

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise RuleCatalogueError(f"Règle de cohérence inconnue : « {rule_id} ».")

    @property
    def check_rules(self) -> tuple[Rule, ...]:
        """Rules that the check runs (every rule but the centres' objections)."""
        return tuple(r for r in self.rules if r.kind != "objection")

    def families(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rule in self.rules:
            if rule.family:
                out.setdefault(rule.family, []).append(rule.id)
        return out


_RELATION_CHECKS = {
    RelationKind.SUM_TO_TOTAL: "sum_to_total",
    RelationKind.SUM_TO_CONSTANT: "sum_to_constant",
    RelationKind.BOUNDED_BY: "compare",
}
"""The check that tests one centre against each kind of declared relation."""


def _declared(item: dict[str, Any], where: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Questions and thresholds of a rule that names a codebook relation (the one declaration)."""
    if item.get("questions") or item.get("params"):
        raise RuleCatalogueError(f"{where} : une règle qui nomme une relation du questionnaire n'a ni "
                                 "« questions » ni « params » (ils viennent de la relation).")
    try:
        declared = relation(str(item["relation"]))
    except CodebookError as exc:
        raise RuleCatalogueError(f"{where} : {exc}") from None
    if _RELATION_CHECKS[declared.kind] != item["kind"]:
        raise RuleCatalogueError(f"{where} : la relation « {declared.id} » ({declared.kind.value}) se contrôle par "
                                 f"« {_RELATION_CHECKS[declared.kind]} », pas « {item['kind']} ».")
    if declared.kind is RelationKind.SUM_TO_TOTAL:
        params: dict[str, Any] = {"total": declared.total, "relative_tolerance": declared.relative_tolerance,
                                  "absolute_tolerance": declared.absolute_tolerance}
    elif declared.kind is RelationKind.SUM_TO_CONSTANT:
        params = {"target": declared.constant, "tolerance": declared.absolute_tolerance}
    else:
        part, bound = declared.parts[0], str(declared.bound)
        return (part, bound), {"left": part, "right": bound, "tolerance": declared.absolute_tolerance}
    return declared.questions, params


def parse_catalogue(raw: dict[str, Any], source: str = "rules.yaml") -> Catalogue:
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw.get("rules") or [], start=1):
        where = f"{source}, règle n° {index}"
        missing = [k for k in ("id", "kind", "severity", "label", "message", "question") if not item.get(k)]
        if missing:
            raise RuleCatalogueError(f"{where} : champ(s) manquant(s) : {', '.join(missing)}.")
        if item["id"] in seen:
            raise RuleCatalogueError(f"{where} : identifiant « {item['id']} » en double.")
        seen.add(item["id"])
        if item["severity"] not in SEVERITIES:
            raise RuleCatalogueError(
                f"{where} : gravité « {item['severity']} » inconnue (attendu : {', '.join(SEVERITIES)})."
            )
        known = {"id", "kind", "severity", "label", "message", "question", "questions", "family", "params", "relation"}
        questions, params = _declared(item, where) if item.get("relation") else (
            tuple(str(q) for q in item.get("questions") or ()), dict(item.get("params") or {}))
        rules.append(
            Rule(
                id=str(item["id"]),
                kind=str(item["kind"]),
                severity=str(item["severity"]),
                label=str(item["label"]),
                message=str(item["message"]),
                question=str(item["question"]),
                questions=questions,
                family=item.get("family"),
                params=params,
                extra={k: str(v) for k, v in item.items() if k not in known},
            )
        )
    peers = raw.get("peers") or {}
    sizes = peers.get("size_classes") or {}
    settings = PeerSettings(
        min_peers=int(peers.get("min_peers", 8)),
        mad_floor=float(peers.get("mad_floor", 0.05)),
        size_variable=str(sizes.get("variable", "salaries")),
        size_bins=tuple(float(b) for b in sizes.get("bins", [0, 10, 30])),
        size_labels=tuple(str(label) for label in sizes.get("labels", ["petite", "moyenne", "grande"])),
        levels=tuple(tuple(level) for level in peers.get("levels", [["departement", "type_structure", "taille"]])),
    )
    if len(settings.size_labels) != len(settings.size_bins):
        raise RuleCatalogueError(f"{source} : autant de libellés que de seuils de classes de taille attendus.")
    return Catalogue(version=int(raw.get("version", 1)), rules=tuple(rules), peers=settings)


@functools.cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue (validated against the check registry on first use)."""
    text = resources.files(_DATA).joinpath("rules.yaml").read_text(encoding="utf-8")
    catalogue = parse_catalogue(yaml.safe_load(text))
    from senacs_workbench.restricted.coherence.checks import CHECKS

    unknown = [r.id for r in catalogue.rules if r.kind not in CHECKS and r.kind != "objection"]
    if unknown:
        raise RuleCatalogueError(f"rules.yaml : type de contrôle inconnu pour : {', '.join(unknown)}.")
    return catalogue
