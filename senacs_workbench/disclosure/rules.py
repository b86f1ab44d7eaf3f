"""The versioned rule set of disclosure control (YAML), its loader and its hash.

The rule set ships as ``senacs_workbench/data/disclosure/rules-v2.yaml`` (the default;
``rules-v1.yaml`` stays loadable). Its parameters are restricted: a :class:`RuleSet` never
prints them (its ``repr`` shows the version and hash only), and only :attr:`RuleSet.hash` — the
sha256 of the file's canonical content (the parsed YAML dumped as JSON with sorted keys) —
leaves the restricted zone.

The rule set is the one source of truth for where dominance and the p % rule apply: to the sum
of every quantitative question (:meth:`RuleSet.dominance_applies`) except those its
``dominance.exempt`` map names, each with a stated reason. Version 1 had no such map (a codebook
flag decided then, and no longer exists): loaded today, it exempts nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from senacs_workbench.core.errors import InputError

if TYPE_CHECKING:
    from senacs_workbench.core.codebook import Question

DEFAULT_RULES = "rules-v2.yaml"
_DATA = "senacs_workbench.data.disclosure"

_LEVEL_KEYS = ("national", "region", "departement", "epci", "commune")


class RuleSetError(InputError):
    """An invalid rule set (message in French, for the preparer)."""


def _get(raw: Mapping[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise RuleSetError(f"Jeu de règles incomplet : paramètre « {path} » manquant.")
        node = node[part]
    return node


def _exemptions(raw: Mapping[str, Any]) -> dict[str, str]:
    """The ``dominance.exempt`` map (question id → reason); required from version 2 on."""
    dominance = _get(raw, "dominance")
    if "exempt" not in dominance:
        if int(_get(raw, "version")) >= 2:
            raise RuleSetError("Jeu de règles incomplet : paramètre « dominance.exempt » manquant.")
        return {}
    exempt = dominance["exempt"] or {}
    if not isinstance(exempt, Mapping):
        raise RuleSetError("Règle de dominance : « exempt » doit associer chaque question à sa raison.")
    out: dict[str, str] = {}
    for question, reason in exempt.items():
        if not isinstance(reason, str) or not reason.strip():
            raise RuleSetError(
                f"Règle de dominance : la question « {question} » est exemptée sans raison énoncée."
            )
        out[str(question)] = reason.strip()
    return out


def canonical_hash(raw: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON form of a parsed rule set."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RuleSet:
    """Parameters of the primary and secondary rules (restricted)."""

    version: int
    min_contributors: int
    frequency_protection_ratio: float
    margin_count: float
    margin_sum_min: float
    margin_sum_ratio: float
    dominance_n: int
    dominance_k: float
    dominance_exempt: Mapping[str, str]
    """Questions whose sums dominance and the p % rule do not apply to: question id → reason."""
    p_percent: float
    symmetric: bool
    group_enabled: bool
    group_max_respondents: int
    group_include_none: bool
    group_none_all_answers: bool
    group_action: str
    quantile_min_each_side: int
    negative_status: str
    public_exempt: bool
    insiders: bool
    dominated_unions: bool
    max_union_rounds: int
    cost: Mapping[str, Mapping[str, float]]
    previous_year_factor: float
    hash: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def __repr__(self) -> str:  # never show parameters
        return f"RuleSet(version={self.version}, hash={self.hash[:12]}…)"

    __str__ = __repr__

    def dominance_applies(self, question: Question) -> bool:
        """Whether dominance and the p % rule apply to the sums of ``question``: every
        quantitative question (count, amount, decimal, percent) not exempted by name."""
        return question.type.is_numeric and question.id not in self.dominance_exempt

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> RuleSet:
        group_action = str(_get(raw, "group_disclosure.action"))
        if group_action not in ("suppress", "review"):
            raise RuleSetError(
                f"Règle de divulgation de groupe : action « {group_action} » inconnue "
                "(attendu : suppress ou review)."
            )
        negative_status = str(_get(raw, "negative_values.status"))
        if negative_status not in ("R", "A"):
            raise RuleSetError("Valeurs négatives : statut attendu R ou A.")
        exempt = _exemptions(raw)
        cost_raw = _get(raw, "secondary.cost")
        cost = {
            level: {
                "total": float(_get(cost_raw, f"{level}.total")),
                "category": float(_get(cost_raw, f"{level}.category")),
            }
            for level in _LEVEL_KEYS
        }
        rules = cls(
            version=int(_get(raw, "version")),
            min_contributors=int(_get(raw, "frequency.min_contributors")),
            frequency_protection_ratio=float(_get(raw, "frequency.protection_ratio")),
            margin_count=float(_get(raw, "frequency.margin_count")),
            margin_sum_min=float(_get(raw, "frequency.margin_sum_min")),
            margin_sum_ratio=float(_get(raw, "frequency.margin_sum_ratio")),
            dominance_n=int(_get(raw, "dominance.n")),
            dominance_k=float(_get(raw, "dominance.k")),
            dominance_exempt=exempt,
            p_percent=float(_get(raw, "p_percent.p")),
            symmetric=bool(_get(raw, "protection.symmetric")),
            group_enabled=bool(_get(raw, "group_disclosure.enabled")),
            group_max_respondents=int(_get(raw, "group_disclosure.max_respondents")),
            group_include_none=bool(_get(raw, "group_disclosure.include_none")),
            group_none_all_answers=str(_get(raw, "group_disclosure.none_scope")) == "all_answers",
            group_action=group_action,
            quantile_min_each_side=int(_get(raw, "quantiles.min_each_side")),
            negative_status=negative_status,
            public_exempt=bool(_get(raw, "public_identity.exempt")),
            insiders=bool(_get(raw, "secondary.insiders")),
            dominated_unions=bool(_get(raw, "secondary.dominated_unions")),
            max_union_rounds=int(_get(raw, "secondary.max_union_rounds")),
            cost=cost,
            previous_year_factor=float(_get(raw, "secondary.previous_year_factor")),
            hash=canonical_hash(raw),
            raw=dict(raw),
        )
        if rules.min_contributors < 1 or rules.dominance_n < 1 or not 0 < rules.dominance_k <= 100:
            raise RuleSetError("Jeu de règles invalide : seuils de fréquence ou de dominance incohérents.")
        if rules.dominance_n > 2:
            raise RuleSetError("Règle de dominance : n supérieur à 2 non pris en charge.")
        return rules

    def with_overrides(self, **changes: Any) -> RuleSet:
        """A copy with some parameters changed (dotted YAML paths: ``{"p_percent.p": 15}``)."""
        raw = json.loads(json.dumps(dict(self.raw)))
        for path, value in changes.items():
            parts = path.replace("__", ".").split(".")
            node = raw
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = value
        return RuleSet.from_mapping(raw)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load a rule set file; without ``path``, the packaged default rule set."""
    if path is None:
        text = resources.files(_DATA).joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RuleSetError(f"Impossible de lire le jeu de règles « {path} » : {exc}.") from exc
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise RuleSetError("Le jeu de règles doit être un dictionnaire YAML.")
    return RuleSet.from_mapping(raw)
