"""Who may do what: governance (committees, preparer, correspondents), the raw-data access gate,
the hash-chained audit log and the committee-approval rule.

Imports only :mod:`senacs_workbench.core`. The committee side (``released``) never imports it.
"""
