"""Who is acting: the operating-system account, mapped to a person of the governance file.

The acting user is the login of the process's real user id (``pwd``), never an environment
variable: ``getpass.getuser()`` reads ``LOGNAME``/``USER`` first, which anyone can set. The
login is mapped to a person by the governance file (a person's ``account``, else their
``user`` identifier). ``SENACS_USER`` is honoured only in a workspace whose governance is
marked ``demo: true`` (the demo, the tests), where fictitious people take turns on one account.
The real separation of persons is the operating system's: see docs/governance.md (deployment).
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from senacs_workbench.core.errors import GovernanceError
from senacs_workbench.core.governance import load_governance_text

USER_ENV_VAR = "SENACS_USER"


def os_account() -> str:
    """The login of the process's real user id."""
    return pwd.getpwuid(os.getuid()).pw_name


def acting_user(governance_path: Path | None = None) -> str:
    """The person acting: ``SENACS_USER`` in a demo workspace, else the person mapped to the OS account.

    Without a governance file (or outside a workspace) the OS account itself.
    """
    account = os_account()
    if governance_path is None or not governance_path.exists():
        return account
    try:
        governance = load_governance_text(governance_path)
    except GovernanceError:
        return account
    declared = os.environ.get(USER_ENV_VAR)
    if governance.demo and declared:
        return declared
    return governance.person_of_account(account) or account
