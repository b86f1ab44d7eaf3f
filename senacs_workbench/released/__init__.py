"""The committee side: released bundles and everything built from them only.

The bundle contract, the published reader, committee exports, the committee analyses, the Voilà
dashboards and the plaquette's content. Imports only :mod:`senacs_workbench.core` and itself (an
import contract in ``pyproject.toml`` and ``tests/test_published_isolation.py``).
"""
