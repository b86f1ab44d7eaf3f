"""``senacs check``: run the catalogue on the latest data version and store the findings.

The run reads the latest data version of the year (and, for the comparisons over time, the
previous import of the same year and the latest version of the previous year) through
:class:`~senacs_workbench.restricted.store.RawDataStore`, evaluates the rules, then updates the findings
in one transaction: a finding already open or asked is refreshed, not duplicated; a finding
already settled (confirmed or withdrawn) with the same values is not raised again; an open
finding that the new data no longer shows is closed (``corrected`` when its values changed,
``withdrawn`` otherwise), with an event saying why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.formatting import format_number
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.checks import CheckData, Reference, evaluate, outlier_questions
from senacs_workbench.restricted.coherence.rules import SEVERITIES, SEVERITY_LABELS, load_catalogue
from senacs_workbench.restricted.coherence.scope import in_territory, resolve_territory
from senacs_workbench.restricted.store import RawDataStore, StoreError, transaction
from senacs_workbench.trust import audit_log
from senacs_workbench.trust.access import require_raw_access

IMPORT_KINDS = ("import", "partial_import", "update_import")
RUN_COLUMNS = (
    "run_id", "year", "territory", "version", "run_at", "run_by", "found", "new_findings", "closed_findings",
    "seconds",
)


@dataclass(frozen=True)
class CheckReport:
    """What a coherence check found (``message_fr`` says it in French)."""

    year: int
    territory: str
    version: int
    found: int
    new: int
    refreshed: int
    closed: int
    by_severity: dict[str, int]
    by_rule: dict[str, int]
    seconds: float
    run_id: int
    message_fr: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)


def load_check_data(
    store: RawDataStore, year: int, territory: geo.Territory, version: int | None = None
) -> tuple[CheckData, int]:
    """The wide data of the latest (or given) version and its references over time."""
    versions = store.versions(year)
    if versions.empty:
        raise StoreError(f"Aucune donnée importée pour la campagne {year} : rien à contrôler.")
    latest = int(versions["version"].max()) if version is None else version
    # the values as entered: an out-of-bounds answer, blank for every aggregate, is raised here
    frame = store.wide(year, territory, version=latest, as_entered=True).set_index("structure_id")
    references: list[Reference] = []
    codebook = load_codebook(year)
    over_time = sorted(
        {str(r.params["variable"]) for r in load_catalogue().check_rules if r.kind == "evolution"}
        | {q for r in load_catalogue().check_rules if r.kind == "value_outlier" for q in outlier_questions(r, codebook)}
    )
    imports = versions[versions["kind"].isin(IMPORT_KINDS) & (versions["version"] <= latest)]
    if len(imports) >= 2:
        previous = int(imports["version"].iloc[-2])
        references.append(
            Reference(
                f"version {previous} de la campagne {year}",
                store.wide(year, territory, version=previous, variables=over_time).set_index("structure_id"),
            )
        )
    if not store.versions(year - 1).empty:
        wanted = [v for v in over_time if v in load_codebook(year - 1)]
        references.append(
            Reference(
                f"campagne {year - 1}", store.wide(year - 1, territory, variables=wanted).set_index("structure_id")
            )
        )
    return CheckData(year=year, codebook=codebook, frame=frame, references=references), latest


def run_check(
    workspace: Workspace,
    year: int,
    territory: geo.Territory | str | None = None,
    *,
    user: str | None = None,
    rule_ids: Sequence[str] | None = None,
) -> CheckReport:
    """Run the coherence rules on the latest data version of ``year`` (access-checked, logged)."""
    started = time.perf_counter()
    place = resolve_territory(workspace, territory)
    user = require_raw_access(workspace, "coherence_check", place, details={"year": year}, user=user)
    store = RawDataStore(workspace, user)
    data, version = load_check_data(store, year, place)
    catalogue = load_catalogue()
    raw = evaluate(catalogue, data, rule_ids)
    rules_run = {r.id for r in catalogue.check_rules if rule_ids is None or r.id in rule_ids}
    geo_frame = data.frame[["nom_structure", "departement", "region"]]
    with transaction(workspace) as con:
        outcome = _store(con, year, place, version, raw, rules_run, data, geo_frame, user)
        seconds = time.perf_counter() - started
        run_id = fs.next_id(con, "coherence_runs", "run_id")
        con.execute(
            f"INSERT INTO coherence_runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' for _ in RUN_COLUMNS)})",
            [
                run_id,
                year,
                place.key,
                version,
                fs.now(),
                user,
                len(raw),
                outcome["new"],
                outcome["closed"],
                seconds,
            ],
        )
        con.execute("UPDATE coherence_findings SET run_id = ? WHERE run_id = -1", [run_id])
    by_severity = {s: int((raw["severity"] == s).sum()) for s in SEVERITIES}
    by_rule = {str(k): int(v) for k, v in raw["rule_id"].value_counts().sort_index().items()}
    audit_log.append(
        workspace.audit_log_path,
        user=user,
        action="coherence_findings",
        territory=place.key,
        details={
            "year": year,
            "version": version,
            "found": len(raw),
            "new": outcome["new"],
            "closed": outcome["closed"],
        },
    )
    seconds = time.perf_counter() - started
    severity_text = ", ".join(f"{format_number(by_severity[s])} {SEVERITY_LABELS[s]}(s)" for s in SEVERITIES)
    message = (
        f"Contrôle de cohérence de la campagne {year} ({place.name}, version {version} des données) : "
        f"{format_number(len(raw))} constat(s) ({severity_text}), dont {format_number(outcome['new'])} nouveau(x)"
        f"; {format_number(outcome['closed'])} constat(s) ouvert(s) refermé(s) car la donnée a changé. "
        f"Durée : {format_number(seconds, 1)} s."
    )
    return CheckReport(
        year=year,
        territory=place.key,
        version=version,
        found=len(raw),
        new=outcome["new"],
        refreshed=outcome["refreshed"],
        closed=outcome["closed"],
        by_severity=by_severity,
        by_rule=by_rule,
        seconds=seconds,
        run_id=run_id,
        message_fr=message,
        references=tuple(r.label for r in data.references),
    )


def _key(structure_id: str, rule_id: str, variables: str) -> tuple[str, str, str]:
    return (str(structure_id), str(rule_id), str(variables))


def _store(
    con: Any,
    year: int,
    place: geo.Territory,
    version: int,
    raw: pd.DataFrame,
    rules_run: set[str],
    data: CheckData,
    geo_frame: pd.DataFrame,
    user: str,
) -> dict[str, int]:
    when = fs.now()
    existing = fs.fetch_findings(con, "year = ? AND origin = ?", [year, fs.ORIGIN_CHECK])
    if len(existing):
        existing = existing[in_territory(existing, place).to_numpy()]
    active: dict[tuple[str, str, str], dict[str, Any]] = {}
    settled: dict[tuple[str, str, str], set[str]] = {}
    for record in existing.to_dict("records"):
        key = _key(record["structure_id"], record["rule_id"], record["variables"])
        if record["status"] in fs.ACTIVE:
            active[key] = record
        elif record["status"] in (fs.CONFIRMED, fs.WITHDRAWN):
            settled.setdefault(key, set()).add(record["values_json"])
    seen: set[tuple[str, str, str]] = set()
    counts = {"new": 0, "refreshed": 0, "closed": 0}
    for item in raw.to_dict("records"):
        variables = "|".join(item["variables"])
        key = _key(item["structure_id"], item["rule_id"], variables)
        values_json = json.dumps(item["values"], ensure_ascii=False, sort_keys=True)
        seen.add(key)
        if key in active:
            con.execute(
                """UPDATE coherence_findings SET last_seen_version = ?, values_json = ?, values_text = ?,
                       message = ? WHERE finding_id = ?""",
                [version, values_json, item["values_text"], item["message"], int(active[key]["finding_id"])],
            )
            counts["refreshed"] += 1
            continue
        if values_json in settled.get(key, set()):
            continue
        rule = load_catalogue().rule(item["rule_id"])
        place_row = geo_frame.loc[item["structure_id"]]
        fs.insert_finding(
            con,
            {
                "year": year,
                "structure_id": item["structure_id"],
                "nom_structure": place_row["nom_structure"],
                "departement": place_row["departement"],
                "region": place_row["region"],
                "rule_id": item["rule_id"],
                "severity": item["severity"],
                "family": item["family"],
                "variables": variables,
                "values_json": values_json,
                "values_text": item["values_text"],
                "message": item["message"],
                "question": rule.question,
                "origin": fs.ORIGIN_CHECK,
                "detected_version": version,
                "last_seen_version": version,
                "run_id": -1,
            },
            user,
            when,
        )
        counts["new"] += 1
    for key, record in active.items():
        if key in seen or record["rule_id"] not in rules_run:
            continue
        changed = _values_changed(record, data)
        note = (
            f"N'est plus détecté dans la version {version} des données : la valeur a changé."
            if changed
            else f"N'est plus détecté dans la version {version} des données (règle modifiée ou structure absente)."
        )
        fs.move(con, record, fs.CORRECTED if changed else fs.WITHDRAWN, user, when, note=note, data_version=version)
        counts["closed"] += 1
    return counts


def _values_changed(record: dict[str, Any], data: CheckData) -> bool:
    values = fs.decode_values(record["values_json"])
    structure = record["structure_id"]
    if structure not in data.frame.index:
        return False
    for variable in str(record["variables"]).split("|"):
        if variable not in data.frame.columns:
            continue
        now = data.frame.at[structure, variable]
        before = values.get(variable)
        now_missing = now is None or (isinstance(now, float) and pd.isna(now))
        if now_missing != (before is None):
            return True
        if now_missing:
            continue
        if isinstance(before, float):
            try:
                if abs(float(now) - before) > 1e-9:
                    return True
            except (TypeError, ValueError):
                return True
        elif str(now)[:10] != str(before)[:10]:
            return True
    return False
