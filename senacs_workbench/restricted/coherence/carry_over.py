"""Corrections survive a new import of the same campaign.

A new import (the CAF sends a fresh export) makes a new, complete data version from the file.
Corrections and entries made on earlier versions (``corrections`` table) must not be lost:
for each (structure, question), the latest correction of the campaign is compared with the
new file's answer:

- the file still has the value that was corrected (the source was not fixed): the correction
  is carried over into the new version, row for row (its value, provenance, author and date);
- the file has the corrected value (the source was fixed too): nothing to do;
- the file has a third value (the source changed it since): the file wins, and the import
  reports the answer so that the preparer checks it;
- the structure is no longer in the file: nothing to carry, reported as well.

Runs inside the import's transaction (:func:`senacs_workbench.restricted.store.record_import`'s
``after_insert``), so a version is never visible without its carried corrections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from senacs_workbench.restricted.coherence import findings as fs


@dataclass(frozen=True)
class CarryOver:
    """What a new import did with the campaign's earlier corrections."""

    carried: int = 0
    superseded: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # file brings a third value
    gone: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # structure absent from the file

    def message_fr(self) -> str:
        parts = []
        if self.carried:
            parts.append(f"{self.carried} correction(s) ou saisie(s) des versions précédentes reprise(s) "
                         "(le fichier portait encore la valeur corrigée)")
        if self.superseded:
            sample = ", ".join(f"{s} / {v}" for s, v in self.superseded[:5])
            parts.append(f"{len(self.superseded)} réponse(s) corrigée(s) que le nouveau fichier modifie à nouveau "
                         f"(valeur du fichier gardée, à vérifier : {sample}{'…' if len(self.superseded) > 5 else ''})")
        if self.gone:
            parts.append(f"{len(self.gone)} correction(s) sur des structures absentes du nouveau fichier")
        return " ; ".join(parts)


_LATEST = """
    SELECT c.structure_id, c.variable, c.version, c.old_value, c.new_value,
           a.value AS file_value, s.structure_id IS NOT NULL AS present
    FROM (SELECT * FROM corrections WHERE year = $year
          QUALIFY row_number() OVER (PARTITION BY structure_id, variable
                                     ORDER BY version DESC, correction_id DESC) = 1) AS c
    LEFT JOIN answers AS a
           ON a.year = $year AND a.version = $version
          AND a.structure_id = c.structure_id AND a.variable = c.variable
    LEFT JOIN structures AS s
           ON s.year = $year AND s.version = $version AND s.structure_id = c.structure_id
    ORDER BY c.structure_id, c.variable
"""


def carry_corrections(con: duckdb.DuckDBPyConnection, year: int, version: int) -> CarryOver:
    """Carry the campaign's corrections into the new ``version`` (see the module docs)."""
    fs.ensure_tables(con)
    rows = con.execute(_LATEST, {"year": year, "version": version}).fetchall()
    carried = 0
    superseded: list[tuple[str, str]] = []
    gone: list[tuple[str, str]] = []
    for structure_id, variable, corrected_in, old_value, new_value, file_value, present in rows:
        if not present:
            gone.append((structure_id, variable))
            continue
        if file_value == new_value:
            continue
        if file_value != old_value:
            superseded.append((structure_id, variable))
            continue
        where = [year, version, structure_id, variable]
        con.execute("DELETE FROM answers WHERE year = ? AND version = ? AND structure_id = ? AND variable = ?", where)
        con.execute(
            """INSERT INTO answers
               SELECT year, ?, structure_id, variable, value, value_num, provenance, entered_by, entered_at, import_id
               FROM answers WHERE year = ? AND version = ? AND structure_id = ? AND variable = ?""",
            [version, year, corrected_in, structure_id, variable],
        )
        carried += 1
    if carried:
        con.execute(
            """UPDATE data_versions SET n_answers = (SELECT count(*) FROM answers WHERE year = $year
                                                      AND version = $version)
               WHERE year = $year AND version = $version""",
            {"year": year, "version": version},
        )
    return CarryOver(carried, tuple(superseded), tuple(gone))
