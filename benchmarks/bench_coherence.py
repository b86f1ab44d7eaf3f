"""Benchmark of the coherence check (issue 5).

1. Recall and precision of the rules against the synthetic generator's planted incoherences,
   per family (``family`` in ``data/coherence/rules.yaml``), on national campaigns.
2. The time of a full national check (scale 1.0), against a named baseline: the import of the
   same campaign file (``import_file``), which reads the same data once.

Usage: ``python3 benchmarks/bench_coherence.py [--scale 1.0] [--seed 2024] [--years 2022 2023 2024]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--years", type=int, nargs="+", default=[2022, 2023, 2024])
    args = parser.parse_args()
    os.environ["SENACS_USER"] = "bench"

    from senacs_workbench.core.governance import dump_governance
    from senacs_workbench.core.workspace import init_workspace
    from senacs_workbench.demo.governance import demo_governance
    from senacs_workbench.demo.synthetic import generate
    from senacs_workbench.restricted.coherence.engine import run_check
    from senacs_workbench.restricted.coherence.evaluation import evaluate_against_truth
    from senacs_workbench.restricted.coherence.resolution import list_findings
    from senacs_workbench.restricted.importing.run import import_file

    with tempfile.TemporaryDirectory(prefix="bench-coherence-") as tmp:
        root = Path(tmp)
        workspace = init_workspace(root / "ws")
        # the demo's fictitious committees, with this benchmark's user as designated preparer
        workspace.governance_path.write_text(dump_governance(demo_governance("bench")), encoding="utf-8")
        from senacs_workbench.trust.demo_keys import adopt_demo_governance
        adopt_demo_governance(workspace)
        incoming = root / "incoming"
        generate(args.years, incoming, seed=args.seed, scale=args.scale)
        import_seconds: dict[int, float] = {}
        for year in args.years:
            started = time.perf_counter()
            import_file(workspace, incoming / f"senacs_{year}.csv", year)
            import_seconds[year] = time.perf_counter() - started
        check_seconds: dict[int, float] = {}
        findings, truths = [], []
        for year in args.years:
            started = time.perf_counter()
            report = run_check(workspace, year)
            check_seconds[year] = time.perf_counter() - started
            found = list_findings(workspace, year)
            findings.append(found.assign(structure_id=found["structure_id"].astype(str) + f"@{year}"))
            truth = pd.read_csv(incoming / f"ground_truth_{year}.csv", sep=";", dtype=str)
            truths.append(truth.assign(id_structure=truth["id_structure"] + f"@{year}"))
            print(
                f"{year}: {report.found} constats, {len(truth)} incohérences plantées, "
                f"contrôle {check_seconds[year]:.2f} s"
            )
        evaluation = evaluate_against_truth(pd.concat(findings), pd.concat(truths))

    print(
        f"\nRappel et précision par famille (graine {args.seed}, échelle {args.scale}, "
        f"campagnes {', '.join(map(str, args.years))}) :"
    )
    table = evaluation.table()
    table["rappel"] = table["rappel"].map(lambda v: f"{v:.1%}")
    table["précision"] = table["précision"].map(lambda v: f"{v:.1%}")
    print(table.to_string(index=False))
    print(
        f"ensemble : rappel {evaluation.recall:.1%}, précision {evaluation.precision:.1%} "
        f"(constats hors famille de gravité erreur/alerte : {evaluation.unmapped_alerts}, "
        f"informations : {evaluation.information})"
    )
    last = args.years[-1]
    ratio = check_seconds[last] / import_seconds[last]
    print(
        f"\nContrôle complet de la campagne {last} (échelle {args.scale}) : {check_seconds[last]:.2f} s ; "
        f"référence (import du même fichier) : {import_seconds[last]:.2f} s ; ratio contrôle/import : {ratio:.2f}"
    )
    ok = evaluation.recall >= 0.95 and evaluation.precision >= 0.90
    print("objectif rappel ≥ 95 % et précision ≥ 90 % :", "atteint" if ok else "NON ATTEINT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
