"""The coherence check and the centres' right of review (charter 2.2).

One concern per module: :mod:`.rules` (the YAML catalogue), :mod:`.checks` (vectorised
checks), :mod:`.findings` (DuckDB tables), :mod:`.engine` (``run_check``), :mod:`.sheets`
(question sheets), :mod:`.resolution` (workflow and status), :mod:`.corrections` (new data
versions, history), :mod:`.corrections_file` (filled question sheets), :mod:`.review` (review
sheets and objections), :mod:`.entry` and :mod:`.entry_form` (answers entered for a centre),
:mod:`.overview` (the notebook), :mod:`.commands` (functions for the CLI), :mod:`.demo` (the demo step),
:mod:`.evaluation` (recall and precision against the synthetic ground truth).
"""

from senacs_workbench.restricted.coherence.corrections import correct_answer, value_history
from senacs_workbench.restricted.coherence.engine import CheckReport, run_check
from senacs_workbench.restricted.coherence.resolution import (
    coherence_status,
    list_findings,
    record_objection,
    resolve_finding,
)

__all__ = [
    "CheckReport",
    "coherence_status",
    "correct_answer",
    "list_findings",
    "record_objection",
    "resolve_finding",
    "run_check",
    "value_history",
]
