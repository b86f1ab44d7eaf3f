"""Import of the yearly SENACS export (CSV or XLSX) into the restricted store.

One module per concern: :mod:`.reading` (bytes → raw cells), :mod:`.headers` (header →
codebook ids), :mod:`.values` (French cells → canonical values), :mod:`.validation` (pandera
rules), :mod:`.run` (the transaction) and :mod:`.issues` (the French report).
"""

from senacs_workbench.restricted.importing.headers import MappingError
from senacs_workbench.restricted.importing.issues import ImportIssue, ImportRejected, format_issues
from senacs_workbench.restricted.importing.run import ImportOutcome, import_file

__all__ = ["ImportIssue", "ImportOutcome", "ImportRejected", "MappingError", "format_issues", "import_file"]
