"""Benchmark: publishing one national synthetic year (issue 4).

Generates and imports the 2025 national synthetic year into a temporary workspace (or copies an
existing workspace, ``--workspace``, e.g. the demo's, and re-publishes one of its years), then
times ``publish_year`` (tabulate, protect, audit, write the draft bundle): wall time, processor
time (the process and its workers), peak memory of the process tree, and the bundle's size; and
apart, its stages: the protection with the engine's audit (the worker pool), the independent
union gate, the rest (reading, writing). Usage: ``python3 benchmarks/bench_publish.py [--scale 1.0]
[--year 2025] [--workspace DIR]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GOAL_SECONDS = 60.0
"""Issue 16: protect and audit a national year in under one minute."""


def _cpu() -> float:
    """Processor seconds of this process and of its finished children (the worker pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(function: Callable[..., Any], into: dict[str, list[float]], name: str) -> Callable[..., Any]:
    """``function``, adding its wall and processor seconds to ``into[name]``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall0, cpu0 = time.perf_counter(), _cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent = into.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall0
            spent[1] += _cpu() - cpu0

    return wrapper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--workspace", type=Path, default=None,
                        help="re-publish --year of a copy of this workspace (that year is published afresh)")
    args = parser.parse_args()
    os.environ.setdefault("SENACS_USER", "bench")
    from senacs_workbench.core.workspace import open_workspace
    from senacs_workbench.demo.run import _import_years, prepare_demo_workspace
    from senacs_workbench.restricted.publication import publish, union_gate
    from senacs_workbench.restricted.publication.approval import draft_dir
    from senacs_workbench.restricted.publication.publish import publish_year

    stages: dict[str, list[float]] = {}
    publish.protect_questions = _timed(publish.protect_questions, stages, "protection")  # type: ignore[assignment]
    union_gate.union_withheld = _timed(union_gate.union_withheld, stages, "union")  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        if args.workspace is not None:
            shutil.copytree(args.workspace, Path(tmp) / "ws", symlinks=True)
            workspace = open_workspace(Path(tmp) / "ws")
            _forget_year(workspace, args.year)
        else:
            workspace = prepare_demo_workspace(Path(tmp) / "ws")
            _import_years(workspace, [args.year], args.scale, 2024, lambda _line: None)
        wall0, cpu0 = time.perf_counter(), _cpu()
        outcome = publish_year(workspace, args.year)
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = sum(p.stat().st_size for p in draft_dir(workspace, args.year).iterdir())
        where = f"{args.workspace}" if args.workspace is not None else f"échelle {args.scale}"
        protection, union = stages.get("protection", [0.0, 0.0]), stages.get("union", [0.0, 0.0])
        print(f"publication d'une année nationale ({args.year}, {where}) :")
        print(f"  temps réel            {wall:8.1f} s   (processeur {cpu:.1f} s)")
        print(f"    protection + audit  {protection[0]:8.1f} s   (processeur {protection[1]:.1f} s, "
              "processus de calcul compris)")
        print(f"    audit de l'union    {union[0]:8.1f} s   (processeur {union[1]:.1f} s)")
        rest = wall - protection[0] - union[0]
        print(f"    lecture, écriture   {rest:8.1f} s   (processeur {cpu - protection[1] - union[1]:.1f} s)")
        print(f"  mémoire max (parent)  {peak_self:8.0f} Mo ; processus de calcul {peak_child:.0f} Mo")
        print(f"  cellules              {outcome.cells:8d} dont {outcome.suppressed} masquées")
        print(f"  taille du jeu         {size / 1e6:8.2f} Mo")
        print(f"  ratio au but ({GOAL_SECONDS:.0f} s)   {wall / GOAL_SECONDS:8.2f} ; protection et audits : "
              f"{(protection[0] + union[0]) / GOAL_SECONDS:.2f}")
    return 0


def _forget_year(workspace: Any, year: int) -> None:
    """Remove ``year``'s draft, releases and ledger entries from a copied workspace, so that it
    is published afresh (as it was the first time, against the earlier years' releases)."""
    import json

    for folder in (workspace.published / "drafts" / str(year), workspace.published / "released" / str(year),
                   workspace.restricted / "ledger" / str(year), workspace.restricted / "publication" / str(year),
                   workspace.restricted / "authorised" / str(year)):
        shutil.rmtree(folder, ignore_errors=True)
    index = workspace.restricted / "ledger" / "index.jsonl"
    if index.exists():
        kept = [line for line in index.read_text().splitlines()
                if line.strip() and not str(json.loads(line).get("table", "")).startswith(f"{year}/")]
        index.write_text("".join(f"{line}\n" for line in kept))


if __name__ == "__main__":
    sys.exit(main())
