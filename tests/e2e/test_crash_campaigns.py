"""Acceptance (issue 11, exactly once): the ``campaigns`` job killed with SIGKILL during campaign sends,
then run again, sends every queued campaign to every contact exactly once.

The job runs in a subprocess (``tests/e2e/crash_campaigns_child.py``) on a file SQLite database holding
the Oscar shop of ``tests/e2e/crash_child.py`` (24 customers with an order each) and, per customer, an
``Order Review`` and a ``Lost Basket`` row; the sandbox runs in this process and records every send
per contact. ``DOTSYNC_TEST_CRASH_AT`` kills the child:

* ``campaign_claimed``: rows claimed (committed), the send call not made;
* ``campaign_sent``: the platform accepted the send, its id not recorded.

The rerun looks the interrupted send up in the campaign's per-contact send report: a send that went
out is marked sent, not sent again. A claim whose send never went out waits for the report's grace
period (the child's clock is moved past it, as time passes between scheduled runs), then is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHOP = [sys.executable, str(HERE / "crash_child.py")]
CHILD = [sys.executable, str(HERE / "crash_campaigns_child.py")]


def child(
    cmd: list[str], db: Path, *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOTSYNC_TEST_CRASH_AT"}
    if crash_at:
        env["DOTSYNC_TEST_CRASH_AT"] = crash_at
    return subprocess.run(
        [*cmd, str(db), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_shop(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The crash children's shop (``crash_child.py build``) in a new temporary folder ``name``."""
    db = tmp_path_factory.mktemp(name) / "shop.sqlite3"
    ok_build = child(SHOP, db, "build")
    assert ok_build.returncode == 0, ok_build.stderr[-4000:]
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop, built once per module."""
    return build_shop(tmp_path_factory, "crash_campaigns")


@pytest.mark.parametrize(
    "crash_at",
    ["campaign_claimed:2", "campaign_sent:1", "campaign_sent:3"],
    ids=["after-a-claim", "after-the-first-send", "after-a-later-send"],
)
def test_sigkill_during_campaign_sends_then_rerun_sends_each_campaign_once(
    crash_at, built, sandbox, tmp_path
):
    db = tmp_path / "shop.sqlite3"
    shutil.copy(built, db)
    sandbox.set_faults(import_delay=0)
    setup = ok(child(CHILD, db, "configure", sandbox.url))
    killed = child(CHILD, db, "send", crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, (crash_at, killed.returncode, killed.stderr[-3000:])
    runs = ok(child(CHILD, db, "rerun"))
    rerun, later = runs["rerun"], runs["later"]

    expected = setup["expected"]
    assert later["statuses"] == {"sent": sum(len(pairs) for pairs in expected.values())}, runs
    for code, pairs in expected.items():
        username = setup["accounts"][code]["username"]
        wanted = {(int(campaign), email): 1 for campaign, email in pairs}
        assert sandbox.deliveries(username) == wanted, code  # every contact, each campaign, once
    if crash_at.startswith("campaign_sent"):
        assert rerun["counts"].get("recovered", 0) >= 1, runs  # found in the send report, not sent again
    else:
        assert rerun["counts"].get("awaiting_report", 0) >= 1, runs  # never sent blind
        assert later["counts"].get("requeued", 0) >= 1, runs
