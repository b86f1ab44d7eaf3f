"""Analyses that read raw data (access-checked, logged): centre reports, the panel, the infra-départemental tables.

Run by the preparer's notebooks of ``notebooks/``; never imported by committee-facing code.
This ``__init__`` imports none of them.
"""
