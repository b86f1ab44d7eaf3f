"""Only reviewed code speaks to the committee (issue #17): pinned notebooks, the import rule at run
time, and a committee kernel that cannot open the restricted zone (Landlock)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from campaign_support import TINY_OK, new_workspace, run_reviewed, write_campaign, write_notebook

from senacs_workbench.core.errors import GovernanceError
from senacs_workbench.restricted.campaign import CampaignError, load_campaign, run_campaign
from senacs_workbench.restricted.campaign.confinement import landlock_abi
from senacs_workbench.restricted.campaign.reviewed_code import import_violations
from senacs_workbench.trust.demo_keys import adopt_demo_governance

needs_landlock = pytest.mark.skipif(landlock_abi() == 0, reason="Landlock is not available on this kernel")

# the store's path built at run time: no "restricted" string and no import for the static rule to see
PROBE_STORE = ("import json, pathlib\n"
               "zone = 'restr' + 'icted'\n"
               "store = pathlib.Path(published_dir).parent / zone / 'senacs.duckdb'\n"
               "try:\n"
               "    store.read_bytes()\n"
               "    outcome = 'lu'\n"
               "except PermissionError:\n"
               "    outcome = 'refusé'\n"
               "published = sorted(p.name for p in pathlib.Path(published_dir).iterdir())\n"
               "pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
               "(pathlib.Path(output_dir) / 'key_figures.json').write_text(json.dumps({'store': outcome,"
               " 'exists': store.exists(), 'published': published}))\n")


def _campaign(tmp_path: Path, notebooks: Path, name: str) -> Path:
    return write_campaign(tmp_path / f"{name}.yaml", {"name": name, "notebooks": str(notebooks),
                                                     "runs": [{"notebook": name}]})


def test_a_committee_notebook_from_outside_the_shipped_set_is_refused(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    notebooks = tmp_path / "elsewhere"
    write_notebook(notebooks, "lister", "import os\nprint(os.listdir(published_dir + '/..'))")
    with pytest.raises(CampaignError, match="n'est pas un carnet revu"):
        load_campaign(workspace, _campaign(tmp_path, notebooks, "lister"))
    write_notebook(notebooks, "centre_report", TINY_OK, audience="centre")  # a shipped name, other content
    path = write_campaign(tmp_path / "c.yaml", {"name": "c", "notebooks": str(notebooks),
                                                "runs": [{"notebook": "centre_report"}]})
    with pytest.raises(CampaignError, match="n'est pas un carnet revu"):
        load_campaign(workspace, path)
    assert not (workspace.reports / "committee" / "lister").exists()


def test_a_pinned_notebook_edited_after_review_is_refused(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "ok", TINY_OK)
    path = _campaign(tmp_path, notebooks, "ok")
    assert run_reviewed(workspace, path, progress=False, workers=1).ok
    write_notebook(notebooks, "ok", TINY_OK + "\nprint('modifié après la revue')")
    with pytest.raises(CampaignError, match="n'est pas un carnet revu"):
        run_campaign(workspace, path, progress=False, workers=1)


def test_the_import_rule_is_applied_when_a_committee_notebook_runs(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "store", "from senacs_workbench.restricted.store import RawDataStore\nprint(1)")
    write_notebook(notebooks, "path", "open(published_dir + '/../restricted/senacs.duckdb')")
    for name in ("store", "path"):
        with pytest.raises(CampaignError, match="un carnet du comité ne lit que les tableaux publiés"):
            run_reviewed(workspace, _campaign(tmp_path, notebooks, name), progress=False, workers=1)


def test_the_import_rule_sees_every_way_in() -> None:
    assert import_violations("import duckdb") and import_violations("import senacs_workbench.trust.access")
    assert import_violations("from senacs_workbench.disclosure import protect")
    assert import_violations("m = __import__('duck' + 'db')")
    assert import_violations("p = 'ws/restricted/senacs.duckdb'")
    assert import_violations("from senacs_workbench.released.published import PublishedReader") == []
    assert import_violations("%matplotlib inline\nimport pandas as pd") == []


@needs_landlock
@pytest.mark.parametrize("fresh", [False, True], ids=["warm kernel", "fresh kernel"])
def test_a_committee_kernel_cannot_open_the_store(tmp_path: Path, fresh: bool) -> None:
    workspace = new_workspace(tmp_path / "ws")
    workspace.store_path.write_bytes(b"raw answers")
    notebooks = tmp_path / "nb"
    write_notebook(notebooks, "probe", PROBE_STORE, parameters='published_dir = "."\noutput_dir = "."')
    write_notebook(notebooks, "probe_restricted", PROBE_STORE, audience="restricted",
                   parameters='published_dir = "."\noutput_dir = "."')
    path = write_campaign(tmp_path / "probe.yaml", {"name": "probe", "notebooks": str(notebooks), "runs": [
        {"notebook": "probe"}, {"notebook": "probe_restricted"}]})
    report = run_reviewed(workspace, path, progress=False, workers=1, fresh_kernels=fresh)
    assert report.ok, report.summary_fr()
    figures = {o.run_id: json.loads((o.artefacts / "key_figures.json").read_text()) for o in report.outcomes}
    assert figures["probe"]["store"] == "refusé"  # the committee's kernel: confined
    assert figures["probe"]["published"] == sorted(p.name for p in workspace.published.iterdir())  # reads published
    assert figures["probe_restricted"]["store"] == "lu"  # control: the preparer's own analyses read the store


def test_the_governance_pins_reviewed_notebooks_with_the_committee(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    notebook = write_notebook(tmp_path / "nb", "ok", TINY_OK)
    raw = yaml.safe_load(workspace.governance_path.read_text(encoding="utf-8"))
    raw["reviewed_notebooks"] = [{"path": str(notebook), "sha256": hashlib.sha256(notebook.read_bytes()).hexdigest()}]
    workspace.governance_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(GovernanceError, match="modifié depuis la version 1"):  # not adopted yet: refused
        load_campaign(workspace, _campaign(tmp_path, tmp_path / "nb", "ok"))
    adopt_demo_governance(workspace)
    assert load_campaign(workspace, _campaign(tmp_path, tmp_path / "nb", "ok")).runs
