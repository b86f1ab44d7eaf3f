"""Released bundles for the dashboard tests and benchmark, with sentinels planted on the restricted side.

Until ``senacs publish`` lands, cells are computed here from synthetic microdata with simple
frequency (A), dominance (B) and secondary (D) suppression. :data:`TEST` (browser tests): national,
3 régions, 7 départements, a few questions of each type, two breakdowns. :data:`NATIONAL`
(benchmark): every département (~3 400 structures), every tabulated core question and the whole
theme, the four breakdowns, as a national committee bundle would be. Each year goes through the
real gate (``write_draft`` + CAF and federation ``approve``).

Planted in the restricted zone only: a structure named :data:`SENTINEL_NAME` whose budget is
:data:`SENTINEL_BUDGET`, in a CSV under ``restricted/`` and as the true (unblanked) value of
suppressed cells given to ``write_draft`` (it is the only EVS of département 40).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, QuestionType, load_codebook
from senacs_workbench.demo.governance import DEMO_DEPARTEMENT, demo_governance
from senacs_workbench.restricted.publication.comparisons import add_comparison
from senacs_workbench.core.governance import dump_governance
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, write_draft
from senacs_workbench.core.territories import departements, region_of
from senacs_workbench.core.workspace import Workspace, init_workspace
from senacs_workbench.trust.demo_keys import adopt_demo_governance

SENTINEL_NAME = "ZZSENTINELLE"
SENTINEL_BUDGET = 987654321
SENTINEL_DEPARTEMENT = "40"
SENTINEL_PATTERN = re.compile(r"ZZSENTINELLE|987[\s\u202f\u00a0.,]?654[\s\u202f\u00a0.,]?321", re.IGNORECASE)
YEARS = (2022, 2023, 2024)
STRUCTURES_PER_DEPARTEMENT = {"33": 14, "24": 6, "40": 4, "69": 16, "01": 5, "75": 12, "93": 9}
CORE_VARIABLES = ("budget_total", "salaries", "etp", "part_cdi", "actions_jeunesse", "statut_locaux",
                  "outils_communication")
BREAKDOWNS = ("type_structure", "mode_gestion")
ALL_BREAKDOWNS = ("type_structure", "mode_gestion", "type_territoire", "qpv")
MIN_RESPONDENTS = 3
DOMINANCE = 0.85


@dataclass(frozen=True)
class Scale:
    name: str
    departements: tuple[tuple[str, int], ...]
    variables: tuple[str, ...] | None
    """Core questions; None: every tabulated core question (except the breakdowns)."""
    whole_theme: bool
    breakdowns: tuple[str, ...]


TEST = Scale("test", tuple(STRUCTURES_PER_DEPARTEMENT.items()), CORE_VARIABLES, False, BREAKDOWNS)


def _national_departements() -> tuple[tuple[str, int], ...]:
    rng = np.random.default_rng(0)
    return tuple((str(code), int(rng.integers(8, 60))) for code in departements()["code"])


NATIONAL = Scale("national", _national_departements(), None, True, ALL_BREAKDOWNS)


def variables(year: int, scale: Scale = TEST) -> list[str]:
    codebook = load_codebook(year)
    tabulated = [q for q in codebook.questions if q.type.is_numeric or q.type.is_categorical]
    if scale.variables is None:
        core = [q.id for q in tabulated if q.section != "theme" and q.id not in ALL_BREAKDOWNS]
    else:
        core = list(scale.variables)
    theme = [q.id for q in tabulated if q.section == "theme"] if scale.whole_theme else theme_variables(year)
    return core + theme


def theme_variables(year: int) -> list[str]:
    """One yes/no and one numeric question of the year's theme (they change every year)."""
    theme = load_codebook(year).theme_questions
    yes_no = next(q.id for q in theme if q.type is QuestionType.YES_NO)
    numeric = next(q.id for q in theme if q.type in (QuestionType.COUNT, QuestionType.AMOUNT))
    return [yes_no, numeric]


@functools.cache
def microdata(year: int, scale: Scale = TEST) -> pd.DataFrame:
    """One row per structure; the sentinel is the only EVS of département 40."""
    rng = np.random.default_rng(year)
    codebook = load_codebook(year)
    rows = []
    for departement, count in scale.departements:
        for i in range(count):
            sentinel = departement == SENTINEL_DEPARTEMENT and i == 0
            evs = sentinel or (departement != SENTINEL_DEPARTEMENT and rng.random() < 0.3)
            row: dict[str, object] = {
                "structure_id": f"S{departement}{i:03d}",
                "nom_structure": SENTINEL_NAME if sentinel else f"Centre {departement}-{i}",
                "region": region_of(departement),
                "departement": departement,
                "type_structure": "EVS" if evs else "CS",
                "mode_gestion": rng.choice(["associatif", "associatif", "collectivite", "caf"]),
                "type_territoire": rng.choice(["urbain", "rural"]),
                "qpv": rng.choice(["qpv", "proximite", "non_concerne"]),
            }
            for variable in variables(year, scale):
                question = codebook.question(variable)
                if not sentinel and rng.random() < 0.12:
                    row[variable] = None
                    continue
                if question.type is QuestionType.AMOUNT:
                    base = 90_000 if evs else 420_000
                    row[variable] = float(round(base * rng.lognormal(0, 0.35)))
                elif question.type is QuestionType.COUNT:
                    row[variable] = float(rng.integers(2, 40 if not evs else 8))
                elif question.type is QuestionType.DECIMAL:
                    row[variable] = float(round(rng.uniform(0.5, 25), 1))
                elif question.type is QuestionType.PERCENT:
                    row[variable] = float(round(rng.uniform(20, 100)))
                elif question.type is QuestionType.MULTIPLE_CHOICE:
                    codes = [c for c in question.answer_codes if rng.random() < 0.5] or [question.answer_codes[0]]
                    row[variable] = MULTIPLE_CHOICE_SEPARATOR.join(codes)
                else:
                    row[variable] = str(rng.choice(list(question.answer_codes)))
            if sentinel:
                row["budget_total"] = float(SENTINEL_BUDGET)
            rows.append(row)
    return pd.DataFrame(rows)


def _groups(frame: pd.DataFrame, breakdowns: tuple[str, ...]) -> list[tuple[str, str, str, str, np.ndarray]]:
    """(level, territory, breakdown, category, member mask) of every published group."""
    groups = []
    everyone = np.ones(len(frame), dtype=bool)
    for level in ("national", "region", "departement"):
        codes = ["FR"] if level == "national" else sorted(frame[level].unique())
        for code in codes:
            inside = everyone if level == "national" else (frame[level] == code).to_numpy()
            groups.append((level, code, "", "", inside))
            for breakdown in breakdowns:
                column = frame[breakdown].to_numpy()
                for category in sorted(frame[breakdown].unique()):
                    groups.append((level, code, breakdown, category, inside & (column == category)))
    return groups


def cells(year: int, frame: pd.DataFrame, scale: Scale = TEST) -> pd.DataFrame:
    """Every cell with its TRUE value (restricted zone) and a status (A frequency, B dominance, D secondary)."""
    codebook = load_codebook(year)
    groups = _groups(frame, scale.breakdowns)
    rows: list[tuple[object, ...]] = []
    for variable in variables(year, scale):
        question = codebook.question(variable)
        raw = frame[variable].to_numpy(dtype=object)
        answered_all = np.array([v is not None and v == v for v in raw])
        if question.type.is_numeric:
            numbers = np.array([float(v) if ok else np.nan for v, ok in zip(raw, answered_all)])
        else:
            chosen = {a: np.array([ok and a in str(v).split(MULTIPLE_CHOICE_SEPARATOR) for v, ok in
                                   zip(raw, answered_all)]) for a in question.answer_codes}
        for level, code, breakdown, category, inside in groups:
            n_struct = int(inside.sum())
            answered = inside & answered_all
            n_resp = int(answered.sum())
            small = "A" if n_resp < MIN_RESPONDENTS else "V"
            head = (year, variable)
            place = (level, code, breakdown, category)

            def add(statistic: str, value: float, n: int, status: str, answer: str = "",
                    head: tuple[object, ...] = head, place: tuple[object, ...] = place) -> None:
                rows.append((*head, statistic, answer, *place, float(value), int(n), status))

            add("structures", n_struct, n_struct, "V")
            add("respondents", n_resp, n_resp, "V")
            add("response_rate", n_resp / n_struct if n_struct else np.nan, n_struct, "V")
            if question.type.is_numeric:
                values = numbers[answered]
                total = float(values.sum())
                dominated = n_resp >= MIN_RESPONDENTS and total > 0 and values.max() > DOMINANCE * total
                sum_status = "B" if dominated else small
                if question.type is not QuestionType.PERCENT:
                    add("sum", total, n_resp, sum_status)
                add("mean", total / n_resp if n_resp else np.nan, n_resp, sum_status)
                quartiles = np.quantile(values, [0.5, 0.25, 0.75]) if n_resp else [np.nan] * 3
                for statistic, value in zip(("median", "q1", "q3"), quartiles):
                    add(statistic, float(value), n_resp, "A" if n_resp < 2 * MIN_RESPONDENTS else "V")
            else:
                for answer in question.answer_codes:
                    count = int((chosen[answer] & inside).sum())
                    add("count", count, n_resp, small, answer)
                    add("share", count / n_resp if n_resp else np.nan, n_resp, small, answer)
    table = pd.DataFrame(rows, columns=["year", "variable", "statistic", "answer", "level", "territory", "breakdown",
                                        "category", "value", "n", "status"])
    return _secondary(table)


@functools.cache
def true_cells(year: int, scale: Scale = TEST) -> pd.DataFrame:
    """The restricted cell table of ``year`` (true values), cached: callers must not modify it."""
    return cells(year, microdata(year, scale), scale)


def _secondary(table: pd.DataFrame) -> pd.DataFrame:
    """Protect a lone suppressed category of a breakdown by suppressing a sibling (status D)."""
    keys = ["variable", "statistic", "answer", "level", "territory", "breakdown"]
    status = table["status"].to_numpy(dtype=object).copy()
    n = table["n"].to_numpy()
    with_breakdown = table[table.breakdown != ""]
    row_numbers = np.flatnonzero(table.breakdown.ne("").to_numpy())
    primary_mask = np.isin(status, ["A", "B"])
    for positions in with_breakdown.groupby(keys, sort=False).indices.values():
        rows = row_numbers[positions]
        primary = rows[primary_mask[rows]]
        if len(primary) == 1 and len(rows) > 1:
            others = rows[rows != primary[0]]
            status[others[np.argmin(n[others])]] = "D"
    return table.assign(status=status)


def build_workspace(root: Path, years: tuple[int, ...] = YEARS, scale: Scale = TEST) -> Workspace:
    """A workspace whose ``published/`` holds a released bundle for every year, sentinels in ``restricted/``."""
    workspace = init_workspace(root, name="Tests des tableaux de bord", territory="FR")
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    for year in years:
        frame = microdata(year, scale)
        incoming = workspace.restricted / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        frame.to_csv(incoming / f"senacs_{year}.csv", sep=";", index=False)
        table = true_cells(year, scale)
        description = BundleDescription(year, "FR", 1, "r" * 64,
                                        {"suppressed": int((table.status != "V").sum()), "exact": 0}, True, "prep")
        write_draft(workspace.published, table, description)
        approve(workspace, year, user="caf.demo")
        outcome = approve(workspace, year, user="federation.demo")
        assert outcome.released is not None, outcome.message_fr
    return workspace


def build_departement_workspace(national: Workspace, root: Path, years: tuple[int, ...] = YEARS,
                                scale: Scale = TEST, code: str = DEMO_DEPARTEMENT) -> Workspace:
    """The workspace of département ``code``: its own cells (the national ones of that département,
    approved by its committee) and the national bundles added for comparison (``senacs compare add``)."""
    workspace = init_workspace(root, name=f"Tests — département {code}", territory=f"departement:{code}")
    workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
    adopt_demo_governance(workspace)
    for year in years:
        table = true_cells(year, scale)
        own = table[(table.level == "departement") & (table.territory == code)].reset_index(drop=True)
        description = BundleDescription(year, f"departement:{code}", 1, "r" * 64,
                                        {"suppressed": int((own.status != "V").sum()), "exact": 0}, True, "prep")
        write_draft(workspace.published, own, description)
        approve(workspace, year, user=f"caf.{code}")
        outcome = approve(workspace, year, user=f"federation.{code}")
        assert outcome.released is not None, outcome.message_fr
    add_comparison(workspace, national.published)
    return workspace


def sentinel_cells(year: int) -> pd.DataFrame:
    """The suppressed cells whose true value is the sentinel budget (what write_draft received)."""
    table = true_cells(year)
    return table[(table.value == SENTINEL_BUDGET)].copy()
