"""Parse the raw cells of an export into canonical, typed answers.

French conventions: decimal comma, thousands separators (space, NBSP U+00A0, narrow NBSP
U+202F, dot), ``€`` and ``%`` suffixes, Oui/Non in any case, categories by label or code,
multiple choices joined by ``|`` (``;`` or ``,`` also accepted), dates ``jj/mm/aaaa`` or ISO,
empty or ``NR`` for no answer. XLSX native numbers, booleans and dates are taken as they are.

Canonical forms (as stored): numbers as float; yes/no as ``oui``/``non``; single choice as the
category code; multiple choice as the sorted codes joined by ``|``; dates as ``AAAA-MM-JJ``;
text stripped. Unparseable cells become :class:`ImportIssue` s and no value.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import (
    MULTIPLE_CHOICE_SEPARATOR,
    NO,
    YES,
    Codebook,
    Question,
    QuestionType,
)
from senacs_workbench.restricted.importing.headers import ResolvedColumns
from senacs_workbench.restricted.importing.issues import ImportIssue
from senacs_workbench.restricted.importing.reading import RawTable
from senacs_workbench.restricted.importing.text import fold

NO_ANSWER = frozenset({"", "nr", "n/r", "n.r.", "n.r", "nonrenseigné", "nonrenseignée", "nonrenseigne"})
"""Cells meaning « no answer », after :func:`_squeeze` (empty or NR)."""
PROVENANCE_PREFIX = "__prov__"
"""Parsed-frame columns ``__prov__<section>`` hold the provenance code of each section."""
KEY_COLUMNS = ("id_structure", "nom_structure", "code_commune", "departement")

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?")
_GROUPED_DOT = re.compile(r"[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?")
_DATE_FR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)

YES_WORDS = frozenset({"oui", "o", "yes", "y", "vrai", "true", "1"})
NO_WORDS = frozenset({"non", "n", "no", "faux", "false", "0"})
UNITS = {"€": "montant en euros", "eur": "montant en euros", "euros": "montant en euros", "%": "pourcentage"}

RULE_NUMBER = "nombre attendu"
RULE_YES_NO = "réponse Oui ou Non attendue"
RULE_DATE = "date attendue (jj/mm/aaaa ou aaaa-mm-jj)"


class ValueProblem(ValueError):
    """A cell that cannot be read; its message is the French rule."""


@dataclass
class ParsedTable:
    """Canonical values, one row per data row of the raw table (same positions)."""

    frame: pd.DataFrame
    issues: list[ImportIssue]


# ---------------------------------------------------------------------------- scalar parsers


def _squeeze(text: str) -> str:
    return _SPACES.sub("", text).casefold()


def is_no_answer(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and _squeeze(cell) in NO_ANSWER


def parse_number(cell: object, question_type: QuestionType = QuestionType.DECIMAL) -> float:
    """A French-formatted number (``1 234,5 €``, ``12,5 %``, ``1.234.567``) as a float."""
    if isinstance(cell, bool):
        raise ValueProblem(RULE_NUMBER)
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
        if not math.isfinite(value):
            raise ValueProblem(RULE_NUMBER)
        return value
    if not isinstance(cell, str):
        raise ValueProblem(RULE_NUMBER)
    text = _SPACES.sub("", cell).replace("\u2212", "-")
    lowered = text.casefold()
    for suffix, meaning in UNITS.items():
        if lowered.endswith(suffix):
            allowed = (suffix == "%" and question_type is QuestionType.PERCENT) or (
                suffix != "%" and question_type is QuestionType.AMOUNT
            )
            if not allowed:
                unit = cell.strip()[-len(suffix) :]
                raise ValueProblem(f"unité « {unit} » inattendue ({meaning}) pour cette question")
            text = text[: -len(suffix)]
            break
    if "," in text and "." in text:
        # 1.234,5 (French) or 1,234.5 (English): the last separator is the decimal one
        comma_last = text.rfind(",") > text.rfind(".")
        text = text.replace(".", "").replace(",", ".") if comma_last else text.replace(",", "")
    elif _GROUPED_COMMA.fullmatch(text):
        text = text.replace(",", "")
    elif _GROUPED_DOT.fullmatch(text):
        text = text.replace(".", "")
    elif "," in text:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise ValueProblem(RULE_NUMBER)
    return float(text)


def parse_yes_no(cell: object) -> str:
    if isinstance(cell, bool):
        return YES if cell else NO
    if isinstance(cell, int | float) and cell in (0, 1):
        return YES if cell == 1 else NO
    if isinstance(cell, str):
        folded = fold(cell)
        if folded in YES_WORDS:
            return YES
        if folded in NO_WORDS:
            return NO
    raise ValueProblem(RULE_YES_NO)


def category_lookup(question: Question) -> dict[str, str]:
    """Folded label or code -> code."""
    lookup: dict[str, str] = {}
    for category in question.categories:
        lookup[fold(category.label)] = category.code
    for category in question.categories:
        lookup[fold(category.code)] = category.code
    return lookup


def _category_rule(question: Question, value: str) -> str:
    labels = ", ".join(c.label for c in question.categories)
    codes = ", ".join(c.code for c in question.categories)
    return f"modalité « {value} » inconnue (attendu : {labels} — ou les codes {codes})"


def parse_single_choice(cell: object, question: Question, lookup: dict[str, str]) -> str:
    text = cell_text(cell)
    code = lookup.get(fold(text))
    if code is None:
        raise ValueProblem(_category_rule(question, text))
    return code


def parse_multiple_choice(cell: object, question: Question, lookup: dict[str, str]) -> str:
    text = cell_text(cell)
    whole = lookup.get(fold(text))
    if whole is not None:
        return whole
    for separator in ("|", ";", ","):
        if separator in text:
            parts = [p.strip() for p in text.split(separator)]
            break
    else:
        parts = [text.strip()]
    codes: set[str] = set()
    for part in parts:
        if not part or _squeeze(part) in NO_ANSWER:
            continue
        code = lookup.get(fold(part))
        if code is None:
            raise ValueProblem(_category_rule(question, part))
        codes.add(code)
    if not codes:
        raise ValueProblem(_category_rule(question, text))
    return MULTIPLE_CHOICE_SEPARATOR.join(sorted(codes))


def parse_date(cell: object) -> str:
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, int | float) and not isinstance(cell, bool) and 1 <= cell < 2958466:
        return (_EXCEL_EPOCH + dt.timedelta(days=int(cell))).isoformat()
    if isinstance(cell, str):
        text = cell.strip()
        match = _DATE_FR.fullmatch(text)
        try:
            if match:
                day, month, year = (int(g) for g in match.groups())
                return dt.date(year, month, day).isoformat()
            match = _DATE_ISO.fullmatch(text)
            if match:
                year, month, day = (int(g) for g in match.groups())
                return dt.date(year, month, day).isoformat()
        except ValueError:
            raise ValueProblem("date inexistante") from None
    raise ValueProblem(RULE_DATE)


def parse_text(cell: object) -> str:
    return cell_text(cell)


def cell_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime | dt.date):
        return cell.isoformat()
    return str(cell).strip()


def parse_code(cell: object, width: int) -> str:
    """An INSEE code (commune: 5, département: 2): numbers and short digit strings zero-padded."""
    if isinstance(cell, float | int) and not isinstance(cell, bool) and float(cell).is_integer():
        return str(int(cell)).zfill(width)
    text = str(cell).strip().upper()
    return text.zfill(width) if text.isdigit() and len(text) < width else text


# ---------------------------------------------------------------------------- columns


_type_of = np.frompyfunc(type, 1, 1)
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _parse_column(
    series: pd.Series, parser: Callable[[Any], Any], numeric: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``parser`` to every filled cell: (values, rules) aligned with ``series``.

    Strings are parsed once per distinct value; XLSX native numbers go straight through for
    numeric questions.
    """
    n = len(series)
    values = np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)
    rules = np.full(n, None, dtype=object)
    if n == 0:
        return values, rules
    cells = series.to_numpy(dtype=object)
    types = _type_of(cells)
    strings = np.equal(types, cast(Any, str))  # element-wise "is this cell's type str"
    natives = np.equal(types, cast(Any, float)) | np.equal(types, cast(Any, int))
    others = ~(strings | natives | np.equal(types, cast(Any, type(None))))
    if strings.any():
        positions = np.flatnonzero(strings)
        codes, distinct = pd.factorize(cells[positions])
        count = len(distinct)
        parsed = np.full(count, np.nan) if numeric else np.full(count, None, dtype=object)
        problems = np.full(count, None, dtype=object)
        todo = np.ones(count, dtype=bool)
        if numeric:  # fast path for plain numbers (« 12 », « 12,5 »)
            plain = np.fromiter((_PLAIN_NUMBER.fullmatch(t) is not None for t in distinct), dtype=bool, count=count)
            if plain.any():
                parsed[plain] = [float(t.replace(",", ".")) for t in distinct[plain]]
                todo &= ~plain
        for index in np.flatnonzero(todo):
            text = distinct[index]
            if _squeeze(text) in NO_ANSWER:
                continue
            value, rule = _attempt(parser, text)
            if rule is None:
                parsed[index] = value
            else:
                problems[index] = rule
        values[positions] = parsed[codes]
        rules[positions] = problems[codes]
    if natives.any():
        positions = np.flatnonzero(natives)
        floats = cells[positions].astype(float)
        finite = np.isfinite(floats)
        if numeric:
            values[positions[finite]] = floats[finite]
        else:
            others[positions[finite]] = True
    for position in np.flatnonzero(others):
        value, rule = _attempt(parser, cells[position])
        if rule is None:
            values[position] = value
        else:
            rules[position] = rule
    return values, rules


def _attempt(parser: Callable[[Any], Any], cell: object) -> tuple[Any, str | None]:
    try:
        return parser(cell), None
    except ValueProblem as problem:
        return None, str(problem)


def question_parser(question: Question) -> Callable[[Any], Any]:
    kind = question.type
    if kind.is_numeric:
        return lambda cell: parse_number(cell, kind)
    if kind is QuestionType.YES_NO:
        return parse_yes_no
    if kind is QuestionType.SINGLE_CHOICE:
        lookup = category_lookup(question)
        return lambda cell: parse_single_choice(cell, question, lookup)
    if kind is QuestionType.MULTIPLE_CHOICE:
        lookup = category_lookup(question)
        return lambda cell: parse_multiple_choice(cell, question, lookup)
    if kind is QuestionType.DATE:
        return parse_date
    return parse_text


def parse_table(table: RawTable, columns: ResolvedColumns, codebook: Codebook) -> ParsedTable:
    """Parse every mapped column of ``table``; unparseable cells become issues."""
    n = len(table.frame)
    out: dict[str, Any] = {}
    issues: list[ImportIssue] = []

    def report(target: str, rules: np.ndarray) -> None:
        header = columns.headers[target]
        raw = table.frame[columns.positions[target]].to_numpy(dtype=object)
        for position in np.flatnonzero(pd.notna(rules)):
            issues.append(
                ImportIssue(
                    file=table.file,
                    line=int(table.lines[position]),
                    column=header,
                    value=cell_text(raw[position]),
                    rule=str(rules[position]),
                    row=int(position),
                )
            )

    # keys
    for key, width in (("id_structure", 0), ("nom_structure", 0), ("code_commune", 5), ("departement", 2)):
        if key not in columns.positions:
            out[key] = np.full(n, None, dtype=object)
            continue
        series = table.frame[columns.positions[key]]
        parser: Callable[[Any], Any] = functools.partial(parse_code, width=width) if width else cell_text
        values, rules = _parse_column(series, parser, numeric=False)
        report(key, rules)
        out[key] = values

    # provenance: base column, then per-section overrides (empty = same as base)
    prov = codebook.provenance
    lookup = {fold(v.label): v.code for v in prov.values} | {fold(v.code): v.code for v in prov.values}
    rule = f"provenance inconnue (attendu : {', '.join(v.label for v in prov.values)})"

    def parse_provenance(cell: object) -> str:
        code = lookup.get(fold(cell_text(cell)))
        if code is None:
            raise ValueProblem(rule)
        return code

    if prov.column in columns.positions:
        base, rules = _parse_column(table.frame[columns.positions[prov.column]], parse_provenance, numeric=False)
        report(prov.column, rules)
        missing = pd.isna(base) & pd.isna(rules)
        if columns.provenance_default is not None:
            base[missing] = columns.provenance_default
        else:
            for position in np.flatnonzero(missing):
                issues.append(
                    ImportIssue(
                        file=table.file,
                        line=int(table.lines[position]),
                        column=columns.headers[prov.column],
                        value="",
                        rule="provenance manquante : qui a saisi les réponses (Centre, Caf ou Fédération) ?",
                        row=int(position),
                    )
                )
    else:
        base = np.full(n, columns.provenance_default, dtype=object)
    for section in codebook.sections:
        column = prov.section_column(section)
        section_values = base.copy()
        if column in columns.positions:
            override, rules = _parse_column(table.frame[columns.positions[column]], parse_provenance, numeric=False)
            report(column, rules)
            given = pd.notna(override)
            section_values[given] = override[given]
        out[PROVENANCE_PREFIX + section] = section_values

    # questions
    for question in codebook.questions:
        numeric = question.type.is_numeric
        if question.id not in columns.positions:
            out[question.id] = np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)
            continue
        values, rules = _parse_column(
            table.frame[columns.positions[question.id]], question_parser(question), numeric=numeric
        )
        report(question.id, rules)
        out[question.id] = values

    index = pd.RangeIndex(n)
    frame = pd.DataFrame(
        {
            column: pd.Series(values, index=index, dtype=float if values.dtype.kind == "f" else object, copy=False)
            for column, values in out.items()
        },
        index=index,
    )
    return ParsedTable(frame=frame, issues=issues)
