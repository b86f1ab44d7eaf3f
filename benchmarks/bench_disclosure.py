"""Benchmark of disclosure control on a full national synthetic year.

Every tabulated codebook variable, every level (national, régions, départements) and every
breakdown: protect (+ the independent audit when available), in ``--workers`` processes.
Prints the wall time, the peak memory (resident set of the parent and its workers), the
suppressed cells and the information loss (suppressed share of the total value of the
additive cells) with the ratio to the goal (the whole year in under a minute), then a
comparison with tau-Argus Modular (``pytauargus``) on single tables (information loss ratio,
goal ≤ 1) and on the whole hierarchical table nation > région > département × management mode
(``tauargus_hierarchy.py``: hidden share per level; ``--no-tauargus`` skips both).

    python benchmarks/bench_disclosure.py [--year 2025] [--workers 2] [--no-audit] [--no-tauargus] [--csv FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from senacs_workbench.core import territories as geo
from senacs_workbench.core.codebook import BREAKDOWNS, Question, load_codebook
from senacs_workbench.disclosure.cells import ReleaseSpec
from senacs_workbench.disclosure.linked import LinkedGroup, linked_groups, protect_linked
from senacs_workbench.disclosure.protect import protect
from senacs_workbench.disclosure.rules import load_rules


def national_microdata(year: int, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(base frame with geography and breakdowns, wide answers) of a synthetic year."""
    from senacs_workbench.demo.synthetic import generate_frames

    data = generate_frames([year], seed=seed)[year].data
    region = geo.departements().set_index("code")["region"]
    base = pd.DataFrame(
        {
            "structure_id": data["id_structure"].astype(str),
            "region": data["departement"].map(region),
            "departement": data["departement"].astype(str),
        }
    )
    for b in BREAKDOWNS:
        base[b] = data[b].astype("string")
    return base, data


@dataclass(frozen=True)
class BenchJob:
    """One job of the worker pool: one question, or the questions of one linked group."""

    micros: tuple[pd.DataFrame, ...]  # one microdata frame per question
    questions: tuple[Question, ...]
    year: int
    audit: bool
    group: LinkedGroup | None = None


def _one(job: BenchJob) -> list[dict[str, object]]:
    """Protect (and audit) one question, or the questions of one linked group together, as a
    release does (``publication/protection.py``); one row of figures per question (a linked
    group's times are shared equally between its questions)."""
    micros, questions, year, do_audit, group = job.micros, list(job.questions), job.year, job.audit, job.group
    rules = load_rules()  # the engine and the audit read the same rule set
    t0, c0 = time.perf_counter(), time.process_time()
    if group is None:
        results = [protect(micros[0], questions[0], year, ReleaseSpec(), rules)]
    else:
        joint = protect_linked({q.id: m for q, m in zip(questions, micros, strict=True)}, questions, group, year,
                               rules=rules)
        results = [joint[q.id] for q in questions]
    t1, c1 = time.perf_counter(), time.process_time()
    rows = []
    share = 1.0 / len(results)
    for question, result in zip(questions, results, strict=True):
        out: dict[str, object] = {
            "variable": question.id,
            "linked": group.id if group is not None else "",
            "protect_s": (t1 - t0) * share,
            "protect_cpu": (c1 - c0) * share,
            "cells": len(result.cells),
            "suppressed": int((result.cells["status"] != "V").sum()),
            "secondary": int((result.cells["status"] == "D").sum()),
            "diagnostics": len(result.diagnostics),
            "lp": result.stats.get("lp_solves", 0),
        }
        add = result.cells[result.cells["statistic"].isin(["count", "sum"])]
        out["value_total"] = float(add["value"].abs().sum())
        out["value_suppressed"] = float(add.loc[add["status"] != "V", "value"].abs().sum())
        if do_audit:
            from senacs_workbench.disclosure.audit import audit

            t2, c2 = time.perf_counter(), time.process_time()
            report = audit(result.cells, result.protection, rules=rules)
            out["audit_ok"] = bool(report.ok)
            out["audit_s"] = time.perf_counter() - t2
            out["audit_cpu"] = time.process_time() - c2
        rows.append(out)
    return rows


def linking_cost(frame: pd.DataFrame, base: pd.DataFrame, data: pd.DataFrame, year: int,
                 groups: list[LinkedGroup]) -> None:
    """The cost of protecting linked questions together: their suppressed value in the run
    above against the same questions protected one at a time (goal: at most 10 % more)."""
    codebook = load_codebook(year)
    for group in groups:
        apart_hidden = apart_total = 0.0
        apart_cells = apart_hidden_cells = 0
        for qid in group.questions:
            cells = protect(base.assign(value=data[qid].to_numpy()), codebook.question(qid), year, ReleaseSpec()).cells
            add = cells[cells["statistic"].isin(["count", "sum"])]
            apart_total += float(add["value"].abs().sum())
            apart_hidden += float(add.loc[add["status"] != "V", "value"].abs().sum())
            apart_cells += len(cells)
            apart_hidden_cells += int((cells["status"] != "V").sum())
        rows = frame[frame["variable"].isin(group.questions)]
        if apart_total > 0:
            measure = "valeur masquée"
            together = float(rows["value_suppressed"].sum()) / max(1.0, float(rows["value_total"].sum()))
            apart = apart_hidden / apart_total
        else:  # shares (percentages): no additive value, the hidden cells are the measure
            measure = "cases masquées"
            together = float(rows["suppressed"].sum()) / max(1.0, float(rows["cells"].sum()))
            apart = apart_hidden_cells / max(1, apart_cells)
        ratio = together / apart if apart else 1.0
        print(f"Questions liées « {group.id} » : {measure} {apart:.2%} protégées une à une, "
              f"{together:.2%} ensemble ; ratio {ratio:.3f} (objectif ≤ 1,10 : "
              f"{'atteint' if ratio <= 1.10 else 'non atteint'})")


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024.0


GOAL_SECONDS = 60.0
TAU_VARIABLES = ("budget_total", "personnes_touchees", "financement_caf", "etp", "heures_benevolat")
TAU_BREAKDOWNS = ("mode_gestion", "type_structure")
TAU_RULES = "NK(1,85)|P(10,1)|FREQ(3,10)"


def _suppressed_share(values: np.ndarray, hidden: np.ndarray) -> float:
    total = float(np.abs(values).sum())
    return float(np.abs(values[hidden]).sum()) / total if total else 0.0


def tauargus_comparison(base: pd.DataFrame, data: pd.DataFrame, year: int, variables: list[str]) -> None:
    """tau-Argus Modular (``pytauargus``) and the engine on the same single tables
    (département × breakdown with the national margins, same primary rules), at equal
    protection:

    * tau-Argus ``MOD(1)`` (no singleton protection) against the engine with its insider and
      dominated-union protections switched off and without its internal minimum margin for
      sums (rule set: ``margin_sum_min``, ``margin_sum_ratio``; tau-Argus has none, its
      protection levels are those of its rules, which are the engine's too);
    * tau-Argus ``MOD(1,5,1,1,1)`` (its singleton checks on) against the engine as released
      (every structure alone in a group is an insider it protects against).
    """
    try:
        import pytauargus
    except ImportError:
        print("pytauargus absent : comparaison tau-Argus ignorée.")
        return
    from dataclasses import replace

    codebook = load_codebook(year)
    released = load_rules()
    bare = replace(released, insiders=False, dominated_unions=False, margin_sum_min=0.0, margin_sum_ratio=0.0)
    comparisons = (
        ("à protection égale (sans initiés ni marge interne)", "MOD(1)", bare),
        ("avec protection des initiés", "MOD(1,5,1,1,1)", released),
    )
    print("\nComparaison avec tau-Argus Modular (tableaux simples département × ventilation, mêmes règles) :")
    ratios: dict[str, list[float]] = {label: [] for label, _, _ in comparisons}
    times: list[float] = []
    for variable in variables:
        q = codebook.question(variable)
        values = pd.to_numeric(data[variable], errors="coerce").to_numpy()
        for breakdown in TAU_BREAKDOWNS:
            micro = pd.DataFrame(
                {"dep": base["departement"].astype(str), "bd": base[breakdown].astype(str), "val": values}
            )
            micro = micro[micro["val"].notna()]
            spec = ReleaseSpec(levels=("national", "departement"), breakdowns=(breakdown,))
            for label, suppress, rules in comparisons:
                t0 = time.perf_counter()
                try:
                    res = pytauargus.protect(
                        micro, tables=[["dep", "bd"]], response="val", safety_rules=TAU_RULES, suppress=suppress
                    )
                    table = res.tables[0].dataframe()
                except Exception as exc:  # an optional comparison must not break the benchmark
                    print(f"  {variable} × {breakdown} : tau-Argus en échec ({type(exc).__name__}: {exc})")
                    continue
                tau_t = time.perf_counter() - t0
                tau_hidden = table["status"].isin(["U", "M"]).to_numpy()
                tau_loss = _suppressed_share(table["val"].to_numpy(dtype=float), tau_hidden)
                t1 = time.perf_counter()
                ours = protect(base.assign(value=values), q, year, spec, rules)
                our_t = time.perf_counter() - t1
                c = ours.cells[(ours.cells["statistic"] == "sum") & (ours.cells["n"] > 0)]
                hidden = (c["status"] != "V").to_numpy()
                our_loss = _suppressed_share(c["value"].to_numpy(dtype=float), hidden)
                ratio = our_loss / tau_loss if tau_loss else float("nan")
                ratios[label].append(ratio)
                times.append(our_t / tau_t)
                print(
                    f"  {variable} × {breakdown}, {label} : tau-Argus {suppress} {int(tau_hidden.sum())} cases "
                    f"(perte {tau_loss:.2%}) ; moteur {int(hidden.sum())} cases (perte {our_loss:.2%}) ; "
                    f"ratio de perte {ratio:.4f}, ratio de temps {our_t / tau_t:.2f}"
                )
    for label, values in ratios.items():
        if values:
            print(
                f"Ratio de perte d'information {label} : moyenne {np.mean(values):.4f}, "
                f"maximum {np.max(values):.4f} (objectif ≤ 1,0), {sum(v <= 1.0 + 1e-9 for v in values)}"
                f"/{len(values)} tableaux ≤ 1,0"
            )
    if times:
        print(f"Ratio de temps moteur / tau-Argus : médiane {np.median(times):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--no-tauargus", dest="tauargus", action="store_false")
    parser.add_argument("--csv", type=Path, default=None, help="écrit les chiffres par variable dans ce fichier")
    args = parser.parse_args()

    base, data = national_microdata(args.year)
    codebook = load_codebook(args.year)
    questions = [q for q in codebook.questions if q.type.is_numeric or q.type.is_categorical]
    if args.only:
        questions = [q for q in questions if q.id in args.only]
    # longest jobs first (categorical questions with many answers, then the rest in codebook
    # order), so that no worker is left with one slow variable at the end
    weight = {q.id: (len(q.answer_codes) if q.type.is_categorical else 1) for q in questions}
    order = sorted(range(len(questions)), key=lambda i: (-weight[questions[i].id], i))
    groups = linked_groups(codebook.relations, questions)
    grouped = {qid for group in groups for qid in group.questions}
    by_id = {q.id: q for q in questions}

    def micro(question: Question) -> pd.DataFrame:
        return base.assign(value=data[question.id].to_numpy())

    # the linked groups first (the longest jobs), then the rest, longest first
    jobs = [BenchJob(tuple(micro(by_id[q]) for q in r.questions), tuple(by_id[q] for q in r.questions), args.year,
                     not args.no_audit, r)
            for r in groups]
    jobs += [BenchJob((micro(q),), (q,), args.year, not args.no_audit)
             for q in (questions[i] for i in order) if q.id not in grouped]
    print(
        f"Campagne {args.year} : {len(base)} structures, {base['departement'].nunique()} départements, "
        f"{len(questions)} variables, {args.workers} processus, load average {os.getloadavg()[0]:.1f}"
    )
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            rows = [row for out in pool.map(_one, jobs, chunksize=1) for row in out]
    else:
        rows = [row for job in jobs for row in _one(job)]
    wall = time.perf_counter() - t0
    frame = pd.DataFrame(rows)
    if args.csv is not None:
        frame.to_csv(args.csv, index=False)
    slow = frame.sort_values("protect_s", ascending=False).head(8)
    print(slow.to_string(index=False))
    audit_s = float(frame["audit_s"].sum()) if "audit_s" in frame else 0.0
    audit_cpu = float(frame["audit_cpu"].sum()) if "audit_cpu" in frame else 0.0
    print(
        f"\nObjectif : l'année nationale protégée et auditée en moins de {GOAL_SECONDS:.0f} s ; "
        f"ratio temps / objectif {wall / GOAL_SECONDS:.2f} ({'atteint' if wall < GOAL_SECONDS else 'non atteint'})"
    )
    print(
        f"\nTemps total (mur) : {wall:.1f} s ; protection {frame['protect_s'].sum():.1f} s CPU-processus, "
        f"audit {audit_s:.1f} s ; mémoire de pointe {peak_rss_mb():.0f} Mo"
    )
    print(
        f"Temps CPU (insensible à la charge de la machine) : protection {frame['protect_cpu'].sum():.1f} s, "
        f"audit {audit_cpu:.1f} s, load average en fin de mesure {os.getloadavg()[0]:.1f}"
    )
    print(
        f"Cellules : {int(frame['cells'].sum())}, masquées : {int(frame['suppressed'].sum())} "
        f"(dont secondaires {int(frame['secondary'].sum())}), programmes linéaires : {int(frame['lp'].sum())}"
    )
    loss = frame["value_suppressed"].sum() / max(1.0, frame["value_total"].sum())
    print(f"Perte d'information (part de la valeur des cases additives masquée) : {loss:.2%}")
    if "audit_ok" in frame:
        failed = frame.loc[frame["audit_ok"] == False, "variable"].tolist()  # noqa: E712
        print(f"Audit : {'réussi' if not failed else 'ÉCHEC sur ' + ', '.join(failed)}")
    print(f"Diagnostics du moteur : {int(frame['diagnostics'].sum())}")
    linking_cost(frame, base, data, args.year, groups)
    if args.tauargus:
        tauargus_comparison(base, data, args.year, list(TAU_VARIABLES))
        from tauargus_hierarchy import compare as hierarchical_comparison

        hierarchical_comparison(base, data, args.year, "budget_total", "mode_gestion")


if __name__ == "__main__":
    main()
