"""Validate parsed answers against the codebook and the territory, with pandera.

Rules: ranges and integer counts, categories, dates, required answers (identity questions for
every structure, the others for respondents — a respondent has answered at least one question
outside the identity block), structure ids present and unique, commune codes that exist, the
département consistent with the commune and inside the workspace's territory.

The bounds and the required answers do not refuse a file (issue 21): their issues are marked
(``bounds``, ``required``) and the import keeps the row, the coherence check questions the centre.
A structure without an id or a commune cannot be stored at all: those stay refusals.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import Codebook, Question, QuestionType
from senacs_workbench.core.errors import InputError
from senacs_workbench.restricted.importing.headers import ResolvedColumns
from senacs_workbench.restricted.importing.issues import ImportIssue
from senacs_workbench.restricted.importing.reading import RawTable
from senacs_workbench.restricted.importing.values import cell_text


@dataclass(frozen=True)
class _Rule:
    column: str
    message: Callable[[object], str]
    bounds: bool = False
    """A codebook bound (range, whole count, date limits): the value is kept and questioned."""
    required: bool = False
    """A required answer left blank: the row is kept (the answer stored as missing) and questioned."""


@functools.cache
def _communes() -> pd.DataFrame:
    return geo.communes(with_arrondissements=True).set_index("code")[["departement", "region", "epci"]]


def _number(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = f"{value:,.10g}".replace(",", "\u202f").replace(".", ",")
    return text


def _date_fr(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def _territory_departements(territory: geo.Territory) -> set[str] | None:
    if territory.level == "national":
        return None
    if territory.level == "region":
        return set(geo.departements_of(territory.code))
    if territory.level == "departement":
        return {territory.code}
    raise InputError(f"Territoire d'espace de travail non pris en charge : {territory.level}.")


def build_schema(
    codebook: Codebook,
    territory: geo.Territory,
    respondent: pd.Series,
    commune_departement: pd.Series,
) -> tuple[pa.DataFrameSchema, dict[str, _Rule]]:
    """The pandera schema of a parsed export, and the French message of each named check.

    Every check is a column check (so that a failure names one cell); the checks that need
    another column (required answers of respondents, the commune's département) close over
    ``respondent`` and ``commune_departement``, aligned with the frame's index.
    """
    rules: dict[str, _Rule] = {}

    def check(
        column: str, name: str, fn: Callable[..., object], message: Callable[[object], str], ignore_na: bool = True,
        bounds: bool = False, required: bool = False,
    ) -> pa.Check:
        full = f"{column}::{name}"
        rules[full] = _Rule(column, message, bounds, required)
        return pa.Check(fn, name=full, ignore_na=ignore_na)

    communes = _communes()
    commune_checks = [
        check("code_commune", "exists", lambda s: s.isin(communes.index),
              lambda v: "commune inconnue du code officiel géographique (code INSEE à 5 caractères attendu)"),
    ]
    departements = _territory_departements(territory)
    if departements is not None:
        outside = f"commune hors du territoire de l'espace de travail ({geo.LEVEL_LABELS[territory.level]} " \
                  f"{territory.name})"
        commune_checks.append(
            check("code_commune", "territory",
                  lambda s: commune_departement[s.index].isna() | commune_departement[s.index].isin(departements),
                  lambda v: outside)
        )
    columns: dict[str, pa.Column] = {
        "id_structure": pa.Column(None, nullable=False, unique=True, report_duplicates="all"),
        "code_commune": pa.Column(None, commune_checks, nullable=False),
        "departement": pa.Column(
            None,
            [check("departement", "consistent",
                   lambda s: commune_departement[s.index].isna() | (s == commune_departement[s.index]),
                   lambda v: "département incohérent avec le code commune")],
            nullable=True,
        ),
    }
    for question in codebook.questions:
        checks = _question_checks(question, check)
        if question.required and question.is_identity:
            checks.append(check(question.id, "required", lambda s: s.notna(),
                                lambda v: "réponse obligatoire manquante", ignore_na=False, required=True))
        elif question.required:
            checks.append(check(question.id, "required", lambda s: s.notna() | ~respondent[s.index],
                                lambda v: "réponse obligatoire manquante pour une structure répondante",
                                ignore_na=False, required=True))
        dtype = float if question.type.is_numeric else None
        columns[question.id] = pa.Column(dtype, checks, nullable=True, required=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False), rules


def _question_checks(question: Question, check: Callable[..., pa.Check]) -> list[pa.Check]:
    checks: list[pa.Check] = []
    qid = question.id
    if question.type.is_numeric:
        low = None if question.minimum is None else float(question.minimum)
        high = None if question.maximum is None else float(question.maximum)
        if low is not None or high is not None:
            lo = -np.inf if low is None else low
            hi = np.inf if high is None else high
            interval = f"[{_number(low) if low is not None else '−∞'} ; {_number(high) if high is not None else '+∞'}]"
            checks.append(
                check(qid, "range", lambda s, lo=lo, hi=hi: (s >= lo) & (s <= hi),
                      lambda v, i=interval: f"valeur hors de l'intervalle autorisé {i}", bounds=True)
            )
        if question.type is QuestionType.COUNT:
            checks.append(check(qid, "integer", lambda s: s % 1 == 0, lambda v: "nombre entier attendu", bounds=True))
        return checks
    if question.type.is_categorical:
        codes = set(question.answer_codes)
        if question.type is QuestionType.MULTIPLE_CHOICE:
            checks.append(check(qid, "categories", lambda s, c=codes: s.map(lambda v: set(v.split("|")) <= c),
                                lambda v: "modalité inconnue"))
        else:
            checks.append(check(qid, "categories", lambda s, c=codes: s.isin(c), lambda v: "modalité inconnue"))
    if question.type is QuestionType.DATE:
        first = str(question.minimum) if question.minimum is not None else None
        last = str(question.maximum) if question.maximum is not None else None
        if first:
            checks.append(check(qid, "min", lambda s, lo=first: s >= lo,
                                lambda v, lo=first: f"date antérieure au {_date_fr(lo)}", bounds=True))
        if last:
            checks.append(check(qid, "max", lambda s, hi=last: s <= hi,
                                lambda v, hi=last: f"date postérieure au {_date_fr(hi)}", bounds=True))
    return checks


def validate(
    parsed: pd.DataFrame,
    table: RawTable,
    columns: ResolvedColumns,
    codebook: Codebook,
    territory: geo.Territory,
) -> list[ImportIssue]:
    """Every rule violation of ``parsed`` as an issue naming the file's line and column."""
    respondent = codebook.respondents(parsed)
    known = _communes()["departement"]
    commune_departement = pd.Series(
        [known.get(code) if isinstance(code, str) else None for code in parsed["code_commune"]],
        index=parsed.index, dtype=object,
    )
    schema, rules = build_schema(codebook, territory, respondent, commune_departement)
    try:
        schema.validate(parsed, lazy=True)
    except SchemaErrors as errors:
        return _issues(errors.failure_cases, parsed, commune_departement, table, columns, rules)
    return []


def _issues(
    failures: pd.DataFrame,
    frame: pd.DataFrame,
    commune_departement: pd.Series,
    table: RawTable,
    columns: ResolvedColumns,
    rules: dict[str, _Rule],
) -> list[ImportIssue]:
    issues: list[ImportIssue] = []
    seen: set[tuple[str, int]] = set()
    duplicates = frame.loc[frame["id_structure"].duplicated(keep=False) & frame["id_structure"].notna(), "id_structure"]
    for record in failures.itertuples(index=False):
        check = str(record.check)
        if record.index is None or (isinstance(record.index, float) and np.isnan(record.index)):
            # a failure about a whole column (never expected: the parser types every column)
            column = None if record.column is None else columns.headers.get(str(record.column), str(record.column))
            issues.append(ImportIssue(file=table.file, column=column, rule=f"règle non respectée ({check})"))
            continue
        position = int(record.index)
        bounds = required = False
        if check in rules:
            rule = rules[check]
            target = rule.column
            bounds, required = rule.bounds, rule.required
            message = rule.message(record.failure_case)
            if check == "departement::consistent":
                message += (
                    f" {frame.at[position, 'code_commune']} (département {commune_departement[position]})"
                )
        elif check == "field_uniqueness":
            target = "id_structure"
            others = [
                str(table.lines[p]) for p in duplicates.index[duplicates == frame.at[position, "id_structure"]]
                if p != position
            ]
            message = f"identifiant de structure en double (aussi ligne {', '.join(others)})"
        elif check == "not_nullable":
            target = str(record.column)
            message = {
                "id_structure": "identifiant de structure manquant",
                "code_commune": "code commune manquant",
            }.get(target, "valeur obligatoire manquante")
        else:
            target = str(record.column)
            message = f"règle non respectée ({check})"
        key = (check, position)
        if key in seen:
            continue
        seen.add(key)
        issues.append(
            ImportIssue(
                file=table.file,
                line=int(table.lines[position]),
                column=columns.headers.get(target, target),
                value=_raw_text(table, columns, target, position),
                rule=message,
                row=position,
                bounds=bounds,
                required=required,
            )
        )
    issues.sort(key=lambda i: (i.line or 0, i.column or ""))
    return issues


def _raw_text(table: RawTable, columns: ResolvedColumns, target: str, position: int) -> str:
    if target not in columns.positions:
        return ""
    cell = table.frame.iat[position, columns.positions[target]]
    return "" if cell is None else cell_text(cell)
