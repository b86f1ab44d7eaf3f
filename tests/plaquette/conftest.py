"""Fixtures of this folder live in plaquette_support.py (importable by a unique name)."""

from plaquette_support import *  # noqa: F403
