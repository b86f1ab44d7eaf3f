"""Reading the store: its summary (no answers) and :class:`RawDataStore`, the only reader of raw answers.

A reader either asks :class:`RawDataStore` one question at a time (each read checks the access,
writes it to the audit log and opens the store), or opens one :class:`RawDataSession` for a whole
operation (:meth:`RawDataStore.session`: the access to one territory checked and logged once, the
store opened once, read-only) and reads everything it needs from it — ``senacs publish`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import QuestionType, available_years, load_codebook
from senacs_workbench.core.errors import AccessDenied
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.store.bounds import exclude_out_of_bounds
from senacs_workbench.restricted.store.connection import connect, has_data_tables, iso_or_none
from senacs_workbench.restricted.store.schema import ANSWER_COLUMNS, STRUCTURE_COLUMNS, StoreError
from senacs_workbench.trust.access import require_raw_access

# ---------------------------------------------------------------------------- summary


def store_summary(workspace: Workspace) -> dict[str, Any]:
    """What the store holds, without any answer: years, data versions, imports (JSON-ready)."""
    summary: dict[str, Any] = {"years": [], "data_versions": [], "imports": []}
    if not workspace.store_path.exists():
        return summary
    with connect(workspace, read_only=True) as con:
        if not has_data_tables(con):
            return summary
        versions = con.execute(
            """SELECT v.year, v.version, v.n_structures, v.n_answers, v.created_at, v.kind, i.file_name
               FROM data_versions v LEFT JOIN imports i USING (import_id)
               ORDER BY v.year, v.version"""
        ).fetchall()
        imports = con.execute(
            """SELECT i.file_name, i.sha256, i.year, v.version, i.imported_at, i.imported_by, i.rows,
                      i.rejected_rows
               FROM imports i LEFT JOIN data_versions v USING (import_id)
               ORDER BY i.import_id"""
        ).fetchall()
    summary["years"] = sorted({int(row[0]) for row in versions})
    summary["data_versions"] = [
        {
            "year": int(year),
            "version": int(version),
            "structures": int(n_structures),
            "answers": int(n_answers),
            "created_at": iso_or_none(created_at),
            "kind": kind,
            "import_file": file_name,
        }
        for year, version, n_structures, n_answers, created_at, kind, file_name in versions
    ]
    summary["imports"] = [
        {
            "file": file_name,
            "sha256": sha,
            "year": int(year),
            "version": None if version is None else int(version),
            "imported_at": iso_or_none(imported_at),
            "imported_by": imported_by,
            "rows": int(rows),
            "rejected_rows": int(rejected),
        }
        for file_name, sha, year, version, imported_at, imported_by, rows, rejected in imports
    ]
    return summary


# ---------------------------------------------------------------------------- reading


def _territory_filter(territory: geo.Territory) -> tuple[str, list[str]]:
    column = {
        "national": None,
        "region": "region",
        "departement": "departement",
        "epci": "epci",
        "commune": "code_commune",
    }[territory.level]
    if column is None:
        return "TRUE", []
    return f"s.{column} = ?", [territory.code]


VERSION_COLUMNS = ["version", "created_at", "created_by", "kind", "structures", "answers", "import_id", "import_file"]


def _versions(con: duckdb.DuckDBPyConnection | None, year: int) -> pd.DataFrame:
    if con is None or not has_data_tables(con):
        return pd.DataFrame(columns=VERSION_COLUMNS)
    frame: pd.DataFrame = con.execute(
        """SELECT v.version, v.created_at, v.created_by, v.kind, v.n_structures AS structures,
                  v.n_answers AS answers, v.import_id, i.file_name AS import_file
           FROM data_versions v LEFT JOIN imports i USING (import_id)
           WHERE v.year = ? ORDER BY v.version""",
        [year],
    ).fetchdf()
    return frame


def _latest(versions: pd.DataFrame, year: int) -> int:
    if versions.empty:
        raise StoreError(f"Aucune donnée importée pour la campagne {year}.")
    return int(versions["version"].max())


def _checked_request(year: int, version: int | None, variables: Sequence[str] | None,
                     latest_version: Callable[[int], int]) -> tuple[int, list[str] | None]:
    """The version to read (the latest when None) and the variables, refused in French when unknown."""
    if year not in available_years():
        raise StoreError(f"Aucun questionnaire pour la campagne {year}.")
    codebook = load_codebook(year)
    if variables is not None:
        unknown = [v for v in variables if v not in codebook]
        if unknown:
            raise StoreError(
                f"Variable(s) inconnue(s) du questionnaire {year} : {', '.join(unknown)}."
            )
    latest = latest_version(year)
    if version is None:
        version = latest
    elif not 1 <= version <= latest:
        raise StoreError(f"La campagne {year} n'a pas de version {version} (versions 1 à {latest}).")
    return version, None if variables is None else list(variables)


def _wide(con: duckdb.DuckDBPyConnection, year: int, place: geo.Territory, version: int,
          variables: Sequence[str] | None, as_entered: bool = False) -> pd.DataFrame:
    """The typed wide frame: the one read of answers that feeds tabulation and analysis.

    Unless ``as_entered``, the answers that break the codebook's bounds are blanked here
    (:func:`~.bounds.exclude_out_of_bounds`): they stay in the store as entered, and only the
    coherence check, which questions the centre about them, reads them (``as_entered=True``).
    """
    codebook = load_codebook(year)
    wanted = list(variables) if variables is not None else list(codebook.question_ids)
    condition, params = _territory_filter(place)
    structures = con.execute(
        f"""SELECT {", ".join("s." + c for c in STRUCTURE_COLUMNS)} FROM structures s
            WHERE s.year = ? AND s.version = ? AND {condition} ORDER BY s.structure_id""",
        [year, version, *params],
    ).fetchdf()
    long = con.execute(
        f"""SELECT a.structure_id, a.variable, a.value, a.value_num
            FROM answers a JOIN structures s USING (year, version, structure_id)
            WHERE a.year = ? AND a.version = ? AND {condition}
              AND a.variable IN (SELECT unnest(?))""",
        [year, version, *params, wanted],
    ).fetchdf()
    frame = structures.set_index("structure_id")
    text = long.pivot(index="structure_id", columns="variable", values="value") if len(long) else None
    numbers = long.pivot(index="structure_id", columns="variable", values="value_num") if len(long) else None
    columns: dict[str, pd.Series] = {}
    for variable in wanted:
        kind = codebook.question(variable).type
        source = numbers if kind.is_numeric else text
        if source is None or variable not in source.columns:
            series = pd.Series(np.nan if kind.is_numeric else None, index=frame.index, dtype=object)
        else:
            series = source[variable].reindex(frame.index)
        if kind.is_numeric:
            series = series.astype(float)
        elif kind is QuestionType.DATE:
            series = pd.to_datetime(series, format="%Y-%m-%d")
        else:
            series = series.astype(object).where(series.notna(), None)
        columns[variable] = series
    answers = pd.DataFrame(columns, index=frame.index)
    if not as_entered:
        answers = exclude_out_of_bounds(answers, codebook)
    wide = pd.concat([frame, answers], axis=1)
    return wide.reset_index()


class RawDataSession:
    """One authorised raw-data session (:meth:`RawDataStore.session`): reads of ``territory`` (or
    of a territory within it) through one read-only connection, without further access checks —
    the session's one audit-log entry covers them. Same reading methods as :class:`RawDataStore`."""

    def __init__(self, territory: geo.Territory, con: duckdb.DuckDBPyConnection | None) -> None:
        self.territory = territory
        self._con = con

    def versions(self, year: int) -> pd.DataFrame:
        """The data versions of ``year`` (as :meth:`RawDataStore.versions`)."""
        return _versions(self._con, year)

    def latest_version(self, year: int) -> int:
        return _latest(self.versions(year), year)

    def wide(
        self,
        year: int,
        territory: geo.Territory | str | None = None,
        version: int | None = None,
        variables: Sequence[str] | None = None,
        *,
        as_entered: bool = False,
    ) -> pd.DataFrame:
        """One row per structure of ``territory`` (default: the session's), as :meth:`RawDataStore.wide`."""
        place = self.territory if territory is None else geo.as_territory(territory)
        if not self.territory.contains(place):
            raise AccessDenied(f"Lecture hors du territoire autorisé ({self.territory.key}) : {place.key}.")
        version, variables = _checked_request(year, version, variables, self.latest_version)
        assert self._con is not None  # a year with a version has a store
        return _wide(self._con, year, place, version, variables, as_entered)


class RawDataStore:
    """The preparer's and correspondents' access to the raw answers (the only one).

    Every read of answers checks the governance and is written to the audit log.
    """

    def __init__(self, workspace: Workspace, user: str | None = None) -> None:
        self.workspace = workspace
        self.user = user

    # -- metadata (no answers: no access check)

    def versions(self, year: int) -> pd.DataFrame:
        """The data versions of ``year``: version, created_at, created_by, kind, structures,
        answers, import_id, import_file."""
        if not self.workspace.store_path.exists():
            return _versions(None, year)
        with connect(self.workspace, read_only=True) as con:
            return _versions(con, year)

    def latest_version(self, year: int) -> int:
        return _latest(self.versions(year), year)

    @contextmanager
    def session(self, action: str, territory: geo.Territory | str,
                details: dict[str, Any] | None = None) -> Iterator[RawDataSession]:
        """One authorised session on ``territory``'s raw data for ``action`` (e.g. ``publish``): the
        access is checked and written to the audit log once, here, and the store is opened once,
        read-only, until the block ends (read what you need, then leave it: a writer waits)."""
        place = geo.as_territory(territory)
        require_raw_access(self.workspace, action, place, details=details, user=self.user)
        if not self.workspace.store_path.exists():
            yield RawDataSession(place, None)
            return
        with connect(self.workspace, read_only=True) as con:
            yield RawDataSession(place, con)

    # -- raw answers (access-checked, audited)

    def answers(
        self,
        year: int,
        territory: geo.Territory | str = "FR",
        version: int | None = None,
        variables: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Long form with provenance: ``year, version, structure_id, variable, value, value_num,
        provenance, entered_by, entered_at, import_id``."""
        place, version, variables = self._authorise(year, territory, version, variables, "answers")
        condition, params = _territory_filter(place)
        query = f"""SELECT {", ".join("a." + c for c in ANSWER_COLUMNS)}
                    FROM answers a JOIN structures s USING (year, version, structure_id)
                    WHERE a.year = ? AND a.version = ? AND {condition}"""
        args: list[Any] = [year, version, *params]
        if variables is not None:
            query += " AND a.variable IN (SELECT unnest(?))"
            args.append(list(variables))
        query += " ORDER BY a.structure_id, a.variable"
        with connect(self.workspace, read_only=True) as con:
            frame = con.execute(query, args).fetchdf()
        return frame

    def wide(
        self,
        year: int,
        territory: geo.Territory | str = "FR",
        version: int | None = None,
        variables: Sequence[str] | None = None,
        *,
        as_entered: bool = False,
    ) -> pd.DataFrame:
        """One row per structure: its identity and geography, then one typed column per variable
        (float for numbers, code for categories, datetime for dates, NaN/None if unanswered).

        An answer that breaks the codebook's bounds is blank (excluded from every aggregate)
        unless ``as_entered`` (the coherence check, which raises it as a finding)."""
        place, version, variables = self._authorise(year, territory, version, variables, "wide")
        with connect(self.workspace, read_only=True) as con:
            return _wide(con, year, place, version, variables, as_entered)

    def structure_ids(self, year: int, territory: geo.Territory | str = "FR", version: int | None = None
                      ) -> list[str]:
        """The ids of ``territory``'s structures in ``year`` (latest version unless given), sorted.

        For the centre reports of a whole territory: identity data only, no answer; the access is
        checked against ``territory`` and logged like any read of the raw data.
        """
        place = geo.parse_territory(territory) if isinstance(territory, str) else territory
        if version is None:
            version = self.latest_version(year)
        require_raw_access(self.workspace, "read_answers", place,
                           details={"year": year, "version": version, "form": "structure_ids"}, user=self.user)
        condition, params = _territory_filter(place)
        with connect(self.workspace, read_only=True) as con:
            rows = con.execute(
                f"SELECT s.structure_id FROM structures s WHERE s.year = ? AND s.version = ? AND {condition} "
                "ORDER BY s.structure_id",
                [year, version, *params],
            ).fetchall()
        return [str(row[0]) for row in rows]

    def centre_answers(self, year: int, structure_id: str, version: int | None = None) -> pd.DataFrame:
        """One structure's own answers (for its report, charter 2.3), and nothing else of the raw data.

        Access is checked against the structure's département (the preparer or a correspondent
        of a territory containing it) and logged with the structure id. Columns: ``structure_id,
        nom_structure, code_commune, departement, region, variable, value, value_num, provenance,
        entered_by, entered_at``; no row for an unanswered question.
        """
        if version is None:
            version = self.latest_version(year)
        with connect(self.workspace, read_only=True) as con:
            found = con.execute(
                "SELECT departement FROM structures WHERE year = ? AND version = ? AND structure_id = ?",
                [year, version, structure_id],
            ).fetchone()
        if found is None:
            # Refuse an unauthorised user the same way whether or not the structure exists.
            require_raw_access(
                self.workspace, "read_answers", self.workspace.territory,
                details={"year": year, "version": version, "form": "centre_answers", "structure_id": structure_id},
                user=self.user,
            )
            raise StoreError(f"La structure « {structure_id} » n'existe pas dans la campagne {year} "
                             f"(version {version}).")
        place = geo.territory("departement", str(found[0]))
        require_raw_access(
            self.workspace, "read_answers", place,
            details={"year": year, "version": version, "form": "centre_answers", "structure_id": structure_id},
            user=self.user,
        )
        with connect(self.workspace, read_only=True) as con:
            frame = con.execute(
                f"""SELECT {", ".join("s." + c for c in STRUCTURE_COLUMNS)}, a.variable, a.value, a.value_num,
                           a.provenance, a.entered_by, a.entered_at
                    FROM structures s LEFT JOIN answers a USING (year, version, structure_id)
                    WHERE s.year = ? AND s.version = ? AND s.structure_id = ?
                    ORDER BY a.variable""",
                [year, version, structure_id],
            ).fetchdf()
        return frame

    def _authorise(
        self,
        year: int,
        territory: geo.Territory | str,
        version: int | None,
        variables: Sequence[str] | None,
        form: str,
    ) -> tuple[geo.Territory, int, list[str] | None]:
        place = geo.as_territory(territory)
        require_raw_access(
            self.workspace,
            "read_answers",
            place,
            details={
                "year": year,
                "version": version,
                "form": form,
                "variables": None if variables is None else list(variables),
            },
            user=self.user,
        )
        version, checked = _checked_request(year, version, variables, self.latest_version)
        return place, version, checked
