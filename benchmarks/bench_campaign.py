"""Benchmark: the ``territorial_analysis`` campaign of one year for all 120 territories vs the naive baseline.

Ours: ``run_campaign`` (worker processes, HTML without code, one shared plotly.min.js per folder).
Baseline: for each territory, one after the other, the ``papermill`` command line then
``jupyter nbconvert --to html --no-input``, with the notebook's figures shown the naive way
(plotly's ``notebook`` renderer: plotly.js embedded once in every page; ``SENACS_CHARTS=embedded``).

The baseline is timed on a sample of ``--sample`` territories (national, régions and
départements) and extrapolated to 120 (``--sample 120`` runs it all). The released bundle is
synthetic, in a temporary workspace: by default of national size (``--size national``:
tests/dashboards/released_bundles.py's national scale, every département, ~3 400 structures, every
tabulated question and four breakdowns, about 870 000 cells, as a national committee releases), or
the small sample of tests/campaign/sample_bundles.py (``--size sample``, 532 structures).
The key figures of the sampled baseline runs are
compared with the campaign's.

    python benchmarks/bench_campaign.py [--size national|sample] [--sample 6] [--workers 2] [--keep DIR]
                                        [--baseline-only]

``--baseline-only`` (with ``--keep DIR`` of an earlier run) re-times the baseline alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "campaign"))

YEAR = 2024
GOVERNANCE = {"territories": [{
    "territory": "FR",
    "committee": [{"user": "ccaf", "name": "Camille Caf", "institution": "caf"},
                  {"user": "ffed", "name": "Florent Fédé", "institution": "federation"}],
    "preparer": {"user": "prep", "name": "Pat Préparateur", "designated_on": "2025-01-15",
                 "designated_by": ["ccaf", "ffed"]},
    "correspondents": [],
}]}


def _size(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / max(1, len(paths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=6, help="baseline territories actually run (120 = all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the workspace in this folder")
    parser.add_argument("--baseline-only", action="store_true", help="reuse the campaign of an earlier --keep run")
    parser.add_argument("--size", choices=("national", "sample"), default="national",
                        help="released bundle of national size (default) or the 532-structure sample")
    args = parser.parse_args()

    from sample_bundles import cells, microdata, release

    from senacs_workbench.core import territories as geo
    from senacs_workbench.core.workspace import Workspace, init_workspace
    from senacs_workbench.restricted.campaign import run_campaign

    os.environ["SENACS_USER"] = "prep"
    base = args.keep or Path(tempfile.mkdtemp(prefix="senacs-bench-"))
    territories = ["FR", *(f"region:{c}" for c in sorted(geo.regions()["code"])),
                   *(f"departement:{c}" for c in sorted(geo.departements()["code"]))]
    assert len(territories) == 120
    workspace = Workspace(base / "ws")
    folder = workspace.reports / "committee" / "bench"
    if args.baseline_only:
        ours = json.loads((base / "campaign.json").read_text(encoding="utf-8"))["seconds"]
    else:
        if base.exists() and args.keep:
            shutil.rmtree(base)
        started = time.perf_counter()
        if args.size == "national":
            sys.path.insert(0, str(REPO / "tests" / "dashboards"))
            from released_bundles import NATIONAL, build_workspace, true_cells

            workspace = build_workspace(base / "ws", (YEAR,), NATIONAL)
            size = f"{len(true_cells(YEAR, NATIONAL)):,} cells (national size)"
        else:
            workspace = init_workspace(base / "ws")
            workspace.governance_path.write_text(yaml.safe_dump(GOVERNANCE, allow_unicode=True), encoding="utf-8")
            from senacs_workbench.trust.demo_keys import adopt_demo_governance
            adopt_demo_governance(workspace)
            micro = microdata(YEAR)
            release(workspace, YEAR, cells(micro, YEAR))
            size = f"{len(micro)} synthetic structures (sample)"
        print(f"Released bundle {YEAR}: {size}, all 101 départements "
              f"({time.perf_counter() - started:.0f} s to build).")
        campaign = base / "bench.yaml"
        campaign.write_text(yaml.safe_dump({
            "name": "bench", "notebooks": str(REPO / "notebooks"), "timeout": 600,
            "runs": [{"notebook": "territorial_analysis", "territories": ["national", "regions", "departements"],
                      "parameters": {"year": YEAR}}],
        }), encoding="utf-8")
        t0 = time.perf_counter()
        report = run_campaign(workspace, campaign, workers=args.workers)
        ours = time.perf_counter() - t0
        if not report.ok:
            print(report.summary_fr())
            return 1
        (base / "campaign.json").write_text(json.dumps({"seconds": ours}), encoding="utf-8")
    pages = sorted(folder.glob("*.html"))
    pages = [p for p in pages if p.name != "index.html"]
    shared = (folder / "plotly.min.js").stat().st_size

    step = max(1, len(territories) // max(1, args.sample))
    sample = territories[::step][: args.sample] if args.sample < len(territories) else territories
    baseline_dir = base / "baseline"
    shutil.rmtree(baseline_dir, ignore_errors=True)
    baseline_dir.mkdir()
    env = dict(os.environ, SENACS_CHARTS="embedded")
    t0 = time.perf_counter()
    for territory in sample:
        slug = territory.replace(":", "-")
        executed = baseline_dir / f"{slug}.ipynb"
        subprocess.run(["papermill", str(REPO / "notebooks" / "territorial_analysis.ipynb"), str(executed),
                        "-p", "territory", territory, "-p", "year", str(YEAR),
                        "-p", "published_dir", str(workspace.published),
                        "-p", "output_dir", str(baseline_dir / slug), "--no-progress-bar"],
                       check=True, env=env, capture_output=True)
        subprocess.run(["jupyter", "nbconvert", "--to", "html", "--no-input", str(executed)], check=True, env=env,
                       capture_output=True)
    baseline_sample = time.perf_counter() - t0
    baseline = baseline_sample / len(sample) * len(territories)
    baseline_pages = sorted(baseline_dir.glob("*.html"))

    same = True
    for territory in sample:
        slug = territory.replace(":", "-")
        theirs = json.loads((baseline_dir / slug / "key_figures.json").read_text(encoding="utf-8"))
        ours_figures = json.loads((folder / "artefacts" / f"territorial_analysis__{slug}__{YEAR}" /
                                   "key_figures.json").read_text(encoding="utf-8"))
        same &= theirs == ours_figures

    exact = "measured" if len(sample) == len(territories) else f"extrapolated from {len(sample)} territories"
    print()
    print(f"Campaign (run_campaign, {args.workers} worker processes): {len(pages)} notebooks + HTML in {ours:.0f} s "
          f"({ours / len(pages):.2f} s per notebook)")
    print(f"Baseline (papermill CLI + nbconvert --no-input, sequential): {baseline:.0f} s for 120 ({exact}; "
          f"{baseline_sample / len(sample):.2f} s per notebook)")
    print(f"Wall-time ratio: {baseline / ours:.1f}x (goal >= 4x)")
    print(f"Average page: {_size(pages) / 1e3:.0f} kB (+ one shared plotly.min.js of {shared / 1e6:.1f} MB per folder, "
          f"{shared / len(pages) / 1e3:.0f} kB per page amortised) vs baseline {_size(baseline_pages) / 1e3:.0f} kB")
    print(f"Same key figures as the baseline's fresh-kernel runs on the sample: {'yes' if same else 'NO'}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
