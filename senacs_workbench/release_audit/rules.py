"""The rule set as the independent release audit reads it: straight from the YAML file.

The audit shares no code with the disclosure-control engine (issue 16: an audit that shares the
engine's model of what a reader knows cannot find what the engine missed). It reads the same
rule-set file, but parses it itself, and every threshold must be in the file: a missing key
is an error, never a default that could drift from the engine's.

Semantics of the concentration rules (rule set v2): dominance and the p % rule apply to the sum
of *every* quantitative question (count, amount, decimal; percent through its internal sum
mean × n) except those listed by name in ``dominance.exempt: {question_id: reason}`` (a
missing ``exempt`` key exempts nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from senacs_workbench.core.errors import InputError

RULES_FILE = "rules-v2.yaml"
"""The packaged rule-set file the audit reads by default (``senacs_workbench/data/disclosure/``)."""
_DATA = "senacs_workbench.data.disclosure"


class AuditRulesError(InputError):
    """The rule set cannot be read by the audit (message in French)."""


def _get(raw: Mapping[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise AuditRulesError(f"Jeu de règles incomplet pour l'audit : paramètre « {path} » manquant.")
        node = node[part]
    return node


@dataclass(frozen=True)
class AuditRules:
    """The thresholds the audit needs (restricted: never shown to outside viewers)."""

    min_contributors: int
    protection_ratio: float
    margin_count: float
    margin_sum_min: float
    margin_sum_ratio: float
    dominance_n: int
    dominance_k: float
    dominance_exempt: Mapping[str, str]
    p_percent: float
    symmetric: bool
    group_enabled: bool
    group_max_respondents: int
    group_include_none: bool
    group_none_all_answers: bool
    public_exempt: bool

    def __repr__(self) -> str:  # never print parameters
        return "AuditRules(…)"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> AuditRules:
        dominance = _get(raw, "dominance")
        exempt = (dominance.get("exempt") or {}) if isinstance(dominance, Mapping) else {}
        if not isinstance(exempt, Mapping):
            raise AuditRulesError("Jeu de règles : « dominance.exempt » doit associer une question à une raison.")
        rules = cls(
            min_contributors=int(_get(raw, "frequency.min_contributors")),
            protection_ratio=float(_get(raw, "frequency.protection_ratio")),
            margin_count=float(_get(raw, "frequency.margin_count")),
            margin_sum_min=float(_get(raw, "frequency.margin_sum_min")),
            margin_sum_ratio=float(_get(raw, "frequency.margin_sum_ratio")),
            dominance_n=int(_get(raw, "dominance.n")),
            dominance_k=float(_get(raw, "dominance.k")),
            dominance_exempt={str(k): str(v) for k, v in exempt.items()},
            p_percent=float(_get(raw, "p_percent.p")),
            symmetric=bool(_get(raw, "protection.symmetric")),
            group_enabled=bool(_get(raw, "group_disclosure.enabled")),
            group_max_respondents=int(_get(raw, "group_disclosure.max_respondents")),
            group_include_none=bool(_get(raw, "group_disclosure.include_none")),
            group_none_all_answers=str(_get(raw, "group_disclosure.none_scope")) == "all_answers",
            public_exempt=bool(_get(raw, "public_identity.exempt")),
        )
        if rules.dominance_n not in (1, 2) or not 0 < rules.dominance_k <= 100 or rules.min_contributors < 1:
            raise AuditRulesError("Jeu de règles invalide pour l'audit : seuils de fréquence ou de dominance.")
        return rules


def load_audit_rules(path: str | Path | None = None) -> AuditRules:
    """Read the rule set at ``path`` (default: the packaged :data:`RULES_FILE`)."""
    if path is None:
        text = resources.files(_DATA).joinpath(RULES_FILE).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuditRulesError(f"Impossible de lire le jeu de règles « {path} » : {exc}.") from exc
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise AuditRulesError("Le jeu de règles doit être un dictionnaire YAML.")
    return AuditRules.from_mapping(raw)
