"""The shared vocabulary: codebook, territories, workspace layout, French formatting, errors, atomic writes.

Imports nothing else of the package (an import contract in ``pyproject.toml``); every other zone
may import it.
"""
