"""Separate processes on one database: two racing ``run_job`` calls (exactly one runs, the other is
recorded "locked"), and ``dotsync run`` stopped by SIGTERM mid-step (the step finishes, the lease is
released, exit 0). SQLite here; the PostgreSQL variant runs in the PG lane (DATABASE_URL=postgres...).

The job's work is replaced in the child (``tests/runtime/child.py``) by a step that waits for the
test's go-ahead on stdin: the lock, not the platform, is under test. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, str(Path(__file__).with_name("child.py"))]
LIMIT = 60


def spawn(mode: str, url: str, var: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*CHILD, mode, url, str(var)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(LIMIT, proc.kill)  # a hung child fails the test instead of hanging it
    watchdog.daemon = True
    watchdog.start()
    return proc


def first_line(proc: subprocess.Popen[str]) -> str:
    """The child's first line that says something: ``running`` or its JSON result ('' at EOF)."""
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line or line.strip() == "running" or line.startswith("{"):
            return line.strip()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Let a waiting child go on, then collect its exit code and output."""
    out, err = proc.communicate("go\n", timeout=LIMIT)
    assert proc.returncode == 0, err[-4000:]
    return proc.returncode, out


def race(url: str, var: Path) -> list[dict[str, Any]]:
    """Two ``run_job`` processes at once; returns both recorded runs (the runner's last)."""
    procs = [spawn("race", url, var) for _ in range(2)]
    firsts = [first_line(p) for p in procs]
    assert firsts.count("running") == 1, firsts  # exactly one runs; the other answered at once
    runner = firsts.index("running")
    loser = procs[1 - runner]
    locked = json.loads(firsts[1 - runner])
    finish(loser)
    _, out = finish(procs[runner])
    ran = json.loads(out.strip().splitlines()[-1])
    return [ran, locked]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[str, Path]:
    db = tmp_path / "runtime.sqlite3"
    url = f"sqlite:///{db}"
    built = subprocess.run(
        [*CHILD, "build", url, str(tmp_path / "var")], cwd=ROOT, capture_output=True, text=True, timeout=LIMIT
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return url, db


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_two_processes_racing_run_job_on_sqlite(sqlite_db: tuple[str, Path], tmp_path: Path) -> None:
    url, db = sqlite_db
    ran, locked = race(url, tmp_path / "var")
    assert ran["outcome"] == "success" and ran["counts"] == {"main": {"done": 1}}
    assert locked["outcome"] == "locked"
    assert sorted(rows(db, "SELECT outcome FROM email_job_run")) == [("locked",), ("success",)]
    assert rows(db, "SELECT * FROM email_job_lease") == []


def test_sigterm_finishes_the_running_step_and_releases_the_lease(
    sqlite_db: tuple[str, Path], tmp_path: Path
) -> None:
    url, db = sqlite_db
    proc = spawn("serve", url, tmp_path / "var")
    assert first_line(proc) == "running", proc.stderr.read() if proc.poll() is not None else ""
    assert [k for (k,) in rows(db, "SELECT key FROM email_job_lease")] == ["dotsync:job:orders:main"]
    proc.send_signal(signal.SIGTERM)
    code, out = finish(proc)  # the step ends only now, after SIGTERM: it was let finish
    assert code == 0 and "SIGTERM" in out and "stopped" in out
    assert rows(db, "SELECT outcome, finished_at IS NOT NULL FROM email_job_run") == [("success", 1)]
    assert rows(db, "SELECT * FROM email_job_lease") == []


def _postgres_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")),
    reason="PostgreSQL lane only (DATABASE_URL=postgres://...)",
)
def test_two_processes_racing_run_job_on_postgresql(transactional_db: None, tmp_path: Path) -> None:
    from dotsync.models import JobLease, JobRun
    from tests.runtime.child import make_website

    make_website()
    ran, locked = race(_postgres_url(), tmp_path / "var")
    assert (ran["outcome"], locked["outcome"]) == ("success", "locked")
    assert sorted(JobRun.objects.values_list("outcome", flat=True)) == ["locked", "success"]
    assert not JobLease.objects.exists()
