"""Parameterised analyses run by the committee notebooks of ``notebooks/`` (one module per notebook family).

These modules (:mod:`territorial`, :mod:`thematic`, :mod:`trends`, :mod:`common`, :mod:`charts`,
:mod:`audience`) read released bundles only, through
:class:`senacs_workbench.released.published.PublishedReader`. The analyses that read raw data
(centre reports, the panel, the infra-départemental tables) live on the other side of the gate
and are never imported from here. This ``__init__`` imports none of them.
"""
