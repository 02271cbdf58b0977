"""Fault storms on the e2e shop: everything lands exactly once, nothing fails; drain times and calls.

Each storm starts from the shop's full history queued (about 60 importer rows' worth of records in
two accounts) and runs ``sync all`` (as cron would, 5 minutes apart) until the queue drains. The
client's retry sleeps and the runner's waits move a time-machine clock instead of sleeping, so the
"simulated" drain time is what a real run would take, and the test takes seconds; only hung calls
(the timeout storm) cost real time. Run with ``-s`` to print the figures recorded in
docs/reliability.md ("Fault storms and drain times").
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import client_for, reset_clients
from dotsync.config import get_config
from dotsync.jobs.runner import sync_all
from dotsync.models import Importer, WebsiteConfig
from dotsync.models.importer import ImportStatus
from tests.e2e.expected import assert_landed
from tests.e2e.platform_view import view

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

STORMS: dict[str, dict[str, Any]] = {
    "calm": {},
    "60% 5xx": {"error_rate": 0.6, "error_status": 503, "seed": 60},
    "429 tier (4 calls / 2 s)": {"rate_limit_per_minute": 4, "rate_limit_window": 2.0},
    "429 tier (4 calls / 2 s) + 20% 5xx": {
        "rate_limit_per_minute": 4,
        "rate_limit_window": 2.0,
        "error_rate": 0.2,
        "seed": 20,
    },
    "20% timeouts (1 s client timeout)": {"timeout_rate": 0.2, "timeout_seconds": 1.5, "seed": 7},
}


@pytest.mark.parametrize("storm", list(STORMS))
def test_storm_drains_and_lands_exactly_once(shop, sandbox, accounts, storm, capsys):
    extra = {"timeout": 1.0} if "timeouts" in storm else {}
    for row in WebsiteConfig.objects.all():
        row.extra = {**(row.extra or {}), **extra}
        row.save()
    reset_clients()
    sandbox.set_faults(**STORMS[storm])
    before = sandbox.requests()["total"]
    started_real = time.monotonic()
    with time_machine.travel(timezone.now(), tick=True) as clock:
        started = timezone.now()
        for website in shop.scope.websites:
            client_for(get_config(website))._transport._sleep = clock.shift
        runs = 0
        while True:
            runs += 1
            summary = sync_all(sleep=clock.shift)
            if summary["drained"] or runs >= 12:
                break
            clock.shift(timedelta(minutes=5))
        simulated = (timezone.now() - started).total_seconds()
    calls = sandbox.requests()["total"] - before
    real = time.monotonic() - started_real
    assert summary["drained"], summary
    assert not Importer.objects.exclude(import_status=ImportStatus.IMPORTED).exists()
    sandbox.set_faults(reset=True)
    assert_landed(shop, {code: view(sandbox, acc) for code, acc in accounts.items()})
    rows = Importer.objects.count()
    with capsys.disabled():
        print(
            f"\nSTORM | {storm} | runs {runs} | simulated {simulated:.0f} s | real {real:.1f} s | "
            f"calls {calls} | importer rows {rows}"
        )
