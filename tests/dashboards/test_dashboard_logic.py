"""The dashboards' logic and ``senacs serve``'s hardening, without a browser (fast)."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import openpyxl
import plotly.graph_objects as go
import pytest
from released_bundles import SENTINEL_PATTERN

from senacs_workbench.released.dashboard import app, charts
from senacs_workbench.released.dashboard.data import DashboardError, comparison_set, load_catalog, published_dir_from_env
from senacs_workbench.released.dashboard.downloads import csv_bytes, xlsx_bytes
from senacs_workbench.released.dashboard.table import shown_table
from senacs_workbench.apps.serve import (
    FILE_ALLOWLIST,
    FILE_DENYLIST,
    PUBLISHED_ENV,
    ServeError,
    check_published_dir,
    serve,
    serve_blocking,
    voila_command,
    voila_config,
    voila_environment,
)
from senacs_workbench.core.workspace import Workspace


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "display", lambda *args, **kwargs: None)


def test_overview_in_process(released_workspace: Workspace, no_display: None) -> None:
    overview = app.Overview(load_catalog(released_workspace.published))
    selectors = overview.selectors
    selectors.level.value = "departement"
    selectors.territory.value = ("departement", "40")
    selectors.question.value = "budget_total"
    selectors.breakdown.value = "type_structure"
    assert overview.status.value == ""
    assert "Landes (40)" in overview.cards.value and "taux de réponse" in overview.cards.value
    assert overview.stamp.count >= 3
    html = overview.table.value + overview.cards.value + overview.downloads.value
    assert ">s<" in overview.table.value
    assert not SENTINEL_PATTERN.search(html)


def test_figures_are_plain_figures_with_n_and_response_rate(released_workspace: Workspace) -> None:
    catalog = load_catalog(released_workspace.published)
    keys = comparison_set(("departement", "33"))
    assert keys == [("departement", "33"), ("region", "75"), ("national", "FR")]
    for variable in ("budget_total", "statut_locaux", "outils_communication"):
        cells = catalog.cells(2024, variable, keys)
        question = catalog.question(variable, 2024)
        breakdown = catalog.codebook(2024).question("type_structure")
        for figure in (charts.comparison_figure(cells, question, keys, 2024),
                       charts.breakdown_figure(cells, question, keys[0], "type_structure", breakdown, 2024)):
            assert type(figure) is go.Figure
            ticks = " ".join(str(x) for trace in figure.data for x in trace.x)
            assert "n\u00a0=" in ticks and "taux de réponse" in ticks


def test_table_and_downloads_in_french_with_s(released_workspace: Workspace) -> None:
    catalog = load_catalog(released_workspace.published)
    keys = comparison_set(("departement", "40"))
    table = shown_table(catalog, 2024, "budget_total", keys, "type_structure")
    assert list(table["Code"].drop_duplicates()) == ["40", "75", "FR"]
    assert set(table["Ventilation"]) == {"Ensemble", "Type de structure"}
    evs = table[(table.Code == "40") & (table["Modalité"] == "Espace de vie sociale")]
    assert evs["Total"].tolist() == ["s"] and evs["Moyenne"].tolist() == ["s"]
    text = csv_bytes(table, "Budget total").decode("utf-8")
    assert text.startswith("\ufeff") and ";" in text
    assert re.search(r"\d,\d", text), "decimal comma"
    assert "Taux de réponse (%)" in text and ";s;" in text
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table, "Budget total"))).active
    assert sheet["A1"].value == "Budget total"
    assert any(cell.value == "s" for row in sheet.iter_rows() for cell in row)


def test_published_dir_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch, no_display: None) -> None:
    monkeypatch.delenv(PUBLISHED_ENV, raising=False)
    with pytest.raises(DashboardError, match="senacs serve"):
        published_dir_from_env()
    shown = app.tableau_de_bord()
    assert "senacs serve" in shown.value and "Traceback" not in shown.value


def test_voila_configuration_is_hardened(tmp_path: Path) -> None:
    config = voila_config(tmp_path, pool_size=2)
    settings = config["VoilaConfiguration"]
    assert settings["strip_sources"] is True and settings["show_tracebacks"] is False
    assert settings["allow_template_override"] == "NO" and settings["allow_theme_override"] == "NO"
    assert config["VoilaExecutor"]["timeout"] > 0
    assert config["MappingKernelManager"]["cull_idle_timeout"] > 0
    headers = config["Voila"]["tornado_settings"]["headers"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for path in ("tableau_de_bord.ipynb", "voila.json", "../voila.json", "senacs_2024.parquet", "restricted/x.csv",
                 "notebook/tableau_de_bord.ipynb", "a.png"):
        allowed = any(re.fullmatch(p, path, re.IGNORECASE) for p in FILE_ALLOWLIST)
        denied = any(re.fullmatch(p, path, re.IGNORECASE) for p in FILE_DENYLIST)
        assert not allowed or denied, path


def test_voila_runs_one_notebook_with_preheated_kernels(tmp_path: Path) -> None:
    notebook = tmp_path / "tableau_de_bord.ipynb"
    command = voila_command(notebook, port=9000, host="127.0.0.1", token="t0k", preheat=True, pool_size=2)
    assert command[1:4] == ["-m", "senacs_workbench.apps.voila_process", str(notebook)]
    assert "--preheat_kernel=True" in command and "--pool_size=2" in command and "--token=t0k" in command
    assert not any(arg.startswith("--Voila.root_dir") for arg in command)
    env = voila_environment(tmp_path / "published", tmp_path / "runtime",
                            {"PATH": "/usr/bin", "SENACS_WORKSPACE": "/secret/ws", "AWS_SECRET": "x"})
    assert env[PUBLISHED_ENV] == str(tmp_path / "published")
    assert "SENACS_WORKSPACE" not in env and "AWS_SECRET" not in env
    assert env["IPYTHONDIR"].startswith(str(tmp_path / "runtime"))


def test_serve_refuses_a_workspace_an_empty_folder_and_a_busy_port(released_workspace: Workspace,
                                                                  tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="espace de travail"):
        check_published_dir(released_workspace.root)
    with pytest.raises(ServeError, match="Aucun jeu de tableaux validé"):
        check_published_dir(tmp_path)
    with pytest.raises(ServeError, match="n'existe pas"):
        check_published_dir(tmp_path / "absent")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match="déjà utilisé"):
            serve(released_workspace.published, port=port)


def test_serve_blocking_prints_urls_in_french_and_stops_on_ctrl_c(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    from senacs_workbench.apps import serve as serve_module

    class FakeServer:
        published_dir = tmp_path
        stopped = False

        def __init__(self) -> None:
            self.dashboards = [serve_module.Dashboard("tableau_de_bord", "Tableau de bord", tmp_path / "x.ipynb",
                                                      8866, "127.0.0.1")]

        def wait_ready(self, timeout: float) -> None:
            pass

        def check_alive(self) -> None:
            raise KeyboardInterrupt

        def stop(self) -> None:
            FakeServer.stopped = True

    monkeypatch.setattr(serve_module, "serve", lambda *args, **kwargs: FakeServer())
    lines: list[str] = []
    serve_blocking(tmp_path, echo=lines.append)
    assert FakeServer.stopped
    assert "  Tableau de bord : http://127.0.0.1:8866/" in lines
    assert any("Ctrl+C" in line for line in lines) and lines[-1] == "Tableaux de bord arrêtés."


def test_an_altered_bundle_is_refused_without_naming_server_files(released_workspace: Workspace, tmp_path: Path,
                                                                  no_display: None) -> None:
    import shutil

    published = tmp_path / "published"
    shutil.copytree(released_workspace.published, published)
    table = next(published.rglob("senacs_2024.parquet"))
    table.write_bytes(table.read_bytes() + b"x")
    shown = app.tableau_de_bord(published)
    assert "modifié depuis sa validation" in shown.value
    assert str(tmp_path) not in shown.value
