"""pytest fixtures for the dotdigital sandbox, running for real on loopback.

* ``sandbox_server`` (session): one sandbox in a thread, on a free port, with a temporary SQLite file.
* ``sandbox`` (function): that sandbox reset to empty, faults off; a :class:`SandboxControl`
  (``.url``, ``.create_account``, ``.state``, ``.suppress``, ``.set_faults``, ``.reset`` ...).
* ``sandbox_account`` (function): a fresh account on it, as ``(username, password)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dotsync.platform.sandbox.control import SandboxControl
from dotsync.platform.sandbox.server import SandboxHandle, run_in_thread

SANDBOX_USER = "apiuser-test@apiconnector.com"
SANDBOX_PASSWORD = "sandbox-password-1"


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """The sandbox in a background thread for the whole session."""
    db = Path(tmp_path_factory.mktemp("sandbox")) / "sandbox.sqlite3"
    handle = run_in_thread(db_path=str(db))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle) -> Iterator[SandboxControl]:
    """The session sandbox, emptied, with every fault knob at its default."""
    control = SandboxControl(sandbox_server.url)
    control.reset()
    control.set_faults(reset=True)
    try:
        yield control
    finally:
        control.close()


@pytest.fixture
def sandbox_account(sandbox: SandboxControl) -> tuple[str, str]:
    """A fresh sandbox account as ``(username, password)``."""
    sandbox.create_account(SANDBOX_USER, SANDBOX_PASSWORD)
    return SANDBOX_USER, SANDBOX_PASSWORD
