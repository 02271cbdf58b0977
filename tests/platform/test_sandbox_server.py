"""The sandbox as a process: persistence across restarts (same --db), start-up accounts, the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from dotsync.platform.sandbox.control import SandboxControl
from dotsync.platform.sandbox.server import run_in_thread


def test_state_survives_a_restart_on_the_same_db_file(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    first = run_in_thread(db_path=db, accounts=["apiuser-a@apiconnector.com:pw-a"])
    try:
        with httpx.Client(base_url=first.url, auth=("apiuser-a@apiconnector.com", "pw-a")) as c:
            book = c.post("/v2/address-books", json={"name": "Kept"}).json()["id"]
            c.post(f"/v2/address-books/{book}/contacts", json={"email": "kept@example.com"})
            import_id = c.post(
                f"/v2/address-books/{book}/contacts/import",
                files={"file": ("a.csv", b"Email\nlater@example.com\n")},
            ).json()["id"]
        SandboxControl(first.url).suppress("banned@example.com")
    finally:
        first.stop()

    second = run_in_thread(db_path=db)
    try:
        with httpx.Client(base_url=second.url, auth=("apiuser-a@apiconnector.com", "pw-a")) as c:
            contact = c.get("/v2/contacts/kept@example.com")
            assert contact.status_code == 200
            assert c.get(f"/v2/contacts/{contact.json()['id']}/address-books").json()[0]["name"] == "Kept"
            deadline = time.monotonic() + 5
            while c.get(f"/v2/contacts/import/{import_id}").json()["status"] != "Finished":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert c.get("/v2/contacts/later@example.com").status_code == 200
            info = {p["name"]: p["value"] for p in c.get("/v2/account-info").json()["properties"]}
            assert info["ApiEndpoint"] == second.url
        state = SandboxControl(second.url).state()
        assert [g["email"] for g in state["global_suppressions"]] == ["banned@example.com"]
    finally:
        second.stop()


def test_reset_keeps_start_up_accounts(tmp_path):
    handle = run_in_thread(accounts=[("apiuser-boot@apiconnector.com", "pw")], faults={"latency_ms": 1})
    try:
        control = SandboxControl(handle.url)
        control.create_account("apiuser-extra@apiconnector.com", "pw")
        control.set_faults(latency_ms=50)
        control.reset()
        assert set(control.state()["accounts"]) == {"apiuser-boot@apiconnector.com"}
        assert control.faults()["latency_ms"] == 1
    finally:
        handle.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_runs_the_sandbox(tmp_path):
    port = _free_port()
    db = tmp_path / "cli.sqlite3"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dotsync",
            "sandbox",
            "--port",
            str(port),
            "--db",
            str(db),
            "--account",
            "apiuser-cli@apiconnector.com:pw:with:colons",
            "--rate-limit",
            "100",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(
                    f"{url}/v2/account-info", auth=("apiuser-cli@apiconnector.com", "pw:with:colons")
                )
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "exited"
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.1)
        assert r.status_code == 200
        assert SandboxControl(url).faults()["rate_limit_per_minute"] == 100
    finally:
        proc.terminate()
        proc.wait(10)
    assert db.exists()
