"""Year-by-year simulation and the public entry points ``generate_frames`` and ``generate``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import Codebook, load_codebook
from senacs_workbench.core.errors import InputError
from senacs_workbench.demo.synthetic import calibration as cal
from senacs_workbench.demo.synthetic import export
from senacs_workbench.demo.synthetic.answers import AGE_COLUMNS, Values, YearBuilder, keep_where, stable_rng
from senacs_workbench.demo.synthetic.incoherences import BLOCKING_FAMILIES, Context, Plant, plant
from senacs_workbench.demo.synthetic.universe import (
    Departements,
    Structures,
    advance,
    build_departements,
    initial_population,
    logistic,
    logit,
)

PROVENANCE_SECTIONS = ("finances", "emploi")
BLOCKS: tuple[tuple[str, ...], ...] = (
    AGE_COLUMNS,
    cal.FUNDING_SOURCES,
    ("benevoles_activite", "benevoles_instances"),
    *((f"actions_{x}", f"participants_{x}") for x in cal.PARTICIPANT_ACTIONS),
)
"""Questions left empty together (a respondent skips the whole block or none of it), so that an
item non-response never looks like an incoherence."""


@dataclass(frozen=True)
class SyntheticYear:
    """One campaign year of synthetic data.

    ``data`` has one row per invited structure (respondents and non-respondents), in export
    column order: the key columns, ``saisie_par`` and its section overrides (provenance codes
    ``centre``/``caf``/``federation``; empty = same as the row), then every question of the year's
    codebook. Numeric answers are floats, yes/no and choices are codes (``oui``/``non``,
    multiple choices joined by ``|``), dates are datetimes; a missing answer is NA.
    """

    year: int
    codebook: Codebook
    data: pd.DataFrame
    respondent: pd.Series
    ground_truth: pd.DataFrame
    dominant: tuple[str, ...]

    def export_frame(self) -> pd.DataFrame:
        """The export as the text cells written to the CSV."""
        return export.export_frame(self.data, self.codebook)

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        csv_path = out_dir / f"senacs_{self.year}.csv"
        xlsx_path = out_dir / f"senacs_{self.year}.xlsx"
        truth_path = out_dir / f"ground_truth_{self.year}.csv"
        cells = self.export_frame()
        export.write_csv(cells, csv_path)
        export.write_xlsx(self.data, cells, self.codebook, xlsx_path)
        export.write_ground_truth(self.ground_truth, truth_path)
        return [csv_path, xlsx_path, truth_path]


def _check_arguments(years: Sequence[int], scale: float) -> list[int]:
    wanted = sorted({int(y) for y in years})
    if not wanted:
        raise InputError("Aucune année demandée pour les données synthétiques.")
    if not 0 < scale <= 2:
        raise InputError(f"Échelle invalide : {scale} (attendu : un nombre entre 0 et 2, 1 = taille nationale).")
    for year in range(wanted[0], wanted[-1] + 1):
        load_codebook(year)  # a clear French error for a year without a questionnaire
    return wanted


def _respond(
    seed: int, year: int, deps: Departements, universe: Structures, members: np.ndarray
) -> np.ndarray:
    rng = stable_rng(seed, year, "response")
    year_rate = (deps.response_rate + rng.normal(0.0, 0.03, len(deps.codes))).clip(0.5, 0.8)
    di = deps.index(universe["departement"][members])
    sigma = cal.RESPONSE_PROPENSITY_SIGMA
    # probit-style correction so that the mean over the structure effects is the département's rate
    inner = logit(year_rate[di]) * np.sqrt(1 + np.pi * sigma**2 / 8)
    p = logistic(inner + universe["propensity"][members])
    answered = rng.random(members.size) < p
    return answered & ~universe["blocked_next"][members]


def _blank(values: Values, rows: np.ndarray, question: str) -> None:
    column = values[question]
    if column.dtype.kind == "f":
        column[rows] = np.nan
    elif column.dtype.kind == "M":
        column[rows] = np.datetime64("NaT")
    else:
        column[rows] = None


def _mask(
    seed: int, year: int, codebook: Codebook, values: Values, respondent: np.ndarray, complete: np.ndarray
) -> None:
    """Non-respondents keep their identity only; respondents skip some non-required questions
    (except the ``complete`` ones: the dominant structures answer everything)."""
    rng = stable_rng(seed, year, "missing")
    in_block = {q: block for block in BLOCKS for q in block}
    draws: dict[tuple[str, ...], np.ndarray] = {}
    for question in codebook.questions:
        if question.is_identity:
            continue
        _blank(values, ~respondent, question.id)
        if question.required or question.type.value == "text":
            continue
        key = in_block.get(question.id, (question.id,))
        if key not in draws:
            rate = stable_rng(seed, "missing-rate", key[0]).uniform(*cal.ITEM_MISSING_RANGE)
            draws[key] = rng.random(respondent.size) < rate
        _blank(values, respondent & ~complete & draws[key], question.id)


def _provenance(
    seed: int, year: int, deps: Departements, universe: Structures, members: np.ndarray, respondent: np.ndarray
) -> dict[str, np.ndarray]:
    rng = stable_rng(seed, year, "provenance")
    codes = np.array(list(cal.PROVENANCE_ROW), dtype=object)
    probs = deps.provenance_probs[deps.index(universe["departement"][members])]
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    row = codes[(rng.random(members.size)[:, None] > cum).sum(axis=1)]
    override = respondent & (row == "centre") & (rng.random(members.size) < cal.PROVENANCE_OVERRIDE_RATE)
    kind = rng.random(members.size)  # finances only / jobs only / both
    who = np.where(rng.random(members.size) < 0.6, "caf", "federation").astype(object)
    out = {"saisie_par": row}
    out["finances"] = keep_where(override & (kind < 0.8), who)
    out["emploi"] = keep_where(override & (kind >= 0.5), who)
    return out


def _frame(
    codebook: Codebook, universe: Structures, members: np.ndarray, values: Values, prov: dict[str, np.ndarray]
) -> pd.DataFrame:
    columns: dict[str, object] = {
        "id_structure": universe["id"][members],
        "nom_structure": universe["nom"][members],
        "code_commune": universe["commune"][members],
        "departement": universe["departement"][members],
        codebook.provenance.column: prov["saisie_par"],
    }
    for section in PROVENANCE_SECTIONS:
        columns[codebook.provenance.section_column(section)] = prov[section]
    for question in codebook.questions:
        columns[question.id] = values[question.id]
    frame = pd.DataFrame(columns)
    return frame.sort_values("id_structure", kind="stable").reset_index(drop=True)


def _ground_truth(plants: list[Plant], ids: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id_structure": [ids[p.row] for p in plants],
            "family": [p.family for p in plants],
            "variables": ["|".join(p.variables) for p in plants],
            "description": [p.description for p in plants],
        },
        columns=list(export.GROUND_TRUTH_COLUMNS),
    )
    return frame.sort_values(["id_structure", "family"], kind="stable").reset_index(drop=True)


def generate_frames(years: Sequence[int], seed: int = 2024, scale: float = 1.0) -> dict[int, SyntheticYear]:
    """Simulate the campaigns from the first to the last of ``years``; return the requested ones.

    The simulation starts at the first requested year, so the same arguments always give the
    same data (year-over-year incoherences are planted only when the previous year is requested).
    """
    wanted = _check_arguments(years, scale)
    deps = build_departements(stable_rng(seed, "departements"))
    universe, _ = initial_population(stable_rng(seed, wanted[0], "population"), deps, wanted[0], scale)
    result: dict[int, SyntheticYear] = {}
    for year in range(wanted[0], wanted[-1] + 1):
        if year > wanted[0]:
            advance(stable_rng(seed, year, "population"), deps, universe, year, scale)
        codebook = load_codebook(year)
        members = np.flatnonzero(universe["alive"])
        respondent = _respond(seed, year, deps, universe, members)
        values = YearBuilder(universe, members, year, codebook, seed).build()
        clean_budget = values["budget_total"].copy()
        clean_salaries = values["salaries"].copy()
        _mask(seed, year, codebook, values, respondent, universe["dominant"][members])
        evolution_allowed = (year - 1) in wanted
        ctx = Context(
            respondent=respondent,
            dominant=universe["dominant"][members],
            prev_visible=universe["responded_prev"][members] & evolution_allowed,
            planted_prev=universe["planted_prev"][members],
            budget_prev=universe["budget_prev"][members],
            salaries_prev=universe["salaries_prev"][members],
            departement=universe["departement"][members],
            type=universe["type"][members],
            evolution_allowed=evolution_allowed,
        )
        plants = plant(values, ctx, codebook, stable_rng(seed, year, "plant"))
        # state carried to the next year: clean latent values, response, planted structures
        planted = np.zeros(members.size, dtype=bool)
        blocking = np.zeros(members.size, dtype=bool)
        for p in plants:
            planted[p.row] = True
            blocking[p.row] = p.family in BLOCKING_FAMILIES
        universe["budget_prev"][members] = clean_budget
        universe["salaries_prev"][members] = clean_salaries
        universe["responded_prev"][members] = respondent
        universe["planted_prev"][members] = planted
        universe["blocked_next"][members] = blocking
        if year not in wanted:
            continue
        prov = _provenance(seed, year, deps, universe, members, respondent)
        frame = _frame(codebook, universe, members, values, prov)
        respondent_by_id = pd.Series(respondent, index=universe["id"][members]).reindex(frame["id_structure"])
        dominant = tuple(sorted(universe["id"][members][universe["dominant"][members]]))
        result[year] = SyntheticYear(
            year=year,
            codebook=codebook,
            data=frame,
            respondent=pd.Series(respondent_by_id.to_numpy(dtype=bool), name="respondent"),
            ground_truth=_ground_truth(plants, universe["id"][members]),
            dominant=dominant,
        )
    return result


def generate(years: Sequence[int], out_dir: Path, seed: int = 2024, scale: float = 1.0) -> list[Path]:
    """Write senacs_<year>.csv, senacs_<year>.xlsx and ground_truth_<year>.csv per year; return the paths."""
    out_dir = Path(out_dir)
    paths: list[Path] = []
    for _year, synthetic in sorted(generate_frames(years, seed=seed, scale=scale).items()):
        paths.extend(synthetic.write(out_dir))
    return paths
