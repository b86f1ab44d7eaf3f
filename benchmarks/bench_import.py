"""Benchmark: import one national synthetic campaign from CSV and from XLSX.

Usage: ``python benchmarks/bench_import.py [--year 2024] [--scale 1.0] [--seed 2024] [--repeat 1]``

Each measurement runs in a fresh Python process (modules imported beforehand, caches cold) in a
fresh workspace: wall time of the call, peak resident memory of the process during the call
(``VmHWM`` of ``/proc/self/status``, reset just before the call) and its growth over the
resident memory before the call. CPU time (``process_time``) is printed too: on a busy machine
it is steadier than wall time. Baseline: ``pandas.read_excel(path, engine="openpyxl")`` of the same
XLSX alone. Goal: the whole XLSX import (read, parse, validate, store) takes less time than the
baseline takes only to read the file — the ratio import_xlsx / baseline is printed (goal < 1);
the exit status is 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, sys, time
from pathlib import Path
mode, path, year, workspace_dir = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
import pandas as pd

def memory_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM (peak RSS) to the current RSS
    except OSError:
        pass

if mode == "baseline":
    import openpyxl  # noqa: F401
    reset_peak()
    before = memory_kb("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_excel(path, engine="openpyxl")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = len(frame)
else:
    from senacs_workbench.demo.governance import demo_governance
    from senacs_workbench.core.governance import dump_governance
    from senacs_workbench.restricted.intake import import_file
    from senacs_workbench.core.workspace import init_workspace, write_text_atomic
    import duckdb, pandera.pandas, python_calamine  # noqa: F401
    workspace = init_workspace(workspace_dir)
    os.environ["SENACS_USER"] = "bench"
    write_text_atomic(workspace.governance_path, dump_governance(demo_governance("bench")))
    from senacs_workbench.trust.demo_keys import adopt_demo_governance
    adopt_demo_governance(workspace)
    reset_peak()
    before = memory_kb("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    outcome = import_file(workspace, path, year)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = outcome.structures
    assert outcome.version == 1 and not outcome.already_imported
peak = memory_kb("VmHWM")
figures = {"seconds": elapsed, "cpu": cpu, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024}
print(json.dumps({**figures, "rows": rows}))
"""


def measure(mode: str, path: Path, year: int, scratch: Path, run: int) -> dict[str, float]:
    workspace = scratch / f"ws-{path.suffix.lstrip('.')}-{mode}-{run}"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(year), str(workspace)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"Échec de la mesure « {mode} » :\n{result.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def fr(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mesure de l'import d'une campagne nationale synthétique.")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=1, help="mesures par opération (médiane)")
    args = parser.parse_args(argv)
    try:
        from senacs_workbench.demo.synthetic import generate
    except ImportError:
        print("Générateur synthétique indisponible (senacs_workbench.demo.synthetic.generate) : benchmark non exécuté.")
        return 0
    with tempfile.TemporaryDirectory(prefix="senacs-bench-") as tmp:
        scratch = Path(tmp)
        paths = generate([args.year], scratch / "exports", seed=args.seed, scale=args.scale)
        csv_path = next(p for p in paths if p.name == f"senacs_{args.year}.csv")
        xlsx_path = next(p for p in paths if p.name == f"senacs_{args.year}.xlsx")
        operations = [
            ("import_csv", f"Import CSV ({csv_path.stat().st_size / 1e6:.1f} Mo) : lecture + validation + stockage",
             csv_path),
            ("import_xlsx", f"Import XLSX ({xlsx_path.stat().st_size / 1e6:.1f} Mo) : lecture + validation + stockage",
             xlsx_path),
            ("baseline", "Référence : pandas.read_excel(engine=\"openpyxl\"), lecture seule du même XLSX", xlsx_path),
        ]
        results: dict[str, dict[str, float]] = {}
        for key, _label, path in operations:
            runs = [measure(key if key == "baseline" else "import", path, args.year, scratch, i)
                    for i in range(args.repeat)]
            results[key] = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "cpu": statistics.median(r["cpu"] for r in runs),
                "peak_mb": max(r["peak_mb"] for r in runs),
                "growth_mb": max(r["growth_mb"] for r in runs),
                "rows": runs[0]["rows"],
            }
    width = max(len(label) for _, label, _ in operations)
    print(f"Campagne {args.year}, échelle {args.scale} (graine {args.seed}), médiane de {args.repeat} mesure(s) ;"
          f" {int(results['import_xlsx']['rows'])} structures.")
    print(f"{'Opération':<{width}}  {'Durée (s)':>10}  {'CPU (s)':>8}  {'Pic mémoire (Mo)':>17}  {'Hausse (Mo)':>12}")
    for key, label, _ in operations:
        figures = results[key]
        print(f"{label:<{width}}  {fr(figures['seconds']):>10}  {fr(figures['cpu']):>8}  "
              f"{fr(figures['peak_mb'], 0):>17}  {fr(figures['growth_mb'], 0):>12}")
    ratio = results["import_xlsx"]["seconds"] / results["baseline"]["seconds"]
    csv_ratio = results["import_csv"]["seconds"] / results["baseline"]["seconds"]
    met = ratio < 1
    print(f"Ratio import XLSX / lecture openpyxl : {fr(ratio)} (objectif < 1 : {'atteint' if met else 'NON atteint'})")
    print(f"Ratio import CSV / lecture openpyxl : {fr(csv_ratio)}")
    cpu_ratio = results["import_xlsx"]["cpu"] / results["baseline"]["cpu"]
    print(f"Ratio en temps CPU (moins sensible à la charge de la machine), import XLSX / lecture openpyxl : "
          f"{fr(cpu_ratio)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
