"""The same small campaign on a Dask distributed LocalCluster (processes, 2 workers)."""

from __future__ import annotations

import json

import pytest
from campaign_support import NOTEBOOKS, TINY_OK, run_reviewed, write_campaign, write_notebook

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")


def test_dask_executor_runs_the_campaign_on_a_local_cluster(released_workspace, tmp_path) -> None:
    write_notebook(tmp_path / "nb", "ok", TINY_OK)
    for name in ("territorial_analysis", "trends"):
        (tmp_path / "nb" / f"{name}.ipynb").write_bytes((NOTEBOOKS / f"{name}.ipynb").read_bytes())
    path = write_campaign(tmp_path / "dask.yaml", {"name": "dask", "notebooks": str(tmp_path / "nb"), "runs": [
        {"notebook": "territorial_analysis", "territories": ["region:75"], "parameters": {"year": 2024}},
        {"notebook": "trends", "territories": ["FR"], "parameters": {"first_year": 2023, "last_year": 2024}},
        {"notebook": "ok", "parameters": {"x": 3}},
    ]})
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        report = run_reviewed(released_workspace, path, executor="dask", scheduler=cluster.scheduler_address,
                              progress=False)
    finally:
        cluster.close()
    assert report.ok, report.summary_fr()
    assert {o.status for o in report.outcomes} == {"done"}
    portrait = next(o for o in report.outcomes if o.notebook == "territorial_analysis")
    figures = json.loads((portrait.artefacts / "key_figures.json").read_text(encoding="utf-8"))
    assert figures["parameters"] == {"territory": "region:75", "year": 2024}
    assert (released_workspace.reports / "committee" / "dask" / "index.html").exists()
