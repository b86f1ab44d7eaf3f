"""Parameterised analyses run by the notebooks of ``notebooks/`` (one module per notebook family).

Committee-audience modules (:mod:`territorial`, :mod:`thematic`, :mod:`trends`, :mod:`common`,
:mod:`charts`, :mod:`audience`) read released bundles only, through
:class:`senacs_workbench.published.PublishedReader`. :mod:`centre_report` and :mod:`panel` read
raw data through :class:`senacs_workbench.store.RawDataStore` (access-checked, logged) and must
never be imported by committee-facing code. This ``__init__`` imports none of them.
"""
