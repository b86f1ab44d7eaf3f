"""Exceptions of the workbench. Their messages are in French: they reach users as they are."""

from __future__ import annotations


class SenacsError(Exception):
    """Base class: a problem the user can understand and act on (message in French)."""


class WorkspaceError(SenacsError):
    """The workspace is missing, malformed or misplaced."""


class GovernanceError(SenacsError):
    """The governance file is missing or does not satisfy the charter."""


class AccessDenied(SenacsError):
    """The acting user may not perform this operation on this territory."""


class AuditLogError(SenacsError):
    """The audit log is broken: an entry was changed, removed or inserted."""
