"""Acceptance of the runtime, every part in its own process, as a merchant runs it.

* the sandbox: ``dotsync sandbox --db FILE``;
* the demo shop: ``dotsync demo --sandbox-url URL`` (seeded, installed, first sync drained);
* the scheduler: ``dotsync run``, which nothing else tells what to do;
* the shop's web process: ``tests/runtime/shop_child.py`` edits a customer and places an order through
  Oscar, observers on.

Checked: each change reaches the sandbox within the latency goal (10 s) with no other command; after
SIGTERM (exit 0) and changes made while it was down, a restarted ``dotsync run`` carries them over; every
bulk import dotsync recorded started exactly once on the sandbox, and nothing is left queued or failed.
The PostgreSQL variant runs two ``dotsync run`` processes on one database (PostgreSQL lane only): the
same exactly-once check, and the second scheduler's overlapping runs are recorded ``locked``.

Polling real processes has no clock to move: every wait polls with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOP_CHILD = Path(__file__).with_name("shop_child.py")
LATENCY_GOAL = 10.0  # seconds from commit to the platform holding the change (issue: p95 <= 10 s)
DEMO = ["--customers", "12", "--orders", "16"]
QUEUED = "SELECT 1 FROM email_importer WHERE import_status IN (0, 1)"  # pending or importing

pytestmark = pytest.mark.timeout(600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """The processes of one acceptance run, on one database and one sandbox."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp, self.url = tmp, database_url
        self.var = tmp / "var"
        self.sandbox_db = tmp / "sandbox.sqlite3"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            DOTSYNC_VAR_DIR=str(self.var),
            DOTSYNC_ENCRYPTION_KEY="dotsync-acceptance-key-not-secret",
        )
        self.env.pop("DOTSYNC_REDIS_URL", None)  # the embedded default: lease rows, not Redis
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.port}"

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - open for the process's life
        proc = subprocess.Popen([str(BIN / "dotsync"), *args], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        logs = sorted(self.tmp.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    def up(self) -> dict[str, Any]:
        """Sandbox, then the demo against it; returns the demo's JSON summary."""
        self.start("sandbox", "sandbox", "--port", str(self.port), "--db", str(self.sandbox_db),
                   "--import-delay", "0.05", "--log-level", "warning")  # fmt: skip
        wait_for("the sandbox", lambda: _listening(self.port), 30, self.logs)
        demo = subprocess.run(
            [str(BIN / "dotsync"), "demo", "--sandbox-url", self.sandbox_url, *DEMO, "--json"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stderr[-4000:]
        summary: dict[str, Any] = json.loads(demo.stdout)
        assert summary["sync"]["drained"], summary["sync"]
        return summary

    def shop(self, action: str, tag: str = "") -> dict[str, Any]:
        """One change through Oscar in the shop's own process."""
        done = subprocess.run(
            [sys.executable, str(SHOP_CHILD), self.url, str(self.var), action, tag],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-4000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def stop(self, proc: subprocess.Popen[bytes]) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=120)

    def down(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for(what: str, check: Callable[[], bool], seconds: float, logs: Callable[[], str]) -> float:
    """Poll ``check`` until true; returns the time it became true. Fails with the logs after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(0.1)  # polling real processes: there is no clock to move
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}\n{logs()}")


# --- the two sides' state ---------------------------------------------------------------------------------


def sandbox_rows(stack: Stack, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    try:
        with sqlite3.connect(f"file:{stack.sandbox_db}?mode=ro", uri=True, timeout=30) as con:
            return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # the sandbox is writing: next poll
        return []


def dotsync_rows(stack: Stack, sql: str) -> list[tuple[Any, ...]]:
    if stack.url.startswith("sqlite"):
        with sqlite3.connect(stack.url.removeprefix("sqlite:///"), timeout=30) as con:
            return con.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(stack.url) as con:
        return con.execute(sql).fetchall()  # type: ignore[arg-type]


def holds_last_name(stack: Stack, email: str, name: str) -> bool:
    rows = sandbox_rows(stack, "SELECT data_fields FROM contacts WHERE lower(email) = ?", email)
    return any(json.loads(fields or "{}").get("LASTNAME") == name for (fields,) in rows)


def holds_order(stack: Stack, number: str) -> bool:
    sql = "SELECT 1 FROM insight_records WHERE collection = 'Orders' AND key = ?"
    return bool(sandbox_rows(stack, sql, number))


def assert_exactly_once(stack: Stack) -> None:
    """Every bulk import dotsync recorded started once on the sandbox; nothing queued, failed or doubled."""
    ours = [i for (i,) in dotsync_rows(stack, "SELECT import_id FROM email_importer WHERE import_id <> ''")]
    assert len(ours) == len(set(ours)), "an import id recorded twice"
    theirs = [i for (i,) in sandbox_rows(stack, "SELECT id FROM imports")]
    assert sorted(theirs) == sorted(ours), "the sandbox started imports dotsync did not record (or lost some)"
    left = dotsync_rows(stack, "SELECT import_status, COUNT(*) FROM email_importer GROUP BY import_status")
    assert {status for status, _ in left} <= {2}, f"importer rows not imported: {left}"


def queue_report(stack: Stack) -> str:
    """The importer rows still queued or in flight, with their state columns (for a failure's message)."""
    rows = dotsync_rows(
        stack,
        "SELECT id, import_type, import_mode, import_status, import_id, retry_count, wait_reason, "
        "next_attempt_at, claimed_by, message FROM email_importer WHERE import_status IN (0, 1)",
    )
    return (
        "queued or importing (id, type, mode, status, import id, retries, wait, next, claimed, message):\n"
        + ("\n".join(map(str, rows)) or "none")
    )


def settle_after_stop(stack: Stack) -> None:
    """Finish what a stop left in flight, with ``dotsync sync importer``, before the exactly-once check.

    A scheduled job can queue a row after the queue was seen drained and the importer start it just before
    SIGTERM: the row stays ``importing`` with its import id recorded, which is right (the next run polls
    it). Only such rows may be in flight at a stop; running the importer by hand must then finish them.
    """
    in_flight = dotsync_rows(stack, "SELECT import_id FROM email_importer WHERE import_status = 1")
    assert all(import_id for (import_id,) in in_flight), f"importing rows without an import id: {in_flight}"
    for _ in range(20):
        if not dotsync_rows(stack, QUEUED):
            return
        done = subprocess.run([str(BIN / "dotsync"), "sync", "importer"], cwd=ROOT, env=stack.env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode in (0, 7), done.stderr[-4000:]  # 7: not drained yet (README, "Exit codes")
    pytest.fail(f"the importer did not finish what the stop left: {queue_report(stack)}")


def change_lands(stack: Stack, tag: str) -> list[float]:
    """A customer edit and an order through the shop; returns each one's commit-to-platform seconds."""
    edit = stack.shop("edit", tag)
    edited = lambda: holds_last_name(stack, edit["email"], tag)  # noqa: E731
    seen = wait_for("the edit on the sandbox", edited, 60, stack.logs)
    order = stack.shop("order")
    placed = wait_for("the order on the sandbox", lambda: holds_order(stack, order["order"]), 60, stack.logs)
    return [seen - float(edit["at"]), placed - float(order["at"])]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    made = Stack(tmp_path, f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    try:
        yield made
    finally:
        made.down()


def test_dotsync_run_carries_shop_changes_over_within_seconds_and_survives_a_restart(stack: Stack) -> None:
    stack.up()
    run = stack.start("run", "run")
    latencies = change_lands(stack, f"Accept{uuid.uuid4().hex[:6]}")
    assert max(latencies) <= LATENCY_GOAL, f"commit to platform took {latencies} s"

    assert stack.stop(run) == 0, stack.logs()  # SIGTERM: the running step ends, locks go, exit 0
    assert dotsync_rows(stack, "SELECT COUNT(*) FROM email_job_lease") == [(0,)]
    while_down = stack.shop("edit", "WhileDown")
    order = stack.shop("order")
    assert not holds_order(stack, order["order"])

    run = stack.start("run-again", "run")
    wait_for("the change made while down", lambda: holds_last_name(stack, while_down["email"], "WhileDown"),
             60, stack.logs)  # fmt: skip
    wait_for("the order placed while down", lambda: holds_order(stack, order["order"]), 60, stack.logs)
    wait_for("the queue to drain", lambda: not dotsync_rows(
        stack, "SELECT 1 FROM email_importer WHERE import_status IN (0, 1)"), 60, stack.logs)  # fmt: skip
    assert stack.stop(run) == 0, stack.logs()
    settle_after_stop(stack)
    assert_exactly_once(stack)
    outcomes = {o for (o,) in dotsync_rows(stack, "SELECT DISTINCT outcome FROM email_job_run")}
    assert "success" in outcomes and "error" not in outcomes, outcomes


def _maintenance_url() -> str:
    """The server of ``DATABASE_URL``, database ``postgres`` (the lane's own database may not exist)."""
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


def _fresh_postgres_database() -> str:
    import psycopg

    name = f"dotsync_accept_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_maintenance_url(), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return _maintenance_url().rsplit("/", 1)[0] + "/" + name


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")),
    reason="PostgreSQL lane only (DATABASE_URL=postgres://...)",
)
def test_two_dotsync_run_processes_on_one_postgresql_database_start_each_import_once(tmp_path: Path) -> None:
    import psycopg

    url = _fresh_postgres_database()
    stack = Stack(tmp_path, url)
    try:
        stack.up()
        for n in range(3):  # both cron-style at once: they want the same units, one finds each locked
            stack.shop("edit", f"Once{n}")
            once = [stack.start(f"once-{n}-{side}", "run", "--once") for side in "ab"]
            assert [p.wait(timeout=300) for p in once] == [0, 0], stack.logs()
            if dotsync_rows(stack, "SELECT 1 FROM email_job_run WHERE outcome = 'locked'"):
                break
        else:
            pytest.fail("three rounds of two simultaneous `dotsync run --once` never recorded a locked run")
        runs = [stack.start("run-a", "run"), stack.start("run-b", "run")]
        for n in range(2):
            latencies = change_lands(stack, f"Twice{n}{uuid.uuid4().hex[:4]}")
            assert max(latencies) <= LATENCY_GOAL, f"commit to platform took {latencies} s"
        wait_for("the queue to drain", lambda: not dotsync_rows(
            stack, QUEUED), 120, lambda: f"{queue_report(stack)}\n{stack.logs()}")  # fmt: skip
        assert [stack.stop(r) for r in runs] == [0, 0], stack.logs()
        settle_after_stop(stack)
        assert_exactly_once(stack)
    finally:
        stack.down()
        with psycopg.connect(_maintenance_url(), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')  # type: ignore[arg-type]
