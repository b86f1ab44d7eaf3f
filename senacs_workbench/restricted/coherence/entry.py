"""Answers entered on behalf of a centre by the CAF or the federation (charter 2.2).

:func:`enter_answers` validates every value as at import, then writes the changed answers as a
new data version (kind ``entry``) with their provenance (``caf`` or ``federation``), the user
and the time; they then appear on the centre's review sheet (:mod:`.review`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from senacs_workbench.core.codebook import load_codebook
from senacs_workbench.core.governance import load_governance
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.coherence import findings as fs
from senacs_workbench.restricted.coherence.answer_input import AnswerProblem, ParsedAnswer, parse_answer
from senacs_workbench.restricted.coherence.corrections import KIND_ENTRY, CorrectionError, CorrectionResult
from senacs_workbench.restricted.coherence.scope import structure_territory
from senacs_workbench.restricted.store import (
    ENTERED_ON_BEHALF,
    AnswerChange,
    answers_of_structure,
    connect,
    current_answers,
    latest_version,
    structure_row,
    transaction,
    write_version,
)
from senacs_workbench.trust.access import require_raw_access
from senacs_workbench.trust.identity import acting_user

ENTRY_PROVENANCES = ENTERED_ON_BEHALF
DEFAULT_WHY = "Saisie pour le compte du centre (charte SENACS, article 2.2)."


class EntryError(CorrectionError):
    """Entered values refused; ``problems`` maps each question id to its French rule."""

    def __init__(self, problems: dict[str, str], labels: dict[str, str]) -> None:
        self.problems = problems
        lines = [f"- {labels.get(v, v)} ({v}) : {rule}" for v, rule in problems.items()]
        super().__init__("Saisie refusée, rien n'a été enregistré :\n" + "\n".join(lines))


def default_provenance(workspace: Workspace, user: str | None = None) -> str | None:
    """The institution of the acting user if they are a correspondent (``caf``/``federation``)."""
    user = user or acting_user(workspace.governance_path)
    try:
        governance = load_governance(workspace.governance_path)
    except Exception:
        return None
    for entry in governance.territories:
        for member in entry.correspondents:
            if member.user == user and member.institution in ENTRY_PROVENANCES:
                return member.institution
    return None


def structure_answers(
    workspace: Workspace, year: int, structure_id: str, *, user: str | None = None, action: str = "read_answers"
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The structure's row and its current answers ``{variable: {value, value_num, provenance…}}``
    (access-checked on its département)."""
    with connect(workspace, read_only=True) as con:
        version = latest_version(con, year)
        row = structure_row(con, year, version, structure_id)
    if row is None:
        raise CorrectionError(f"La structure « {structure_id} » n'existe pas dans les données de la campagne {year}.")
    require_raw_access(
        workspace,
        action,
        structure_territory(row.get("departement")),
        details={"year": year, "structure": structure_id, "form": "entry"},
        user=user,
    )
    with connect(workspace, read_only=True) as con:
        frame = answers_of_structure(con, year, version, structure_id)
    return row, {r["variable"]: r for r in frame.to_dict("records")}


def validate_entries(year: int, answers: Mapping[str, Any]) -> tuple[dict[str, ParsedAnswer], dict[str, str]]:
    codebook = load_codebook(year)
    parsed: dict[str, ParsedAnswer] = {}
    problems: dict[str, str] = {}
    for variable, raw in answers.items():
        if variable not in codebook:
            problems[variable] = f"question inconnue du questionnaire {year}"
            continue
        try:
            parsed[variable] = parse_answer(codebook.question(variable), raw)
        except AnswerProblem as exc:
            problems[variable] = str(exc)
    return parsed, problems


def enter_answers(
    workspace: Workspace,
    year: int,
    structure_id: str,
    answers: Mapping[str, Any],
    *,
    provenance: str | None = None,
    why: str | None = None,
    user: str | None = None,
) -> CorrectionResult:
    """Store answers entered for a centre (all or nothing) as a new data version."""
    codebook = load_codebook(year)
    parsed, problems = validate_entries(year, answers)
    if problems:
        raise EntryError(problems, {q.id: q.label for q in codebook.questions})
    provenance = provenance or default_provenance(workspace, user)
    if provenance not in ENTRY_PROVENANCES:
        raise CorrectionError(
            "Indiquez pour quelle institution vous saisissez (caf ou federation) : la saisie pour le compte d'un "
            "centre est faite par sa Caf ou par sa fédération (charte 2.2)."
        )
    with connect(workspace, read_only=True) as con:
        row = structure_row(con, year, latest_version(con, year), structure_id)
    if row is None:
        raise CorrectionError(f"La structure « {structure_id} » n'existe pas dans les données de la campagne {year}.")
    acting = require_raw_access(
        workspace,
        "enter_answers",
        structure_territory(row.get("departement")),
        details={"year": year, "structure": structure_id, "variables": sorted(parsed), "provenance": provenance},
        user=user,
    )
    when = fs.now()
    with transaction(workspace) as con:
        previous = latest_version(con, year)
        old = current_answers(con, year, previous, [(structure_id, v) for v in parsed])
        changes = []
        for variable, answer in parsed.items():
            before = old.get((structure_id, variable))
            if (before is None and answer.value is None) or (
                before is not None and before["value"] == answer.value
            ):
                continue
            changes.append(
                AnswerChange(structure_id, variable, answer.value, answer.value_num, provenance, why or DEFAULT_WHY)
            )
        if not changes:  # nothing written: the empty transaction commits
            return CorrectionResult(
                year, previous, previous, 0, "Aucune réponse modifiée : rien n'a été enregistré."
            )
        version, previous = write_version(con, year, changes, kind=KIND_ENTRY, user=acting, when=when)
    who = "la Caf" if provenance == "caf" else "la fédération"
    return CorrectionResult(
        year,
        version,
        previous,
        len(changes),
        f"{len(changes)} réponse(s) saisie(s) par {who} pour {structure_id} (version {version} des données de la "
        f"campagne {year}) ; elles figureront sur la fiche de relecture du centre.",
    )
