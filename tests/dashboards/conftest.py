"""Browser tests of the committee dashboards: Debian's chromium driven by Playwright, one server per session.

The released bundles are built by :mod:`released_bundles` (through the real approval gate);
``senacs_workbench.apps.serve.serve`` runs both dashboards on free ports with preheated kernels.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from dashboard_browser import open_dashboard  # noqa: E402
from released_bundles import build_workspace  # noqa: E402

from senacs_workbench.apps.serve import DashboardServer, serve  # noqa: E402
from senacs_workbench.core.workspace import Workspace  # noqa: E402

CHROMIUM = os.environ.get("SENACS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh (Debian package chromium).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def browser(browser_type_launch_args: dict[str, Any]) -> Iterator[Any]:
    """A chromium per test module, with its own Playwright, stopped at the end of the module.

    (pytest-playwright's session-wide Playwright would keep its event loop running after these tests,
    and break later tests that call ``sync_playwright()`` themselves, e.g. the plaquette's PDF.)
    """
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**browser_type_launch_args)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def released_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("dashboards") / "workspace")


@pytest.fixture(scope="session")
def dashboard_server(released_workspace: Workspace) -> Iterator[DashboardServer]:
    server = serve(released_workspace.published, port=0, pool_size=1, preheat=True)
    try:
        server.wait_ready(240)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_context(browser: Any) -> Iterator[Any]:
    """One context per module: pages of a module share it (fewer page loads, fewer kernels)."""
    context = browser.new_context(accept_downloads=True)
    yield context
    context.close()


@pytest.fixture(scope="module")
def overview_page(browser_context: Any, dashboard_server: DashboardServer) -> Iterator[Any]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    open_dashboard(page, dashboard_server, "tableau_de_bord", charts=2)
    yield page
    page.close()


@pytest.fixture(scope="module")
def trends_page(browser_context: Any, dashboard_server: DashboardServer) -> Iterator[Any]:
    page = browser_context.new_page()
    open_dashboard(page, dashboard_server, "tendances")
    yield page
    page.close()
