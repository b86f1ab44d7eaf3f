"""The preparer's side of the gate: raw data and everything that reads it or writes the workspace.

The store, the import, the coherence check and corrections, publication (tabulate → protect →
audit → approve → release, for bundles and plaquettes), the restricted analyses, the constant
panel and the campaign runner. Nothing on the committee side (``released``) imports this package
(an import contract in ``pyproject.toml`` and ``tests/test_published_isolation.py``).
"""
