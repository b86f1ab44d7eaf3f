"""Failures of every kind, resume, the lock, audiences and validation — on tiny notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from campaign_support import TINY_OK, new_workspace, run_reviewed, write_campaign, write_notebook

from senacs_workbench.restricted.campaign import CampaignError, CampaignLocked, campaign_lock

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny(tmp_path: Path):
    workspace = new_workspace(tmp_path / "ws")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "ok", TINY_OK)
    write_notebook(notebooks, "fail", "raise ValueError('panne volontaire')")
    write_notebook(notebooks, "slow", "import time\ntime.sleep(60)")
    write_notebook(notebooks, "dead", "import os\nos._exit(1)")
    write_notebook(notebooks, "secret", TINY_OK, audience="restricted")
    return workspace, notebooks, tmp_path


def _campaign(tmp_path: Path, notebooks: Path, runs: list[dict], name: str = "petite") -> Path:
    return write_campaign(tmp_path / f"{name}.yaml", {"name": name, "notebooks": str(notebooks), "runs": runs})


def test_failed_timed_out_and_dead_kernel_are_reported_and_kept(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    path = _campaign(tmp_path, notebooks, [
        {"notebook": "ok", "parameters": {"x": [1, 2]}},
        {"notebook": "fail"},
        {"notebook": "slow", "timeout": 2},
        {"notebook": "dead"},
        {"notebook": "secret"},
    ])
    report = run_reviewed(workspace, path, progress=False)
    statuses = {o.run_id: o.status for o in report.outcomes}
    assert statuses == {"ok__1": "done", "ok__2": "done", "fail": "failed", "slow": "timed_out",
                        "dead": "kernel_died", "secret": "done"}
    assert report.exit_code == 1 and not report.ok
    for outcome in report.outcomes:
        if outcome.status in ("failed", "timed_out", "kernel_died"):
            assert outcome.notebook_output is not None and outcome.notebook_output.parent.name == "failed"
            kept = nbformat.read(outcome.notebook_output, as_version=4)
            assert kept.metadata["senacs"]["status"] == outcome.status
            assert outcome.html is None
    assert "ValueError: panne volontaire" in next(o for o in report.outcomes if o.run_id == "fail").message
    summary = report.summary_fr()
    assert "DÉLAI DÉPASSÉ slow" in summary and "NOYAU ARRÊTÉ dead" in summary and "ÉCHEC fail" in summary
    secret = next(o for o in report.outcomes if o.run_id == "secret")
    assert secret.html.relative_to(workspace.reports).parts[0] == "restricted"
    assert nbformat.read(secret.notebook_output, as_version=4).metadata["senacs"]["audience"] == "restricted"
    assert json.loads((secret.artefacts / "key_figures.json").read_text()) == {"x": 1}
    index = (workspace.reports / "committee" / "petite" / "index.html").read_text(encoding="utf-8")
    assert "délai dépassé" in index and 'href="ok__1.html"' in index


def test_resume_skips_unchanged_runs_and_reruns_a_changed_one(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    write_notebook(notebooks, "other", TINY_OK)
    path = _campaign(tmp_path, notebooks, [{"notebook": "ok"}, {"notebook": "other"}])
    first = run_reviewed(workspace, path, progress=False)
    assert first.ok and {o.status for o in first.outcomes} == {"done"}
    second = run_reviewed(workspace, path, resume=True, progress=False)
    assert {o.status for o in second.outcomes} == {"skipped"}
    write_notebook(notebooks, "other", TINY_OK + "\nprint('changé')")
    third = run_reviewed(workspace, path, resume=True, progress=False)
    assert {o.run_id: o.status for o in third.outcomes} == {"ok": "skipped", "other": "done"}


def test_lock_refuses_a_concurrent_campaign(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    path = _campaign(tmp_path, notebooks, [{"notebook": "ok"}])
    with (campaign_lock(workspace, "autre"),
          pytest.raises(CampaignLocked, match=r"la campagne « autre » .* est en cours")):
        run_reviewed(workspace, path, progress=False)
    assert not (workspace.reports / "committee").exists()


@pytest.mark.parametrize(("runs", "message"), [
    ([{"notebook": "ok", "parameters": {"x; import os": 1}}], "nom de paramètre refusé"),
    ([{"notebook": "ok", "parameters": {"y": 1}}], "ne déclare pas de paramètre « y »"),
    ([{"notebook": "ok", "parameters": {"x": "un"}}], "type int"),
    ([{"notebook": "ok", "parameters": {"output_dir": "/tmp"}}], "fourni par la campagne"),
    ([{"notebook": "ok", "parameters": {"class": 1}}], "nom de paramètre refusé"),
    ([{"notebook": "absent"}], "carnet introuvable"),
    ([{"notebook": "secret", "audience": "committee"}], "ne peut pas être diffusé au public « committee »"),
])
def test_invalid_campaigns_are_refused_before_any_run(tiny, runs, message) -> None:
    workspace, notebooks, tmp_path = tiny
    path = _campaign(tmp_path, notebooks, [{"notebook": "ok"}, *runs])
    with pytest.raises(CampaignError, match=message):
        run_reviewed(workspace, path, progress=False)
    assert not list(workspace.reports.rglob("*.html"))


def test_territories_themes_and_years_are_checked_against_the_references(released_workspace, tmp_path) -> None:
    from campaign_support import NOTEBOOKS

    path = write_campaign(tmp_path / "c.yaml", {"notebooks": str(NOTEBOOKS), "runs": [
        {"notebook": "territorial_analysis", "territories": ["departement:99", "epci:200000172"],
         "parameters": {"year": 2024}},
        {"notebook": "thematic_analysis", "territories": ["FR"], "parameters": {"theme": "astrologie",
                                                                               "year": 2024}},
        {"notebook": "territorial_analysis", "territories": ["FR"], "parameters": {"year": 2021}},
        {"notebook": "centre_report", "parameters": {"structure_id": "../../etc", "year": 2024}},
        {"notebook": "trends", "territories": ["FR"], "parameters": {"first_year": 2024, "last_year": 2023}},
    ]})
    with pytest.raises(CampaignError) as error:
        run_reviewed(released_workspace, path, progress=False)
    text = str(error.value)
    for expected in ("Territoire inconnu", "infra-départementales", "thème inconnu", "year = 2021",
                     "identifiant de structure invalide", "first_year = 2024 est après"):
        assert expected in text, expected


def test_a_reused_kernel_starts_every_run_with_an_empty_namespace(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    write_notebook(notebooks, "a_leak", "valeur_privee = 42")
    write_notebook(notebooks, "b_probe", TINY_OK.replace("{'x': x}", "{'x': x, 'leak': 'valeur_privee' in globals()}"))
    path = _campaign(tmp_path, notebooks, [{"notebook": "a_leak"}, {"notebook": "b_probe"}])
    report = run_reviewed(workspace, path, workers=1, progress=False)
    assert report.ok
    probe = next(o for o in report.outcomes if o.notebook == "b_probe")
    assert json.loads((probe.artefacts / "key_figures.json").read_text()) == {"x": 1, "leak": False}


@pytest.mark.parametrize("fresh", [False, True], ids=["warm", "fresh"])
def test_a_run_longer_than_its_max_duration_is_stopped_with_its_own_status(tiny, fresh: bool) -> None:
    """papermill bounds each cell only: a notebook whose one cell sleeps well under the cell
    timeout is still stopped at the run's wall-clock limit, recorded as such, and the worker's
    next run works (its kernel replaced)."""
    workspace, notebooks, tmp_path = tiny
    path = _campaign(tmp_path, notebooks, [
        {"notebook": "slow", "timeout": 600, "max_duration": 3},
        {"notebook": "ok"},
    ])
    report = run_reviewed(workspace, path, progress=False, workers=1, fresh_kernels=fresh)
    statuses = {o.run_id: o.status for o in report.outcomes}
    assert statuses == {"slow": "run_timed_out", "ok": "done"}
    slow = next(o for o in report.outcomes if o.run_id == "slow")
    assert "durée maximale de 3 s" in slow.message
    kept = nbformat.read(slow.notebook_output, as_version=4)
    assert kept.metadata["senacs"]["status"] == "run_timed_out"
    assert "durée maximale dépassée" in kept.cells[0].source
    assert "DURÉE MAXIMALE DÉPASSÉE slow" in report.summary_fr() and report.exit_code == 1
    state = json.loads((workspace.reports / ".campaigns" / "petite.json").read_text(encoding="utf-8"))
    assert state["slow"]["status"] == "run_timed_out"


def test_max_duration_must_be_a_number_of_seconds(tiny) -> None:
    workspace, notebooks, tmp_path = tiny
    path = _campaign(tmp_path, notebooks, [{"notebook": "ok", "max_duration": "une heure"}])
    with pytest.raises(CampaignError, match="max_duration = 'une heure' : un nombre de secondes est attendu"):
        run_reviewed(workspace, path, progress=False)
