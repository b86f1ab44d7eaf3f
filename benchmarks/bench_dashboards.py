"""Committee dashboards in a real browser: time to the first chart, and selector-to-chart latency.

Baselines and goals (issue 8):
- time to the first chart with preheated kernels (``senacs serve``'s default) against Voilà's default
  mode (a kernel started and the notebook executed per request), same dashboard, same data, a fresh
  browser context each load: goal ratio ≤ 0.5;
- latency from a selector change (territory) to the updated chart on a loaded page, measured inside the
  page (change event → chart title redrawn): goal median < 300 ms.

Runs Debian's chromium through Playwright on released bundles built like the browser tests', at the size
of a national committee bundle by default (two campaigns, every département, ~3 400 structures, every
tabulated question, four breakdowns: ~870 000 cells a year; building them takes a few minutes), or at
the browser tests' size with ``--scale test``. ``--workspace departement`` (the default: most committees
are départemental) serves the Dordogne's workspace instead: its own cells, with the national bundles of
that size added for comparison, so every view reads the région and the nation from the received
bundles. Usage: ``python3 benchmarks/bench_dashboards.py`` (``--scale national|test``,
``--workspace departement|national``, ``--loads N``, ``--changes N``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "dashboards"))

from released_bundles import NATIONAL, TEST, YEARS, build_departement_workspace, build_workspace  # noqa: E402

from senacs_workbench.apps.serve import DashboardServer, serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DASHBOARD = "tableau_de_bord"
CHANGE_AND_WAIT = """
([label, name]) => new Promise((resolve, reject) => {
  // measured inside the page: from the selector's change event to the updated chart title
  const chart = document.querySelector('.senacs-chart-comparison');
  const done = () => [...chart.querySelectorAll('.gtitle')].some(e => e.textContent.includes(name));
  const select = document.querySelector('.senacs-select-territory select');
  const observer = new MutationObserver(() => {
    if (done()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(chart, {subtree: true, childList: true, characterData: true});
  setTimeout(() => { observer.disconnect(); reject(new Error('no update after 30 s')); }, 30000);
  const start = performance.now();
  select.value = label;
  select.dispatchEvent(new Event('change', {bubbles: true}));
})
"""
FIRST_CHART = "() => document.querySelector('.senacs-chart-comparison .js-plotly-plot .gtitle') !== null"


def time_to_first_chart(browser: Any, server: DashboardServer, loads: int) -> list[float]:
    timings = []
    for _ in range(loads):
        server.wait_idle(120, quiet=1.5)  # the pool is refilled (preheated) / the previous kernel is idle
        context = browser.new_context()
        page = context.new_page()
        started = time.perf_counter()
        page.goto(server.urls[DASHBOARD], timeout=180_000)
        page.wait_for_function(FIRST_CHART, timeout=180_000, polling="raf")
        timings.append(time.perf_counter() - started)
        context.close()
    return timings


def selector_latency(browser: Any, server: DashboardServer, changes: int, territories: list[str]) -> list[float]:
    server.wait_idle(120, quiet=1.5)
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.urls[DASHBOARD], timeout=180_000)
    page.wait_for_function(FIRST_CHART, timeout=180_000, polling="raf")
    server.wait_idle(120, quiet=1.5)  # the pool refill triggered by this page load is done
    timings = []
    for i in range(changes):
        label = territories[i % len(territories)]
        timings.append(page.evaluate(CHANGE_AND_WAIT, [label, label.split(" (")[0]]) / 1000)
        page.wait_for_timeout(300)  # let the rest of the view (table, downloads) settle
    context.close()
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--changes", type=int, default=15)
    parser.add_argument("--scale", choices=("national", "test"), default="national")
    parser.add_argument("--workspace", choices=("departement", "national"), default="departement")
    args = parser.parse_args(argv)
    scale, years = (NATIONAL, YEARS[-2:]) if args.scale == "national" else (TEST, YEARS)
    with tempfile.TemporaryDirectory(prefix="bench-dashboards-") as tmp:
        started = time.perf_counter()
        workspace = build_workspace(Path(tmp) / "workspace", years, scale)
        territories = ["Landes (40)", "Gironde (33)", "Rhône (69)", "Paris (75)", "Ain (01)"]
        if args.workspace == "departement":
            workspace = build_departement_workspace(workspace, Path(tmp) / "dordogne", years, scale)
            territories = ["Landes (40)", "Gironde (33)", "Dordogne (24)"]
        elapsed = time.perf_counter() - started
        print(f"jeux de tableaux « {scale.name} » {years[0]}–{years[-1]} publiés en {elapsed:.0f} s "
              f"(espace {args.workspace})", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results: dict[str, list[float]] = {}
            for mode, preheat in (("préchauffé", True), ("défaut Voilà", False)):
                server = serve(workspace.published, port=0, preheat=preheat, pool_size=1, dashboards=[DASHBOARD])
                try:
                    server.wait_ready(300)
                    results[mode] = time_to_first_chart(browser, server, args.loads)
                    if preheat:
                        results["latence"] = selector_latency(browser, server, args.changes, territories)
                finally:
                    server.stop()
            browser.close()
    hot, cold, latency = (statistics.median(results[k]) for k in ("préchauffé", "défaut Voilà", "latence"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine : {os.cpu_count()} cœurs, charge moyenne {load:.1f} "
          "(mesures faussées si la charge dépasse le nombre de cœurs)")
    ratio = hot / cold
    p90 = sorted(results["latence"])[int(0.9 * (len(results["latence"]) - 1))]
    for label, key, value in (("noyaux préchauffés", "préchauffé", hot), ("mode par défaut   ", "défaut Voilà", cold)):
        runs = ", ".join(f"{t:.2f}" for t in results[key])
        print(f"premier graphique, {label} : médiane {value:.2f} s  ({runs})")
    print(f"ratio préchauffé / défaut : {ratio:.2f} (objectif ≤ 0,50) {'OK' if ratio <= 0.5 else 'NON ATTEINT'}")
    verdict = "OK" if latency < 0.3 else "NON ATTEINT"
    print(f"latence sélecteur → graphique : médiane {latency * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms "
          f"sur {len(results['latence'])} changements (objectif médiane < 300 ms) {verdict}")
    return 0 if ratio <= 0.5 and latency < 0.3 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
