"""Entry points: the ``senacs`` command line, the dashboard server, the workspace status.

May import every other zone; no other zone imports it.
"""
