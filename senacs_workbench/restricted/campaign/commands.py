"""What the ``senacs run`` and ``senacs lab`` commands call.

Each returns the process exit status and prints French messages through ``echo``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from senacs_workbench.core.workspace import Workspace
from senacs_workbench.restricted.campaign.lab import run_lab
from senacs_workbench.restricted.campaign.runner import run_campaign

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


def lab_command_line(workspace: Workspace, port: int | None = None, echo: Echo = print) -> int:
    """``senacs lab [--port N]``."""
    echo("JupyterLab démarre sur 127.0.0.1 uniquement (accès local) ; l'adresse avec son jeton s'affiche "
         "ci-dessous. Arrêt : Ctrl-C.")
    return run_lab(workspace, port, echo)
