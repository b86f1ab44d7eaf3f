"""Benchmark: publishing one national synthetic year (issue 4).

Generates and imports the 2025 national synthetic year into a temporary workspace, then times
``publish_year`` (tabulate, protect, audit, write the draft bundle): wall time, processor time,
peak memory of the process tree, and the bundle's size. Usage: ``python3 benchmarks/bench_publish.py
[--scale 1.0]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    os.environ.setdefault("SENACS_USER", "bench")
    from senacs_workbench.demo.run import _import_years, prepare_demo_workspace
    from senacs_workbench.restricted.publication.approval import draft_dir
    from senacs_workbench.restricted.publication.publish import publish_year

    with tempfile.TemporaryDirectory() as tmp:
        workspace = prepare_demo_workspace(Path(tmp) / "ws")
        _import_years(workspace, [args.year], args.scale, 2024, lambda _line: None)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        outcome = publish_year(workspace, args.year)
        wall = time.perf_counter() - wall0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time() - cpu0 + (children.ru_utime - children0.ru_utime)
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child = children.ru_maxrss / 1024
        size = sum(p.stat().st_size for p in draft_dir(workspace, args.year).iterdir())
        print(f"publication d'une année nationale ({args.year}, échelle {args.scale}) :")
        print(f"  temps réel            {wall:8.1f} s")
        print(f"  temps processeur      {cpu:8.1f} s")
        print(f"  mémoire max (parent)  {peak_self:8.0f} Mo ; processus de calcul {peak_child:.0f} Mo")
        print(f"  cellules              {outcome.cells:8d} dont {outcome.suppressed} masquées")
        print(f"  taille du jeu         {size / 1e6:8.2f} Mo")
        print(f"  ratio au but (60 s)   {wall / 60:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
