"""The workspace lock: one writer at a time among campaigns, publications, backups and erasures.

A campaign reads the released bundles while a publication may replace them; a backup must see a
workspace nobody writes; an erasure rewrites the store. They all take this one lock, an
exclusive ``fcntl.flock`` on ``<workspace>/.workspace.lock`` (released by the kernel when the
process ends, even when it is killed: no stale lock to clean by hand). The holder writes who it
is into the file (operation, user, process, host, since), so that a second writer is told in
French who holds the workspace. A second writer waits up to its ``timeout`` (default
``$SENACS_WORKSPACE_LOCK_TIMEOUT`` seconds, else :data:`DEFAULT_TIMEOUT`), then gives up with
:class:`WorkspaceBusy`.

The lock is not re-entrant: ``flock`` locks of two descriptors block each other even in one
process, so a process asking again for a lock it holds is refused at once instead of waiting for
itself.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import pwd
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from senacs_workbench.core.errors import SenacsError

LOCK_FILE = ".workspace.lock"
TIMEOUT_ENV = "SENACS_WORKSPACE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
"""Seconds a second writer waits by default before giving up."""
POLL_SECONDS = 0.1


class WorkspaceBusy(SenacsError):
    """Another process holds the workspace lock (the message names it)."""


_HELD: dict[Path, tuple[IO[str], str]] = {}
_GUARD = threading.Lock()


def lock_path(root: Path) -> Path:
    return root / LOCK_FILE


def _holder_record(operation: str) -> str:
    return json.dumps({
        "operation": operation,
        "user": pwd.getpwuid(os.getuid()).pw_name,  # the OS account (docs/governance.md: who is acting)
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }, ensure_ascii=False)


def describe_holder(root: Path) -> str:
    """Who holds the lock of the workspace at ``root``, in French."""
    try:
        record = json.loads(lock_path(root).read_text(encoding="utf-8") or "{}")
    except (OSError, json.JSONDecodeError):
        return "un autre processus"
    if not isinstance(record, dict) or "operation" not in record:
        return "un autre processus"
    return (f"{record.get('operation')} (utilisateur {record.get('user', '?')}, processus {record.get('pid', '?')} "
            f"sur {record.get('host', '?')}, depuis {record.get('since', '?')})")


def holding(root: Path) -> str | None:
    """The operation this process holds the lock of ``root`` for, or None."""
    with _GUARD:
        held = _HELD.get(root.resolve())
    return None if held is None else held[1]


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return max(0.0, timeout)
    try:
        return max(0.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def _acquire(path: Path, operation: str, wait: float) -> IO[str]:
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open while the lock is held)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise WorkspaceBusy(
                    f"L'espace de travail {path.parent} est occupé : {describe_holder(path.parent)} est en cours. "
                    f"Attendez la fin de cette opération avant {operation} (attente maximale de "
                    f"{wait:g} s dépassée ; variable {TIMEOUT_ENV}).",
                    holder=describe_holder(path.parent), operation=operation,
                ) from None
            time.sleep(POLL_SECONDS)
    handle.seek(0)
    handle.truncate()
    handle.write(_holder_record(operation))
    handle.flush()
    os.fsync(handle.fileno())
    return handle


@contextmanager
def workspace_lock(root: Path, operation: str, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the lock of the workspace at ``root`` for ``operation`` (French, e.g. « la publication
    de la campagne 2025 »); wait up to ``timeout`` seconds for another holder, then raise
    :class:`WorkspaceBusy` naming it. Not re-entrant: a process that already holds the lock is
    refused at once (it would wait for itself)."""
    key = root.resolve()
    with _GUARD:
        held = key in _HELD
    handle = _acquire(lock_path(key), operation, 0.0 if held else _timeout(timeout))
    with _GUARD:
        _HELD[key] = (handle, operation)
    try:
        yield lock_path(key)
    finally:
        with _GUARD:
            _HELD.pop(key, None)
        handle.seek(0)
        handle.truncate()  # no stale description of a finished operation
        handle.close()  # closing the descriptor releases the flock


__all__ = ["DEFAULT_TIMEOUT", "LOCK_FILE", "TIMEOUT_ENV", "WorkspaceBusy", "describe_holder", "holding",
           "lock_path", "workspace_lock"]
