"""Corrections and answers entered for a centre: each change makes a new, complete data version.

A change never edits an answer in place. The store (:func:`senacs_workbench.restricted.store.write_version`)
copies the previous version's structures and answers into a new version (kind ``correction``
or ``entry``) inside the caller's transaction, replacing only the changed (structure, variable)
rows; those carry their provenance (``centre``, ``caf`` or ``federation``), the user and the
time, and the ``corrections`` table records the old and new values, who, when, why and from
which exchange or finding. Earlier versions stay readable, so the history of every value can be
shown (:func:`value_history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.answer_input import AnswerProblem, parse_answer
from senacs_workbench.restricted.coherence.scope import structure_territory
from senacs_workbench.restricted.coherence.values import display_value
from senacs_workbench.restricted.store import (
    PROVENANCE_LABELS,
    PROVENANCES,
    AnswerChange,
    answer_history,
    connect,
    current_answers,
    latest_version,
    structure_row,
    transaction,
    write_version,
)
from senacs_workbench.trust.access import require_raw_access

__all__ = [
    "AnswerChange",
    "CorrectionError",
    "CorrectionResult",
    "correct_answer",
    "current_answers",
    "latest_version",
    "render_history",
    "structure_row",
    "value_history",
    "write_version",
]

KIND_CORRECTION = "correction"
KIND_ENTRY = "entry"


class CorrectionError(SenacsError):
    """A correction that cannot be applied (French message naming what is wrong)."""


@dataclass(frozen=True)
class CorrectionResult:
    year: int
    version: int
    previous_version: int
    changes: int
    message_fr: str


# ---------------------------------------------------------------------------- one correction


def _check_source(source: str) -> str:
    if source not in PROVENANCES:
        raise CorrectionError(f"Origine « {source} » inconnue : qui fournit la valeur ? (centre, caf ou federation).")
    return source


def _structure_for_access(workspace: Workspace, year: int, structure_id: str) -> dict[str, Any]:
    with connect(workspace, read_only=True) as con:
        version = latest_version(con, year)
        row = structure_row(con, year, version, structure_id)
    if row is None:
        raise CorrectionError(f"La structure « {structure_id} » n'existe pas dans les données de la campagne {year}.")
    return row


def correct_answer(
    workspace: Workspace,
    year: int,
    structure_id: str,
    variable: str,
    value: Any,
    *,
    why: str,
    exchange: str | None = None,
    finding_id: int | None = None,
    source: str = "centre",
    user: str | None = None,
) -> CorrectionResult:
    """Correct one answer (``senacs correct``): a new data version, the original kept.

    ``source`` says who gives the new value (``centre`` when the centre answered the question,
    ``caf``/``federation`` when the correspondent's institution enters it for the centre).
    With ``finding_id``, the finding is closed as corrected.
    """
    if not why or not why.strip():
        raise CorrectionError("Indiquez le motif de la correction (--why) : il est conservé dans l'historique.")
    _check_source(source)
    codebook = load_codebook(year)
    if variable not in codebook:
        raise CorrectionError(f"La question « {variable} » n'existe pas dans le questionnaire {year}.")
    question = codebook.question(variable)
    row = _structure_for_access(workspace, year, structure_id)
    user = require_raw_access(
        workspace,
        "correct_answer",
        structure_territory(row.get("departement")),
        details={"year": year, "structure": structure_id, "variable": variable, "finding": finding_id},
        user=user,
    )
    try:
        parsed = parse_answer(question, value)
    except AnswerProblem as problem:
        raise CorrectionError(
            f"Valeur « {value} » refusée pour « {question.label} » ({variable}) : {problem}."
        ) from None
    when = fs.now()
    with transaction(workspace) as con:
        finding = None
        if finding_id is not None:
            finding = fs.get_finding(con, finding_id)
            check_finding_target(finding, year, structure_id, variable)
        previous = latest_version(con, year)
        old = current_answers(con, year, previous, [(structure_id, variable)]).get((structure_id, variable))
        if (old is None and parsed.value is None) or (old is not None and old["value"] == parsed.value):
            raise CorrectionError(
                f"La réponse « {question.label} » de {structure_id} vaut déjà "
                f"{display_value(question, parsed.value)} : rien à corriger "
                "(pour dire qu'elle est juste, confirmez le constat)."
            )
        change = AnswerChange(
            structure_id, variable, parsed.value, parsed.value_num, source, why.strip(), exchange, finding_id
        )
        version, previous = write_version(con, year, [change], kind=KIND_CORRECTION, user=user, when=when)
        if finding is not None:
            fs.move(con, finding, fs.CORRECTED, user, when, note=why.strip(), exchange=exchange, data_version=version)
    old_text = display_value(question, None if old is None else old["value"])
    message = (
        f"Réponse « {question.label} » de {structure_id} corrigée : {old_text} → "
        f"{display_value(question, parsed.value)} (version {version} des données de la campagne {year} ; "
        f"la version {previous} reste lisible)."
    )
    if finding is not None:
        message += f" Constat n° {finding_id} clos : corrigé."
    return CorrectionResult(year, version, previous, 1, message)


def check_finding_target(finding: dict[str, Any], year: int, structure_id: str, variable: str | None) -> None:
    finding_id = int(finding["finding_id"])
    if int(finding["year"]) != year:
        raise CorrectionError(f"Le constat n° {finding_id} concerne la campagne {finding['year']}, pas {year}.")
    if str(finding["structure_id"]) != str(structure_id):
        raise CorrectionError(
            f"Le constat n° {finding_id} concerne la structure {finding['structure_id']}, pas {structure_id}."
        )
    if variable is not None and variable not in str(finding["variables"]).split("|"):
        raise CorrectionError(
            f"Le constat n° {finding_id} ne porte pas sur la question « {variable} » "
            f"(il porte sur : {str(finding['variables']).replace('|', ', ')})."
        )
    if finding["status"] in fs.CLOSED:
        raise CorrectionError(f"Le constat n° {finding_id} est déjà clos ({fs.STATUS_LABELS[str(finding['status'])]}).")


# ---------------------------------------------------------------------------- history


def value_history(
    workspace: Workspace, year: int, structure_id: str, variable: str, *, user: str | None = None
) -> pd.DataFrame:
    """Every version of one answer: one row per data version where it changed (the first
    included), with who entered it, when, and for corrections why and from which exchange."""
    codebook = load_codebook(year)
    if variable not in codebook:
        raise CorrectionError(f"La question « {variable} » n'existe pas dans le questionnaire {year}.")
    row = _structure_for_access(workspace, year, structure_id)
    require_raw_access(
        workspace,
        "read_answers",
        structure_territory(row.get("departement")),
        details={"year": year, "structure": structure_id, "variable": variable, "form": "history"},
        user=user,
    )
    with connect(workspace, read_only=True) as con:
        found = answer_history(con, year, structure_id, variable)
    versions, answers, corrections = found.versions, found.answers, found.corrections
    question = codebook.question(variable)
    merged = (
        versions[versions["present"]]
        .merge(answers, on="version", how="left")
        .merge(corrections, on="version", how="left")
    )
    rows: list[dict[str, Any]] = []
    last: tuple[Any, ...] | None = None
    for record in merged.to_dict("records"):
        value = None if pd.isna(record["value"]) else record["value"]
        state = (value, record["provenance"] if value is not None else None, record["entered_at"])
        if state == last:
            continue
        last = state
        rows.append(
            {
                "version": int(record["version"]),
                "kind": record["kind"],
                "value": value,
                "valeur": display_value(question, value),
                "provenance": None if pd.isna(record["provenance"]) else record["provenance"],
                "entered_by": None if pd.isna(record["entered_by"]) else record["entered_by"],
                "entered_at": None if pd.isna(record["entered_at"]) else record["entered_at"],
                "why": None if pd.isna(record["why"]) else record["why"],
                "exchange": None if pd.isna(record["exchange"]) else record["exchange"],
                "finding_id": None if pd.isna(record["finding_id"]) else int(record["finding_id"]),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "version",
            "kind",
            "value",
            "valeur",
            "provenance",
            "entered_by",
            "entered_at",
            "why",
            "exchange",
            "finding_id",
        ],
    )


KIND_LABELS = {
    "import": "import",
    "partial_import": "import partiel",
    KIND_CORRECTION: "correction",
    KIND_ENTRY: "saisie pour le centre",
}


def render_history(history: pd.DataFrame, year: int, structure_id: str, variable: str) -> str:
    """The French text of :func:`value_history` (``senacs history``)."""
    question = load_codebook(year).question(variable)
    lines = [f"Historique de « {question.label} » ({variable}) pour {structure_id}, campagne {year} :"]
    if history.empty:
        lines.append("  aucune réponse enregistrée.")
    for record in history.to_dict("records"):
        record = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in record.items()}
        when = pd.Timestamp(record["entered_at"]).strftime("%d/%m/%Y %H:%M") if record["entered_at"] else "–"
        who = PROVENANCE_LABELS.get(str(record["provenance"]), "–")
        line = (
            f"  version {record['version']} ({KIND_LABELS.get(record['kind'], record['kind'])}) : {record['valeur']}"
            f" — source : {who} ; enregistré par {record['entered_by'] or '–'} le {when}"
        )
        if record["why"]:
            line += f" ; motif : {record['why']}"
        if record["exchange"]:
            line += f" ; échange : {record['exchange']}"
        if record["finding_id"]:
            line += f" ; constat n° {int(record['finding_id'])}"
        lines.append(line)
    return "\n".join(lines)
