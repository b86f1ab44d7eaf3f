"""Text folding used to match headers and category labels leniently."""

from __future__ import annotations

import functools
import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive form: ``« Date du 1er agrément »`` →
    ``date du 1er agrement``; ``id_structure`` → ``id structure``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("œ", "oe").replace("æ", "ae")
    return _NON_ALNUM.sub(" ", stripped).strip()
