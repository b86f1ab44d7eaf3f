"""Fixtures of this folder live in campaign_support.py (importable by a unique name)."""

from campaign_support import *  # noqa: F403
