"""One fingerprint of the workbench's code and packaged data, for every ``--resume``.

A campaign run or a plaquette is rebuilt when what produced it changed. What produces it is not
only the analysis modules: a codebook label, a number format, a template or a territory name
changes the output as much. So every resumable step compares one hash of the whole package —
every file under ``senacs_workbench/`` (modules, ``data/``, ``templates/``), caches aside —
rather than a list of the files someone thought of. A change anywhere in the package reruns
what it may have changed; nothing stale is served.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
IGNORED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints", ".mypy_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def package_files(root: Path = PACKAGE) -> list[Path]:
    """Every file of the package under ``root`` that its outputs may depend on, sorted."""
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and not IGNORED_PARTS & set(path.relative_to(root).parts)
        and not path.name.endswith(IGNORED_SUFFIXES)
    )


def fingerprint_files(root: Path = PACKAGE) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`package_files`."""
    digest = hashlib.sha256()
    for path in package_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def package_fingerprint() -> str:
    """The installed package's fingerprint (computed once per process)."""
    return fingerprint_files(PACKAGE)
