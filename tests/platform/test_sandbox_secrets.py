"""Sandbox over real HTTP: its own secrets (issue 8 §5).

Account passwords are stored as salted hashes (also those of databases written by older sandboxes),
start-up accounts can come from a file or the environment instead of argv, and the control API answers
loopback clients only unless a control token is configured.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dotsync.platform.sandbox.control import SandboxControl, SandboxError
from dotsync.platform.sandbox.server import run_in_thread

USER = "apiuser-test@apiconnector.com"


def test_passwords_are_stored_as_salted_hashes(sandbox, sandbox_account, sandbox_server):
    sandbox.create_account("apiuser-two@apiconnector.com", sandbox_account[1])
    stored = [r["password"] for r in sandbox_server.store.all("SELECT password FROM accounts")]
    assert len(stored) == 2 and len(set(stored)) == 2  # same password, different salts
    assert all(p.startswith("scrypt$") and sandbox_account[1] not in p for p in stored)
    with httpx.Client(base_url=sandbox.url) as c:
        assert c.get("/v2/account-info", auth=sandbox_account).status_code == 200
        assert c.get("/v2/account-info", auth=(USER, sandbox_account[1] + "x")).status_code == 401
    with pytest.raises(SandboxError, match="409"):
        sandbox.create_account(USER, "another password")


OLD_SCHEMA = (
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, "
    "password TEXT NOT NULL, created TEXT NOT NULL)"
)


def test_a_database_with_plain_passwords_is_migrated_when_opened(tmp_path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # what a sandbox before the fix wrote
        conn.execute(OLD_SCHEMA)
        conn.execute("INSERT INTO accounts VALUES (1, 'old@apiconnector.com', 'plain-pw', '2026-01-01')")
    handle = run_in_thread(db_path=str(db))
    try:
        with httpx.Client(base_url=handle.url) as c:
            assert c.get("/v2/account-info", auth=("old@apiconnector.com", "plain-pw")).status_code == 200
            assert c.get("/v2/account-info", auth=("old@apiconnector.com", "wrong")).status_code == 401
    finally:
        handle.stop()
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT password FROM accounts").fetchone()
    assert stored.startswith("scrypt$") and "plain-pw" not in stored


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (connections to it do not come from loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent; this only picks the outgoing interface
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_control_api_answers_other_hosts_only_with_the_token():
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    handle = run_in_thread(host=address, control_token="t0ken-for-tests")
    try:
        outsider = httpx.Client(base_url=handle.url)
        refused = outsider.post("/sandbox/accounts", json={"username": "probe@example.com", "password": "x"})
        assert refused.status_code == 403
        assert "X-Sandbox-Token" in refused.json()["error"]
        assert outsider.get("/sandbox/state").status_code == 403
        assert outsider.post("/sandbox/reset", headers={"X-Sandbox-Token": "wrong"}).status_code == 403
        with SandboxControl(handle.url, token="t0ken-for-tests") as holder:
            assert holder.create_account("a@apiconnector.com", "pw")["created"] is True
            assert "a@apiconnector.com" in holder.state()["accounts"]
        # the API itself is not the control API: Basic auth as usual
        assert outsider.get("/v2/account-info", auth=("a@apiconnector.com", "pw")).status_code == 200
        outsider.close()
    finally:
        handle.stop()


def test_without_a_token_the_control_api_answers_loopback_only():
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    handle = run_in_thread(host="0.0.0.0")
    port = handle.url.rsplit(":", 1)[1]
    try:
        outside = httpx.post(
            f"http://{address}:{port}/sandbox/accounts", json={"username": "u@example.com", "password": "x"}
        )
        assert outside.status_code == 403 and "--control-token" in outside.json()["error"]
        with SandboxControl(f"http://127.0.0.1:{port}") as local:
            assert local.create_account("u@example.com", "x")["created"] is True
    finally:
        handle.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_takes_accounts_from_a_file_and_the_environment_not_argv(tmp_path: Path):
    port = _free_port()
    accounts = tmp_path / "accounts"
    accounts.write_text(
        "# sandbox users\nfile-user@apiconnector.com:file pass:with colon\n\n", encoding="utf-8"
    )
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DOTSYNC_SANDBOX_ACCOUNTS": "env-one@apiconnector.com:pw1 env-two@apiconnector.com:pw2",
        "DOTSYNC_SANDBOX_CONTROL_TOKEN": "cli-token",
    }
    cmd = [sys.executable, "-m", "dotsync", "sandbox", "--port", str(port), "--log-level", "warning"]
    cmd += ["--host", "0.0.0.0"]
    proc = subprocess.Popen(
        [*cmd, "--accounts-file", str(accounts)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/sandbox/faults")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "exited"
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        for user, password in (
            ("file-user@apiconnector.com", "file pass:with colon"),
            ("env-one@apiconnector.com", "pw1"),
            ("env-two@apiconnector.com", "pw2"),
        ):
            assert httpx.get(f"{url}/v2/account-info", auth=(user, password)).status_code == 200
        argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        assert "pass" not in argv and "pw1" not in argv and "cli-token" not in argv
        address = _non_loopback_address()
        if address is not None:  # the token from the environment opens the control API to other hosts
            outside = f"http://{address}:{port}/sandbox/faults"
            assert httpx.get(outside).status_code == 403
            assert httpx.get(outside, headers={"X-Sandbox-Token": "cli-token"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
