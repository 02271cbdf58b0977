"""pytest fixtures for the dotdigital sandbox, running for real on loopback.

* ``sandbox_server`` (session): one sandbox in a thread, on a free port, with a temporary SQLite file.
* ``sandbox`` (function): that sandbox reset to empty, faults off; a :class:`SandboxControl`
  (``.url``, ``.create_account``, ``.state``, ``.suppress``, ``.set_faults``, ``.reset`` ...).
* ``sandbox_account`` (function): a fresh account on it, as ``(username, password)``.
* ``conformance`` (session): the spec checker (:mod:`dotsync.testing.conformance`); its report is printed
  at the end of the run.
* ``sandbox_client`` (function): an ``httpx.Client`` logged in as ``sandbox_account`` whose every request
  and response is validated against the published specs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dotsync.platform.sandbox.control import SandboxControl
from dotsync.platform.sandbox.server import SandboxHandle, run_in_thread
from dotsync.testing.conformance import Conformance, default_checker

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


@pytest.fixture(scope="session")
def conformance() -> Conformance:
    """One spec checker for the session; its summary is printed at the end of the run."""
    checker = default_checker()
    _CHECKERS.append(checker)
    return checker


@pytest.fixture
def sandbox_client(
    sandbox: SandboxControl, sandbox_account: tuple[str, str], conformance: Conformance
) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the sandbox as ``sandbox_account``; every call is checked against the specs."""
    with httpx.Client(
        base_url=sandbox.url, auth=sandbox_account, timeout=10, event_hooks=conformance.event_hooks()
    ) as client:
        yield client


_CHECKERS: list[Conformance] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the conformance checker saw (operations exercised, tolerated findings)."""
    for checker in _CHECKERS:
        terminalreporter.write_sep("-", "dotdigital spec conformance")
        terminalreporter.write_line(checker.report())


@pytest.fixture
def sandbox_raw_client(
    sandbox: SandboxControl, sandbox_account: tuple[str, str], conformance: Conformance
) -> Iterator[httpx.Client]:
    """Like ``sandbox_client``, but only responses are checked: for sending invalid requests on purpose."""
    hooks = {"response": conformance.event_hooks()["response"]}
    with httpx.Client(base_url=sandbox.url, auth=sandbox_account, timeout=10, event_hooks=hooks) as client:
        yield client
