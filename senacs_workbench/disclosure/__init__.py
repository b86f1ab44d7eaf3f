"""Statistical disclosure control: decide which aggregated cells may leave the restricted zone.

See ``docs/disclosure-control.md``. The shared vocabulary (cell table columns, statuses,
release specification, microdata layout) lives in :mod:`senacs_workbench.disclosure.cells`.
"""
