"""Operations on a whole workspace over the years: backup and restore, erasure of a structure.

``backup`` (``senacs backup`` / ``senacs restore``) and ``erasure`` (``senacs erase``); see
``docs/operations.md``.
"""
