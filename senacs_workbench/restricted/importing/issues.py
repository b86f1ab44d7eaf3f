"""Import problems: one :class:`ImportIssue` per bad cell, row, column or file.

Every issue renders as a French sentence naming the file, the row (as the user sees it in
the spreadsheet), the column, the value and the rule, e.g.
« senacs_2024.csv, ligne 12, colonne « budget_total » : valeur « douze » — nombre attendu ».
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from senacs_workbench.core.errors import SenacsError
from senacs_workbench.core.formatting import format_number

MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class ImportIssue:
    """One problem found in an imported file (all text fields are in French)."""

    file: str
    rule: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    row: int | None = None
    """0-based position of the data row in the file's table (None for file-level issues)."""
    bounds: bool = False
    """A value that was read but breaks the codebook's bounds: stored as entered, excluded from
    the aggregates and raised as a finding, never a reason to refuse the file nor drop the row."""
    required: bool = False
    """A required answer left blank: stored as missing and raised as a finding (the rest of the row
    counts), never a reason to refuse the file nor drop the row."""

    def message(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"ligne {self.line}")
        if self.column is not None:
            where.append(f"colonne « {self.column} »")
        text = ", ".join(where)
        if self.value is not None and not self.value.strip():
            return f"{text} : valeur vide — {self.rule}"
        if self.value is not None:
            value = self.value if len(self.value) <= MAX_VALUE_CHARS else self.value[: MAX_VALUE_CHARS - 1] + "…"
            return f"{text} : valeur « {value} » — {self.rule}"
        return f"{text} : {self.rule}"

    def __str__(self) -> str:
        return self.message()


def format_issues(issues: Sequence[ImportIssue], limit: int | None = 20) -> str:
    """The first ``limit`` issues, one per line, followed by the total count if truncated."""
    shown = list(issues if limit is None else issues[:limit])
    lines = [f"- {issue.message()}" for issue in shown]
    if len(issues) > len(shown):
        rest, total = format_number(len(issues) - len(shown)), format_number(len(issues))
        lines.append(f"… et {rest} autre(s) problème(s) ({total} au total).")
    return "\n".join(lines)


class ImportRejected(SenacsError):
    """The file was rejected: nothing was archived or stored. ``issues`` lists every problem."""

    def __init__(self, file: str, issues: Sequence[ImportIssue], summary: str | None = None) -> None:
        self.file = file
        self.issues: list[ImportIssue] = list(issues)
        count = len(self.issues)
        self.summary = summary or (
            f"Import refusé : {file} contient {format_number(count)} problème(s) ; aucune donnée n'a été enregistrée."
            if count != 1
            else f"Import refusé : {file} contient 1 problème ; aucune donnée n'a été enregistrée."
        )
        first = self.issues[0] if self.issues else None
        super().__init__(
            f"{self.summary}\n{format_issues(self.issues)}",
            file=file,
            line=None if first is None else first.line,
            column=None if first is None else first.column,
        )

    def report(self, limit: int | None = 20) -> str:
        """The French report: summary line, then up to ``limit`` issues and the count."""
        return f"{self.summary}\n{format_issues(self.issues, limit)}"


def file_error(file: str, rule: str, line: int | None = None, column: str | None = None) -> ImportRejected:
    """A rejection for a problem with the whole file (encoding, empty, truncated...)."""
    return ImportRejected(file, [ImportIssue(file=file, rule=rule, line=line, column=column)])
