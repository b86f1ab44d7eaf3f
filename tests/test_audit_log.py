from __future__ import annotations

import itertools
import json
import multiprocessing
from pathlib import Path

import pytest

from senacs_workbench.core.errors import AuditLogError
from senacs_workbench.trust import audit_log


def _fill(path: Path, count: int = 5) -> None:
    for i in range(count):
        audit_log.append(path, user=f"user{i}", action="read_answers", territory="FR", details={"year": 2024})


def test_entries_are_chained_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(path)
    result = audit_log.verify(path)
    assert result.entries == 5
    entries = audit_log.entries(path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(entries))
    assert result.last_hash == entries[-1]["hash"]


@pytest.mark.parametrize("tamper", ["modify", "delete", "swap", "insert"])
def test_any_tampering_is_detected(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(path)
    lines = path.read_text().splitlines()
    if tamper == "modify":
        entry = json.loads(lines[2])
        entry["user"] = "someone-else"
        lines[2] = json.dumps(entry)
    elif tamper == "delete":
        del lines[1]
    elif tamper == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        forged = json.loads(lines[1])
        lines.insert(2, json.dumps(forged))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditLogError, match="ligne"):
        audit_log.verify(path)


def _append_many(path: str) -> None:
    for _ in range(20):
        audit_log.append(Path(path), user="p", action="read_answers", territory="FR")


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    procs = [multiprocessing.Process(target=_append_many, args=(str(path),)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert audit_log.verify(path).entries == 60
