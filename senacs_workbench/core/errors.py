"""The workbench's one exception family. Messages are in French: they reach users as they are.

Every error a user can cause (a bad file, an unknown territory, a refused access, a release
that conflicts with the ledger…) derives from :class:`SenacsError`. Besides its French message
it carries structured fields where they apply (``file``, ``line``, ``column``, ``cell`` and any
other keyword, e.g. ``territory``), so that a caller can point at the input without parsing the
message. The command line prints a ``SenacsError`` without traceback and exits with status 2.

This module imports nothing of the package: the disclosure engine may derive its errors from it.
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[SenacsError], args: tuple[Any, ...], state: dict[str, Any]) -> SenacsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class SenacsError(Exception):
    """Base class: a problem the user can understand and act on (message in French).

    ``file``, ``line``, ``column`` and ``cell`` locate the input at fault where there is one;
    other keywords are kept in :attr:`details`.
    """

    def __init__(
        self,
        message: str = "",
        *args: Any,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        cell: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, *args)
        # A subclass may have set its location before calling this constructor: keep it.
        self.file = file if file is not None else getattr(self, "file", None)
        self.line = line if line is not None else getattr(self, "line", None)
        self.column = column if column is not None else getattr(self, "column", None)
        self.cell = cell if cell is not None else getattr(self, "cell", None)
        self.details = {**getattr(self, "details", {}), **details}

    @property
    def message(self) -> str:
        """The French message."""
        return str(self.args[0]) if self.args else ""

    @property
    def fields(self) -> dict[str, Any]:
        """The structured fields that are set (location first, then the details)."""
        located = {"file": self.file, "line": self.line, "column": self.column, "cell": self.cell}
        return {**{k: v for k, v in located.items() if v is not None}, **self.details}

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments: rebuild from the state, not by calling __init__
        # (errors cross process boundaries in the campaign runner and the parallel publication).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class UsageError(SenacsError):
    """A command was called with a missing, unknown or invalid option or argument."""


class InputError(SenacsError, ValueError):
    """A value given by the user (territory, year, level, file content…) is not valid.

    Also a ``ValueError``, so callers that caught the former ``ValueError`` keep working.
    """


class UnknownQuestion(InputError, KeyError):
    """A question id the questionnaire of that campaign does not have (also a ``KeyError``)."""


class ReleaseError(SenacsError):
    """Tables that cannot be released as asked (e.g. a change the released tables would disclose)."""


class WorkspaceError(SenacsError):
    """The workspace is missing, malformed or misplaced."""


class GovernanceError(SenacsError):
    """The governance file is missing or does not satisfy the charter."""


class AccessDenied(SenacsError):
    """The acting user may not perform this operation on this territory."""


class AuditLogError(SenacsError):
    """The audit log is broken: an entry was changed, removed or inserted."""
