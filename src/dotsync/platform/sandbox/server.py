"""Run the sandbox: in a background thread (tests, demos) or in the foreground (``dotsync sandbox``)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn

from dotsync.platform.sandbox.app import build_app
from dotsync.platform.sandbox.boot import Boot
from dotsync.platform.sandbox.storage import Store

log = logging.getLogger("dotsync.sandbox")


@dataclass
class SandboxHandle:
    """A sandbox running in a thread.

    Attributes:
        url: base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash).
        store: its database (for in-process inspection; prefer ``/sandbox/state``).
    """

    url: str
    store: Store
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server, wait for its thread and close the database."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self.store.close()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _config(
    store: Store, boot: Boot, host: str, port: int, log_level: str, control_token: str | None = None
) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(store, boot, control_token),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )


def run_in_thread(
    db_path: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    accounts: Iterable[tuple[str, str] | str] = (),
    faults: dict[str, Any] | None = None,
    control_token: str | None = None,
) -> SandboxHandle:
    """Start the sandbox in a daemon thread and wait until it accepts connections.

    Args:
        db_path: SQLite file (state survives restarts); None keeps state in memory.
        host: interface to bind (loopback by default).
        port: TCP port; 0 picks a free one.
        accounts: start-up accounts as ``(user, password)`` or ``"USER:PASSWORD"``.
        faults: start-up fault knobs (see :class:`dotsync.platform.sandbox.faults.Faults`).
        control_token: lets non-loopback clients use ``/sandbox/`` (header ``X-Sandbox-Token``).

    Returns:
        A handle with ``.url`` and ``.stop()``.
    """
    port = port or _free_port(host)
    store = Store(db_path)
    server = uvicorn.Server(_config(store, Boot.of(accounts, faults), host, port, "warning", control_token))
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve()), name="dotdigital-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            store.close()
            raise RuntimeError(f"the sandbox did not start on {host}:{port}; is the port free?")
        time.sleep(0.01)
    return SandboxHandle(url=f"http://{host}:{port}", store=store, _server=server, _thread=thread)


def serve(
    db_path: str | None,
    host: str = "127.0.0.1",
    port: int = 8899,
    accounts: Iterable[tuple[str, str] | str] = (),
    faults: dict[str, Any] | None = None,
    log_level: str = "info",
    control_token: str | None = None,
) -> None:
    """Run the sandbox in the foreground until interrupted (``dotsync sandbox``)."""
    store = Store(db_path)
    try:
        config = _config(store, Boot.of(accounts, faults), host, port, log_level, control_token)
        uvicorn.Server(config).run()
    finally:
        store.close()
