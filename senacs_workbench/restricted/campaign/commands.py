"""What the ``senacs run``, ``senacs demo`` (campaign part) and ``senacs lab`` commands call.

Each returns the process exit status and prints French messages through ``echo``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign.lab import REPO_ROOT, run_lab
from senacs_workbench.restricted.campaign.runner import run_campaign

DEMO_CAMPAIGN = REPO_ROOT / "parameters" / "demo.yaml"
Echo = Callable[[str], None]


def run_command(workspace: Workspace, campaign_file: Path, *, resume: bool = False, executor: str = "local",
                scheduler: str | None = None, workers: int = 2, fresh_kernels: bool = False,
                echo: Echo = print) -> int:
    """``senacs run parameters/<campagne>.yaml [--resume] [--executor dask --scheduler ADRESSE] [--workers N]
    [--fresh-kernels]``."""
    report = run_campaign(workspace, campaign_file, resume=resume, executor=executor, scheduler=scheduler,
                          workers=workers, fresh_kernels=fresh_kernels)
    echo(report.summary_fr())
    return report.exit_code


DEMO_YEARS = (2024, 2025)
"""Campaign years that ``parameters/demo.yaml`` reads."""


def release_demo_years(workspace: Workspace, years: tuple[int, ...] = DEMO_YEARS, echo: Echo = print) -> None:
    """Demo workspaces only: publish each year not yet released and have the fictitious demo committee approve it."""
    from senacs_workbench.core.errors import WorkspaceError
    from senacs_workbench.demo.governance import DEMO_CAF, DEMO_FEDERATION
    from senacs_workbench.released.bundle_contract import RELEASED, released_versions
    from senacs_workbench.restricted.publication.approval import approve
    from senacs_workbench.restricted.publication.publish import publish_year

    if not workspace.config.get("demo"):
        raise WorkspaceError(f"{workspace.root} n'est pas un espace de démonstration : rien n'est publié d'office.")
    for year in years:
        if released_versions(workspace.published / RELEASED, year):
            continue
        echo(publish_year(workspace, year).message_fr)
        approve(workspace, year, user=DEMO_CAF.user)
        echo(approve(workspace, year, user=DEMO_FEDERATION.user).message_fr)


def demo_campaign_command(workspace: Workspace, echo: Echo = print, workers: int = 2) -> int:
    """The campaign step of ``senacs demo`` (after the import): release the demo years, run
    ``parameters/demo.yaml`` and say where the outputs are."""
    release_demo_years(workspace, echo=echo)
    report = run_campaign(workspace, DEMO_CAMPAIGN, resume=True, workers=workers)
    echo(report.summary_fr())
    echo(f"Sorties de la démonstration : {workspace.reports} (ouvrez les fichiers index.html).")
    return report.exit_code


def lab_command_line(workspace: Workspace, port: int | None = None, echo: Echo = print) -> int:
    """``senacs lab [--port N]``."""
    echo("JupyterLab démarre sur 127.0.0.1 uniquement (accès local) ; l'adresse avec son jeton s'affiche "
         "ci-dessous. Arrêt : Ctrl-C.")
    return run_lab(workspace, port)
