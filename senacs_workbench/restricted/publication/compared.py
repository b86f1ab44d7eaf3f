"""Other workspaces' released bundles in the ledger of a new release (one ledger across workspaces).

A département's (or région's) workspace publishes its cells from the same answers as the
national workspace. Read side by side (``senacs compare add``), a cell hidden by one release and
published by the other breaks the protection of both. So every bundle a workspace holds under
``published/comparisons/<territory>/<year>/v<k>/`` is part of what a new release of that year
is protected against, like the workspace's own releases:

- :func:`compared_cells` reads every version of every compared bundle of the year (verified:
  approvals and hashes) and keeps the cells the new release would also hold (same key:
  variable, statistic, answer, level, territory, breakdown, category), e.g. a département's
  workspace keeps the national bundle's cells of its own département. They join the engine's
  ledger: their statuses are fixed in the linear system (published there ⇒ published here,
  suppressed there ⇒ suppressed here);
- :func:`mismatch` checks the protected cells of one question against them, statistic by
  statistic: a cell published there must be published here with the same value and the same
  ``n``, a cell suppressed there must be suppressed here. Where it is not (the workspace's data
  version holds a correction or a late questionnaire the other release lacks), the question is
  refused — withheld from the bundle, with a French message naming the cell and the other
  release — since publishing both values would reveal the difference.

Only committee levels are read (a comparison bundle holds no infra-départemental cell).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.disclosure.ledger import KEY_COLUMNS
from senacs_workbench.released.bundle_contract import COMPARISONS, table_name
from senacs_workbench.released.published import PublishedReader

RELEASE_COLUMNS = ("source", "source_year", "folder", "bundle_hash")
"""Columns naming the release a compared cell comes from."""

RELATIVE_TOLERANCE = 1e-9
"""Two values of the same cell are the same release when they differ by less than this (relative):
sums of the same answers added in another order."""

STATISTIC_LABELS = {
    "structures": "structures", "respondents": "répondants", "response_rate": "taux de réponse",
    "count": "effectif", "share": "part", "sum": "somme", "mean": "moyenne", "median": "médiane",
    "q1": "premier quartile", "q3": "troisième quartile",
}


def in_scope(cells: pd.DataFrame, territory: geo.Territory, levels: Sequence[str]) -> pd.Series:
    """Mask of the cells a release of ``territory`` at ``levels`` holds (by level and territory)."""
    mask = cells["level"].isin(list(levels))
    if territory.level == "region":
        departements = geo.departements_of(territory.code)
        mask &= (((cells["level"] == "region") & (cells["territory"] == territory.code))
                 | ((cells["level"] == "departement") & cells["territory"].isin(departements)))
    elif territory.level == "departement":
        mask &= (cells["level"] == "departement") & (cells["territory"] == territory.code)
    return mask


def compared_cells(workspace: Workspace, year: int, territory: geo.Territory,
                   levels: Sequence[str]) -> pd.DataFrame | None:
    """Every compared bundle's cells of ``year`` that a release of ``territory`` at ``levels``
    would hold, with the release they come from (:data:`RELEASE_COLUMNS`) and ``release``, a
    negative order (older and compared releases first: the workspace's own releases, numbered
    from 0, come after them in :meth:`Ledger.from_released`). None when there is none."""
    reader = PublishedReader(workspace.published)
    root = workspace.published / COMPARISONS
    if not root.is_dir():
        return None
    frames = []
    for source in sorted(p.name for p in root.iterdir() if p.is_dir()):
        for bundle in reader.versions(year, source):  # verified: approvals and hash
            table = reader_table(bundle.folder, year)
            table = table[(table["year"] == year) & in_scope(table, territory, levels)]
            if len(table):
                frames.append(table.assign(source=source, source_year=year, folder=bundle.folder.name,
                                           bundle_hash=str(bundle.manifest.get("bundle_hash", ""))))
    if not frames:
        return None
    for i, frame in enumerate(frames):
        frame["release"] = i - len(frames)
    return pd.concat(frames, ignore_index=True)


def reader_table(folder: Path, year: int) -> pd.DataFrame:
    """The long table of a released bundle folder (already verified by the caller)."""
    frame = pd.read_parquet(folder / table_name(year))
    for column in ("answer", "breakdown", "category"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def releases_of(compared: pd.DataFrame | None) -> list[str]:
    """The compared releases, one ``<territory>/<year>/v<k>:<bundle hash>`` each (the manifest of
    a new release records them: a comparison added later makes the next publish run again)."""
    if compared is None or not len(compared):
        return []
    rows = compared[list(RELEASE_COLUMNS)].drop_duplicates()
    return sorted(f"{r.source}/{r.source_year}/{r.folder}:{r.bundle_hash}" for r in rows.itertuples())


def describe_cell(row: Any) -> str:
    """A cell in French: « département Dordogne (24) × mode_gestion = associatif, somme »."""
    level, code = str(row.level), str(row.territory)
    try:
        place = "France" if level == "national" else f"{geo.territory(level, code).name} ({code})"  # type: ignore[arg-type]
    except ValueError:
        place = code
    text = place if level == "national" else f"{geo.LEVEL_LABELS.get(level, level)} {place}"
    breakdown, category = str(row.breakdown or ""), str(row.category or "")
    if breakdown:
        text += f" × {breakdown} = {category}"
    statistic = str(row.statistic)
    text += f", {STATISTIC_LABELS.get(statistic, statistic)}"
    answer = str(row.answer or "")
    return text + (f" « {answer} »" if answer else "")


def describe_release(row: Any) -> str:
    source = str(row.source)
    where = "national" if source == geo.NATIONAL_CODE else source.replace("-", " ")
    return f"jeu de tableaux {where} de la campagne {row.source_year} ({row.folder})"


def _same_value(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= RELATIVE_TOLERANCE * max(1.0, abs(a), abs(b))


def mismatch(question_id: str, cells: pd.DataFrame, compared: pd.DataFrame | None) -> str | None:
    """None when the protected ``cells`` of one question (true values, statuses) agree with every
    compared release on the cells both hold; else a French message naming the first cell that
    differs and the release it comes from (no confidential value in it)."""
    if compared is None:
        return None
    other = compared[compared["variable"] == question_id]
    if not len(other) or not len(cells):
        return None
    # a source's own revisions (v1, then v2) are public already: its latest version is the one to match
    other = other.sort_values("release", kind="mergesort").drop_duplicates(["source", *KEY_COLUMNS], keep="last")
    here = cells.drop_duplicates(subset=list(KEY_COLUMNS), keep="last")
    keys = list(KEY_COLUMNS)
    merged = other.merge(here[[*keys, "value", "n", "status"]], on=keys, how="inner", suffixes=("_there", ""))
    if not len(merged):
        return None
    published_there = merged["status_there"].astype(str).to_numpy() == "V"
    published_here = merged["status"].astype(str).to_numpy() == "V"
    value_here = pd.to_numeric(merged["value"], errors="coerce").to_numpy(dtype=float)
    value_there = pd.to_numeric(merged["value_there"], errors="coerce").to_numpy(dtype=float)
    n_here = pd.to_numeric(merged["n"], errors="coerce").to_numpy(dtype=float)
    n_there = pd.to_numeric(merged["n_there"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(published_there != published_here).tolist():
        row = merged.iloc[i]
        said = "publiée" if published_there[i] else "masquée"
        would = "masquée" if published_there[i] else "publiée"
        return (f"Question « {question_id} » non publiée : la case {describe_cell(row)} est {said} dans le "
                f"{describe_release(row)} et serait {would} ici ; les deux publications lues ensemble "
                "lèveraient le secret statistique.")
    for i in range(len(merged)):
        differs = not _same_value(n_here[i], n_there[i]) or (
            published_there[i] and not _same_value(value_here[i], value_there[i]))
        if differs:
            row = merged.iloc[i]
            return (f"Question « {question_id} » non publiée : la case {describe_cell(row)} est déjà publiée "
                    f"dans le {describe_release(row)} avec une autre valeur que celle des données de cet espace "
                    "de travail (une correction ou un questionnaire que cette publication n'a pas) ; publier "
                    "les deux valeurs révélerait l'écart. Conservez la version des données déjà diffusée, ou "
                    "publiez d'abord la correction dans l'autre espace de travail puis ajoutez son nouveau jeu "
                    "de tableaux (« senacs compare add »).")
    return None


def conflict_message(question_id: str, engine_message: str, conflict_cells: pd.DataFrame,
                     compared: pd.DataFrame | None) -> str:
    """The French message of a question the engine refused (``LedgerConflict``): the other
    release is named when the conflicting cell comes from a compared bundle, else the engine's
    message (a new data version of the workspace's own release)."""
    if compared is not None and len(conflict_cells):
        keys = [c for c in KEY_COLUMNS if c in conflict_cells.columns]
        hit = compared[compared["variable"] == question_id].merge(conflict_cells[keys].astype(str), on=keys)
        if len(hit):
            row = hit.iloc[-1]
            return (f"Question « {question_id} » non publiée : la case {describe_cell(row)} est déjà publiée "
                    f"dans le {describe_release(row)} avec une autre valeur que celle des données de cet espace "
                    "de travail, et l'écart révélerait les réponses de moins de structures que le seuil du "
                    "secret statistique. Conservez la version des données déjà diffusée, ou publiez d'abord "
                    "la correction dans l'autre espace de travail puis ajoutez son nouveau jeu de tableaux "
                    "(« senacs compare add »).")
    return engine_message if question_id in engine_message else f"Question « {question_id} » : {engine_message}"
