"""Released bundles of realistic protected cells, for the campaign tests and the benchmark.

Until the disclosure engine lands (``publish_year``), cells are computed here from random
microdata with plain pandas (national, régions, départements; total and by type of
structure; every statistic of the contract), with a simple primary rule (fewer than 3
contributors → ``A``) and a few secondary suppressions (``D``); then written with
``write_draft`` and approved by a CAF and a federation member, as in
tests/test_publication_approval.py. A small store with the same structures can be written
too, for the centre report and the constant panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import MULTIPLE_CHOICE_SEPARATOR, Question, QuestionType, load_codebook
from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.publication.approval import approve
from senacs_workbench.restricted.publication.bundle_writer import BundleDescription, write_draft

COLUMNS = ["year", "variable", "statistic", "answer", "level", "territory", "breakdown", "category", "value", "n",
           "status"]
TYPES = (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.COUNT,
         QuestionType.AMOUNT, QuestionType.DECIMAL, QuestionType.PERCENT)


def microdata(year: int, departements: list[str] | None = None, per_departement: tuple[int, int] = (2, 9),
              seed: int = 7, dropouts: float = 0.1) -> pd.DataFrame:
    """One row per structure: identity, geography and an answer (or missing) to every tabulated question."""
    rng = np.random.default_rng(seed)
    deps = departements or sorted(geo.departements()["code"])
    rows = []
    for dep in deps:
        for k in range(int(rng.integers(per_departement[0], per_departement[1] + 1))):
            rows.append({"structure_id": f"S{dep}{k:03d}", "departement": dep, "region": geo.region_of(dep),
                         "nom_structure": f"Centre social {dep}-{k}"})
    frame = pd.DataFrame(rows)
    year_rng = np.random.default_rng(seed * 1000 + year)
    keep = year_rng.random(len(frame)) > dropouts  # structures leave and join: a panel smaller than each year
    frame = frame[keep].reset_index(drop=True)
    for question in load_codebook(year).questions:
        if question.type not in TYPES:
            continue
        frame[question.id] = _answers(question, len(frame), year_rng)
    return frame


def _answers(question: Question, n: int, rng: np.random.Generator) -> list[object]:
    answered = rng.random(n) < (1.0 if question.required else 0.8)
    codes = list(question.answer_codes)
    if question.type in (QuestionType.YES_NO, QuestionType.SINGLE_CHOICE):
        values: list[object] = [codes[int(i)] for i in rng.integers(0, len(codes), n)]
    elif question.type is QuestionType.MULTIPLE_CHOICE:
        values = [MULTIPLE_CHOICE_SEPARATOR.join(c for c in codes if rng.random() < 0.5) or codes[0] for _ in range(n)]
    elif question.type is QuestionType.PERCENT:
        values = list(np.round(rng.uniform(0, 100, n), 1))
    elif question.type is QuestionType.AMOUNT:
        values = list(np.round(rng.lognormal(12, 1, n)))
    else:
        values = list(rng.integers(0, 60, n).astype(float))
    return [v if a else None for v, a in zip(values, answered)]


def _blocks(values: pd.Series, codes: np.ndarray, size: int, question: Question) -> list[tuple[str, str, np.ndarray,
                                                                                               np.ndarray]]:
    answered = values.notna().to_numpy()
    structures = np.bincount(codes, minlength=size).astype(float)
    respondents = np.bincount(codes, weights=answered, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        blocks = [("structures", "", structures, structures), ("respondents", "", respondents, respondents),
                  ("response_rate", "", respondents / structures, respondents)]
        if question.type.is_numeric:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            total = np.bincount(codes, weights=np.nan_to_num(numbers), minlength=size)
            if question.type is not QuestionType.PERCENT:
                blocks.append(("sum", "", total, respondents))
            median = pd.Series(numbers).groupby(codes).median().reindex(range(size)).to_numpy()
            blocks += [("mean", "", total / respondents, respondents), ("median", "", median, respondents)]
        else:
            text = values.fillna("").astype(str).to_numpy()
            for code in question.answer_codes:
                hit = np.fromiter((code in t.split(MULTIPLE_CHOICE_SEPARATOR) for t in text), bool, len(text))
                count = np.bincount(codes, weights=hit, minlength=size)
                blocks += [("count", code, count, count), ("share", code, count / respondents, respondents)]
    return blocks


def cells(micro: pd.DataFrame, year: int, variables: list[str] | None = None) -> pd.DataFrame:
    """Cells with true values and statuses (V, A where fewer than 3 contributors, a few D)."""
    codebook = load_codebook(year)
    questions = [q for q in codebook.questions if q.type in TYPES and (variables is None or q.id in variables)]
    frame = micro.assign(national="FR")
    columns: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS[1:-1]}
    for level in ("national", "region", "departement"):
        for breakdown in ("", "type_structure"):
            key = frame[level].astype(str) + ("|" + frame[breakdown].astype(str) if breakdown else "|")
            codes, uniques = pd.factorize(key)
            territory = np.array([u.split("|")[0] for u in uniques], dtype=object)
            category = np.array([u.split("|")[1] for u in uniques], dtype=object)
            size = len(uniques)
            for question in questions:
                for statistic, answer, value, n in _blocks(frame[question.id], codes, size, question):
                    for column, data in (("variable", question.id), ("statistic", statistic), ("answer", answer),
                                         ("level", level), ("breakdown", breakdown)):
                        columns[column].append(np.full(size, data, dtype=object))
                    columns["territory"].append(territory)
                    columns["category"].append(category)
                    columns["value"].append(np.asarray(value, dtype=float))
                    columns["n"].append(np.asarray(n, dtype=float))
    out = pd.DataFrame({c: np.concatenate(v) for c, v in columns.items()})
    out["year"] = year
    out["n"] = out["n"].fillna(0).astype(int)
    public = out.variable.isin([q.id for q in questions if q.public]) | out.statistic.isin(
        ["structures", "respondents", "response_rate"])
    small = (out.n > 0) & (out.n < 3) & ~public
    out["status"] = np.where(small | out.value.isna(), "A", "V")
    digest = pd.util.hash_pandas_object(out[["variable", "territory", "category", "answer", "statistic"]],
                                        index=False).to_numpy() % 64
    secondary = (out.status == "V") & ~public & (out.level == "departement") & (digest < 2)
    out.loc[secondary, "status"] = "D"
    return out[COLUMNS].reset_index(drop=True)


def release(workspace: Workspace, year: int, frame: pd.DataFrame, territory: str = "FR") -> None:
    """Write ``frame`` as the draft bundle of ``year`` and have the demo committee approve it."""
    description = BundleDescription(year, territory, 1, "r" * 64, {"suppressed": int((frame.status != "V").sum())},
                                    True, "prep")
    write_draft(workspace.published, frame, description)
    approve(workspace, year, user="ccaf")
    approve(workspace, year, user="ffed")


def record_store(workspace: Workspace, year: int, micro: pd.DataFrame) -> None:
    """Put the same structures and answers in the restricted store (as an import would)."""
    from senacs_workbench.restricted.store import record_import

    codebook = load_codebook(year)
    structures = micro[["structure_id", "nom_structure", "departement", "region"]].assign(
        code_commune=None, epci=None, respondent=True)
    answers = []
    for question in codebook.questions:
        if question.id not in micro:
            continue
        for sid, value in zip(micro.structure_id, micro[question.id]):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            numeric = question.type.is_numeric
            answers.append({"structure_id": sid, "variable": question.id, "value": None if numeric else str(value),
                            "value_num": float(value) if numeric else None,
                            "provenance": "caf" if question.id == "salaries" else "centre"})
    record_import(workspace, year=year, file_name=f"senacs_{year}.csv", sha256=f"{year}" * 8, archived_path="-",
                  user="prep", structures=structures, answers=pd.DataFrame(answers))
