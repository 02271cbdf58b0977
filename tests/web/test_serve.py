"""``dotsync serve`` as a real process: /healthz, /metrics and the admin login over HTTP, then SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dotsync.cli.serve import listener

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = """
import django
django.setup()
from django.apps import apps
from django.db import connection
with connection.schema_editor() as editor:
    for model in apps.get_models():
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            editor.create_model(model)
from django.contrib.sites.models import Site
Site.objects.get_or_create(pk=1, defaults={"domain": "example.com", "name": "example.com"})
"""
"""Every table, created from the models (Oscar's ~150 migrations take tens of seconds here), and the Site."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling the port, not waiting for behaviour
    raise AssertionError(f"dotsync serve did not listen on {port} in time")


@contextlib.contextmanager
def _serve(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], int, dict[str, str]]]:
    """``dotsync serve`` on a free port over an empty SQLite file: (process, port, its environment).

    The process is killed on the way out if the test left it running.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DOTSYNC_METRICS_TOKEN"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}", DOTSYNC_VAR_DIR=str(tmp_path / "var"))
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dotsync", "serve", "--port", str(port), "--log-level", "info", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, port, env
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _sigterm(proc: subprocess.Popen[str], timeout: float) -> str:
    """Stop ``proc`` with SIGTERM; returns its stderr.

    uvicorn shuts down gracefully, then re-raises the signal it caught: the exit status may say SIGTERM.
    """
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=timeout) in (0, -signal.SIGTERM)
    return proc.communicate(timeout=5)[1]


def test_serve_answers_healthz_metrics_and_the_admin_then_stops_on_sigterm(tmp_path: Path) -> None:
    with _serve(tmp_path) as (proc, port, env):
        _wait_for_port(port, proc, time.monotonic() + 30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            # an empty database answers (healthy) but has no tables: the scrape says so and still answers
            assert http.get("/healthz").status_code == 200
            empty = http.get("/metrics")
            assert empty.status_code == 200 and "dotsync_database_up 0.0" in empty.text
            assert "dotsync_rows" not in empty.text
            subprocess.run([sys.executable, "-c", SCHEMA], cwd=ROOT, env=env, check=True, timeout=60)
            health = http.get("/healthz")
            assert health.status_code == 200 and health.json()["database"] == "ok"
            metrics = http.get("/metrics")
            assert metrics.status_code == 200
            names = ("dotsync_database_up 1.0", "dotsync_rows", "dotsync_queue_depth", "dotsync_api_calls")
            assert all(name in metrics.text for name in names), metrics.text
            login = http.get("/admin/login/")
            assert login.status_code == 200 and 'name="password"' in login.text
            css = http.get("/static/admin/css/base.css")  # the admin's static files, standalone
            assert css.status_code == 200 and "text/css" in css.headers["content-type"]
            assert http.get("/static/admin/css/nope.css").status_code == 404
        assert "Finished server process" in _sigterm(proc, 15)


def _accepted_nodelay(sock: socket.socket) -> int:
    """``TCP_NODELAY`` of a connection an asyncio server (what uvicorn runs) accepted on ``sock``."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(
                writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            )
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        _, client = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            client.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_the_workers_listener_gives_each_connection_tcp_nodelay() -> None:
    """Without it a keep-alive response waits ~40 ms on the client's delayed ACK (uvicorn issue #3149)."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # how uvicorn's bind_socket makes it
    plain.bind(("127.0.0.1", 0))
    assert _accepted_nodelay(plain) == 0, "asyncio now sets TCP_NODELAY itself: listener() may go"
    assert _accepted_nodelay(listener("127.0.0.1", 0)) != 0


@pytest.mark.timeout(120)
def test_serve_with_two_workers_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    with _serve(tmp_path, "--workers", "2") as (proc, port, env):
        _wait_for_port(port, proc, time.monotonic() + 60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            codes = [http.get("/healthz").status_code for _ in range(5)]  # one keep-alive connection
            assert codes == [200] * 5
        taken = subprocess.run(
            [sys.executable, "-m", "dotsync", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert taken.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr
        assert "with 2 workers" in _sigterm(proc, 30)
