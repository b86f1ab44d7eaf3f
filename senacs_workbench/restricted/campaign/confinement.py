"""Committee kernels cannot read the restricted zone: Linux Landlock on the kernel process.

A notebook rendered for the committee reads released bundles only. The import rule
(:mod:`.reviewed_code`) says so for the code; this module makes it true for the process: the
kernel of a committee run starts through ``python -m senacs_workbench.restricted.campaign.confinement
--deny <workspace>/restricted -- <kernel command>``, which restricts itself with Landlock and
then executes the kernel. Landlock is an unprivileged Linux security module (kernel 5.13 or
later): the restriction holds for the process and everything it starts, and cannot be lifted.

Landlock grants rather than denies: the ruleset handles the two read rights (``READ_FILE``,
``READ_DIR``) and allows them beneath every path except the denied folders — each entry of
every ancestor of a denied folder except the one leading to it, and each entry of the
workspace beside ``restricted/``; a symbolic link is followed to what it points to, and left out
when that is a denied folder, inside one, or above one (``/tmp/pytest-current`` → the test's
workspace). Writes are not handled (a committee run writes its report
where papermill says). Entries created after the kernel started directly in an ancestor of a
denied folder (``/tmp/new`` for a workspace under ``/tmp``) are not readable by the kernel.

Platforms: on Linux without Landlock (older kernels, or disabled) and on other systems the
kernel runs unconfined and the run records it (:func:`landlock_abi` is 0); the deployment page
(docs/governance.md) says what protects ``restricted/`` there: the operating-system account.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from senacs_workbench.core.errors import SenacsError

SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
READ_FILE = 1 << 2
READ_DIR = 1 << 3
HANDLED = READ_FILE | READ_DIR


class ConfinementError(SenacsError):
    """Landlock refused a step (the kernel must then not start)."""

    def __init__(self, errno: int, step: str) -> None:
        super().__init__(f"Confinement du noyau impossible ({step} : {os.strerror(errno)}) : le carnet n'est pas "
                         "exécuté.", step=step)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is not available."""
    if not sys.platform.startswith("linux"):
        return 0
    version = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(version), 0)


def allowed_paths(deny: Sequence[Path]) -> list[Path]:
    """Every path beneath which reading stays allowed: the whole tree except the ``deny`` folders."""
    denied = {Path(os.path.realpath(d)) for d in deny}
    on_the_way = {a for d in denied for a in (d, *d.parents)}
    allowed: list[Path] = []
    pending = [Path("/")]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                # a rule is taken on what a link points to: never a link into (or above) a denied folder
                path = Path(os.path.realpath(path))
                if path in on_the_way or any(path.is_relative_to(d) for d in denied):
                    continue
                allowed.append(path)
            elif path in denied:
                continue
            elif path in on_the_way and entry.is_dir(follow_symlinks=False):
                pending.append(path)
            else:
                allowed.append(path)
    return allowed


def restrict_reads(deny: Sequence[Path]) -> None:
    """Forbid this process (and what it starts) to read beneath ``deny``; raise if Landlock cannot."""
    libc = _libc()
    attr = _RulesetAttr(HANDLED)
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        raise ConfinementError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path in allowed_paths(deny):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rights = HANDLED if os.path.isdir(path) else READ_FILE
                rule = _PathBeneathAttr(rights, fd)
                if libc.syscall(SYS_ADD_RULE, ruleset, ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                                ctypes.c_uint32(0)) < 0:
                    raise ConfinementError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfinementError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise ConfinementError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def confined_command(deny: Sequence[Path], command: Sequence[str]) -> list[str]:
    """``command`` started through this module, confined away from ``deny``."""
    flags = [part for folder in deny for part in ("--deny", str(folder))]
    return [sys.executable, "-m", __name__, *flags, "--", *command]


def confined_kernel_manager(deny: Sequence[Path]) -> type:
    """A jupyter ``AsyncKernelManager`` class whose kernels cannot read beneath ``deny``."""
    from jupyter_client.manager import AsyncKernelManager

    folders = tuple(Path(d) for d in deny)

    class ConfinedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return confined_command(folders, super().format_kernel_cmd(extra_arguments))

    return ConfinedKernelManager


def main(argv: Sequence[str]) -> None:
    """``--deny FOLDER`` (repeated) ``-- COMMAND...``: restrict, then execute the command."""
    args = list(argv)
    split = args.index("--")
    deny = [Path(args[i + 1]) for i in range(0, split, 2) if args[i] == "--deny"]
    command = args[split + 1:]
    if landlock_abi() == 0:
        sys.stderr.write("senacs: Landlock indisponible, noyau non confiné.\n")
    else:
        restrict_reads(deny)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
