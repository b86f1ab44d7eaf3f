"""An audit of released tables that is independent of the disclosure-control engine (issue 16).

It takes nothing from the engine: only the released long tables (the bundle contract), the
microdata, the codebook and the rule-set file, which it reads itself. It recomputes which cells
are sensitive and how much protection they need (:mod:`.sensitivity`), builds the attacker's
linear system over the *union* of everything released together — every level and breakdown,
the visible margins, derived statistics and the codebook's declared relations between
questions — and bounds every hidden sensitive cell by linear programming (:mod:`.attack`).
:func:`audit_union` returns the verdict per variable (:mod:`.union`).

This package must never import ``senacs_workbench.disclosure`` (a test checks it).
"""

from senacs_workbench.release_audit.review import read_review_publications
from senacs_workbench.release_audit.rules import RULES_FILE, AuditRules, AuditRulesError, load_audit_rules
from senacs_workbench.release_audit.union import UnionAuditResult, VariableAudit, audit_union

__all__ = ["RULES_FILE", "AuditRules", "AuditRulesError", "UnionAuditResult", "VariableAudit", "audit_union",
           "load_audit_rules", "read_review_publications"]
