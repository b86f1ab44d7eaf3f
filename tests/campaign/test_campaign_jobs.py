"""What crosses the worker pool: frozen dataclasses that pickle, and statuses whose values are
the strings the campaign's state file and the notebooks' metadata have always held."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from senacs_workbench.restricted.campaign.execute import RunJob, RunMetadata, RunResult, RunStatus


def _job(tmp_path: Path) -> RunJob:
    metadata = RunMetadata("committee", "committee", "petite", "ok", {"year": 2025}, "abc", "2026-01-01T00:00:00+00:00")
    return RunJob("ok", tmp_path / "ok.ipynb", tmp_path / "out.ipynb", tmp_path / "failed.ipynb",
                  tmp_path / "ok.html", tmp_path / "artefacts", {"year": 2025, "output_dir": str(tmp_path)}, 30,
                  "Titre", metadata)


def test_jobs_and_results_are_frozen_and_pickle(tmp_path: Path):
    job = _job(tmp_path)
    result = RunResult("ok", RunStatus.DONE, "", tmp_path / "ok.html", tmp_path / "out.ipynb", 1.5)
    for value in (job, result):
        assert pickle.loads(pickle.dumps(value)) == value
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.run_id = "other"  # type: ignore[misc]


def test_status_values_are_the_state_file_strings():
    assert {s.value for s in RunStatus} == {"pending", "done", "failed", "timed_out", "run_timed_out", "kernel_died",
                                            "skipped"}
    assert json.dumps({"status": RunStatus.KERNEL_DIED}) == '{"status": "kernel_died"}'


def test_notebook_metadata_keeps_its_keys_and_a_plain_status(tmp_path: Path):
    recorded = _job(tmp_path).metadata.as_json(RunStatus.TIMED_OUT)
    assert list(recorded) == ["audience", "declared_audience", "campaign", "run_id", "parameters", "fingerprint",
                              "executed_at", "status"]
    assert type(recorded["status"]) is str and recorded["status"] == "timed_out"
    assert json.loads(json.dumps(recorded)) == recorded
