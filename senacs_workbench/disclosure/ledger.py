"""The ledger of releases: what has already left the restricted zone.

Rules, applied by :func:`senacs_workbench.disclosure.protect.protect`:

- a cell already released (status ``V``) for a year stays published when the same year is
  protected again; a cell already suppressed stays suppressed;
- a new data version of an already released year (a late questionnaire, a correction) is
  protected jointly with what was released: released cells are fixed (published or
  suppressed) in the new linear system; when republishing a released cell with its new value
  would reveal the change itself (fewer than the frequency threshold of changed structures in
  the cell, or one change dominating), the new version is refused with a French message
  (:class:`LedgerConflict`);
- the previous year's suppressions are cheap candidates, so masks stay stable across years.

The ledger lives in the restricted zone: besides released values and statuses it keeps one
digest per structure and variable (a hash of the answer) to detect which answers changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from senacs_workbench.core.errors import ReleaseError
from senacs_workbench.disclosure.cells import CELL_COLUMNS

if TYPE_CHECKING:
    from senacs_workbench.disclosure.protect import ProtectionResult

KEY_COLUMNS = ("variable", "statistic", "answer", "level", "territory", "breakdown", "category")
LEDGER_CELL_COLUMNS = (*CELL_COLUMNS, "data_version")
DIGEST_COLUMNS = ("year", "variable", "structure_id", "digest", "data_version")


class LedgerConflict(ReleaseError, ValueError):
    """A new data version cannot be released without disclosing the change (French message)."""

    def __init__(self, message: str, cells: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.cells = cells if cells is not None else pd.DataFrame()


def answer_digests(structure_ids: np.ndarray, values: pd.Series) -> np.ndarray:
    """One short digest per structure of its answer (missing answers included)."""
    texts = values.astype("string").fillna("\u2205").to_numpy(dtype=object)
    out = np.empty(len(texts), dtype=object)
    for i, (sid, text) in enumerate(zip(structure_ids.tolist(), texts.tolist(), strict=True)):
        out[i] = hashlib.sha256(f"{sid}\x1f{text}".encode()).hexdigest()[:20]
    return out


@dataclass(frozen=True)
class Ledger:
    """Released cells (with their status and true value) and answer digests, per year."""

    cells: pd.DataFrame
    digests: pd.DataFrame

    @classmethod
    def empty(cls) -> Ledger:
        return cls(
            cells=pd.DataFrame({c: pd.Series(dtype=object) for c in LEDGER_CELL_COLUMNS}),
            digests=pd.DataFrame({c: pd.Series(dtype=object) for c in DIGEST_COLUMNS}),
        )

    @classmethod
    def from_released(cls, released: pd.DataFrame) -> Ledger:
        """A ledger from released bundle tables (cell columns, optionally ``release`` = order
        of the releases, the latest winning). Such tables carry no answer digests: changes are
        then detected from the released respondent counts (see ``protect``)."""
        frame = released.copy()
        if "release" in frame.columns:
            frame = frame.sort_values("release", kind="mergesort")
        frame = frame.drop_duplicates(subset=["year", *KEY_COLUMNS], keep="last")
        if "data_version" not in frame.columns:
            frame["data_version"] = ""
        frame["data_version"] = frame["data_version"].astype(str)
        return cls(frame[list(LEDGER_CELL_COLUMNS)].reset_index(drop=True), cls.empty().digests)

    def record(self, result: ProtectionResult, data_version: str = "") -> Ledger:
        """A new ledger with ``result`` released (replacing an older release of the same
        year and variable)."""
        year, variable = result.year, result.question.id
        cells = result.cells.copy()
        cells["data_version"] = data_version
        digests = result.digests.copy()
        digests.insert(0, "variable", variable)
        digests.insert(0, "year", year)
        digests["data_version"] = data_version
        keep_cells = self.cells[~((self.cells["year"] == year) & (self.cells["variable"] == variable))]
        keep_dig = self.digests[~((self.digests["year"] == year) & (self.digests["variable"] == variable))]
        new_cells = pd.concat([keep_cells, cells], ignore_index=True) if len(keep_cells) else cells
        new_dig = pd.concat([keep_dig, digests], ignore_index=True) if len(keep_dig) else digests
        return Ledger(new_cells[list(LEDGER_CELL_COLUMNS)], new_dig[list(DIGEST_COLUMNS)])

    def for_variable(self, variable: str) -> Ledger:
        """The part of the ledger ``protect`` reads for one variable (what a worker process is sent)."""
        return Ledger(self.cells[self.cells["variable"] == variable].reset_index(drop=True),
                      self.digests[self.digests["variable"] == variable].reset_index(drop=True))

    def by_variable(self, variables: list[str]) -> dict[str, Ledger]:
        """:meth:`for_variable` of each of ``variables``, the ledger split once (a national year's
        ledger holds a million cells: filtering it per question costs more than grouping it)."""
        cells = {str(k): f.reset_index(drop=True) for k, f in self.cells.groupby("variable", sort=False)}
        digests = {str(k): f.reset_index(drop=True) for k, f in self.digests.groupby("variable", sort=False)}
        no_cells = self.cells.iloc[0:0].reset_index(drop=True)
        no_digests = self.digests.iloc[0:0].reset_index(drop=True)
        return {v: Ledger(cells.get(v, no_cells), digests.get(v, no_digests)) for v in variables}

    def released(self, year: int, variable: str) -> pd.DataFrame:
        c = self.cells
        return c[(c["year"] == year) & (c["variable"] == variable)]

    def released_digests(self, year: int, variable: str) -> pd.DataFrame:
        d = self.digests
        return d[(d["year"] == year) & (d["variable"] == variable)]

    def save(self, directory: str | Path) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.cells.to_parquet(path / "ledger-cells.parquet", index=False)
        self.digests.to_parquet(path / "ledger-digests.parquet", index=False)

    @classmethod
    def load(cls, directory: str | Path) -> Ledger:
        path = Path(directory)
        if not (path / "ledger-cells.parquet").exists():
            return cls.empty()
        return cls(
            pd.read_parquet(path / "ledger-cells.parquet"),
            pd.read_parquet(path / "ledger-digests.parquet"),
        )


def key_index(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[list(KEY_COLUMNS)].astype(str))
