"""One fingerprint of the package for every ``--resume`` (issue 19): a codebook label, a
template or a number format changes what a run produces as much as the analysis code does."""

from __future__ import annotations

import shutil
from pathlib import Path

from senacs_workbench.core import fingerprint
from senacs_workbench.restricted.campaign import plaquettes


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "senacs_workbench"
    shutil.copytree(fingerprint.PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_a_changed_codebook_label_or_template_changes_the_fingerprint(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = fingerprint.fingerprint_files(root)
    core = root / "data" / "codebook" / "core.yaml"
    core.write_text(core.read_text(encoding="utf-8").replace("Bénévoles d'activité", "Bénévoles actifs", 1),
                    encoding="utf-8")
    after_label = fingerprint.fingerprint_files(root)
    assert after_label != before
    template = next(p for p in (root / "templates").rglob("*") if p.is_file())
    template.write_bytes(template.read_bytes() + b" ")
    assert fingerprint.fingerprint_files(root) not in (before, after_label)


def test_caches_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = fingerprint.fingerprint_files(root)
    (root / "core" / "__pycache__").mkdir(exist_ok=True)
    (root / "core" / "__pycache__" / "codebook.cpython-311.pyc").write_bytes(b"cache")
    assert fingerprint.fingerprint_files(root) == before


def test_campaign_runs_and_plaquettes_resume_on_the_package_fingerprint(monkeypatch) -> None:
    monkeypatch.setattr(plaquettes, "package_fingerprint", lambda: "a")
    first = plaquettes.code_hash()
    monkeypatch.setattr(plaquettes, "package_fingerprint", lambda: "b")
    assert plaquettes.code_hash() != first
    from senacs_workbench.restricted.campaign import runner

    assert runner.package_fingerprint is fingerprint.package_fingerprint
