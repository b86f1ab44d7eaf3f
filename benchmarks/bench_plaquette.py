"""Benchmark: building the plaquettes of every territory (nation, 18 régions, 101 départements).

Usage: ``python3 benchmarks/bench_plaquette.py [--all | --sample N]``. By default a
representative sample (the nation, 3 régions, 8 départements: 12 plaquettes) is built with
one kaleido server and one browser, and the time for the 120 territories is extrapolated
from the per-level means; ``--all`` builds all 120. Released bundles are synthetic
(tests/plaquette/plaquette_cells.py) until the real publication lands.

Baseline: the yearly campaign batch must build the 120 plaquettes in under 15 minutes on one
machine (7,5 s per plaquette); figures are printed as ratios against it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "plaquette"))

from plaquette_cells import release_in_workspace, synthetic_cells  # noqa: E402

from senacs_workbench.core import territories as geo  # noqa: E402
from senacs_workbench.core.governance import dump_governance  # noqa: E402
from senacs_workbench.core.workspace import init_workspace  # noqa: E402
from senacs_workbench.demo.governance import demo_governance  # noqa: E402
from senacs_workbench.released.plaquette.build import PlaquetteBuilder  # noqa: E402
from senacs_workbench.restricted.publication.plaquette import all_territories, build_plaquette  # noqa: E402

YEAR = 2024
BASELINE_TOTAL_S = 15 * 60
BASELINE_PER_PLAQUETTE_S = BASELINE_TOTAL_S / 120
SAMPLE = ["FR", "R75", "R11", "R04", "24", "59", "75", "2A", "48", "971", "33", "13"]


def _level(territory: str) -> str:
    return "national" if territory == "FR" else "region" if territory.startswith("R") else "departement"


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="build all 120 plaquettes")
    args = parser.parse_args()
    territories = all_territories() if args.all else SAMPLE
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        workspace.governance_path.write_text(dump_governance(demo_governance("prep")), encoding="utf-8")
        from senacs_workbench.trust.demo_keys import adopt_demo_governance
        adopt_demo_governance(workspace)
        started = time.perf_counter()
        release_in_workspace(workspace, synthetic_cells(YEAR), YEAR)
        print(f"jeu de tableaux synthétique publié en {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        timings: dict[str, float] = {}
        sizes: dict[str, int] = {}
        pages: dict[str, int] = {}
        with PlaquetteBuilder() as builder:
            startup = time.perf_counter() - started
            for territory in territories:
                t0 = time.perf_counter()
                result = build_plaquette(workspace, territory, YEAR, builder=builder)
                timings[territory] = time.perf_counter() - t0
                sizes[territory] = result.pdf.stat().st_size
                pages[territory] = _pages(result.pdf)
        total = time.perf_counter() - started
    by_level: dict[str, list[float]] = {}
    for territory, seconds in timings.items():
        by_level.setdefault(_level(territory), []).append(seconds)
    counts = {"national": 1, "region": len(geo.regions()), "departement": len(geo.departements())}
    extrapolated = startup + sum(statistics.mean(v) * counts[level] for level, v in by_level.items())
    per = statistics.mean(timings.values())
    print(f"plaquettes construites : {len(timings)} ({'toutes' if args.all else 'échantillon représentatif'})")
    print(f"démarrage kaleido + navigateur : {startup:.1f} s (une fois pour toutes)")
    for level, values in by_level.items():
        print(f"  {level:<12} {len(values):>3} plaquettes, {statistics.mean(values):.2f} s en moyenne "
              f"(min {min(values):.2f}, max {max(values):.2f})")
    print(f"temps total : {total:.1f} s ; par plaquette : {per:.2f} s "
          f"(ratio à la référence {BASELINE_PER_PLAQUETTE_S:.1f} s : {per / BASELINE_PER_PLAQUETTE_S:.2f})")
    if not args.all:
        print(f"120 territoires (extrapolé par niveau) : {extrapolated:.0f} s "
              f"(ratio à la référence {BASELINE_TOTAL_S} s : {extrapolated / BASELINE_TOTAL_S:.2f})")
    else:
        print(f"120 territoires : {total:.0f} s (ratio à la référence {BASELINE_TOTAL_S} s : "
              f"{total / BASELINE_TOTAL_S:.2f})")
    kib = [s / 1024 for s in sizes.values()]
    print(f"taille des PDF : {statistics.mean(kib):.0f} Kio en moyenne (min {min(kib):.0f}, max {max(kib):.0f}) ; "
          f"pages : {min(pages.values())}–{max(pages.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
