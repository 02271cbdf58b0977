"""A one-hour platform outage (every call answers 503, clock moved with time-machine), then recovery:
nothing is lost, nothing fails, everything lands exactly once.

During the outage ``sync all`` runs every 5 minutes, as cron would. Each run ends by itself (circuit
breaker + stall limit) after a handful of calls, no importer row or sync row ever becomes ``FAILED``,
and the rows wait with a reason in ``wait_reason``. The shop changes meanwhile (an order is closed,
a subscriber leaves) as the outage starts. Once the platform answers again, the queue drains and
the platform equals the shop, record by record.

Sleeps are not real: the client's retry sleeps and the runner's waits move the time-machine clock
(the sandbox cannot make time pass; everything else is real HTTP on loopback).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import client_for
from dotsync.config import get_config
from dotsync.jobs.runner import sync_all
from dotsync.models import Contact, Importer, NewsletterSubscriber, Order, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.testing.shop import set_order_status
from tests.e2e.conftest import run_sync
from tests.e2e.expected import BOOKS, assert_landed, collections
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)

OUTAGE = {"error_rate": 1.0, "error_status": 503}
CRON = timedelta(minutes=5)


def _fake_sleeps(shop: Any, clock: Any) -> None:
    """Make every account client's retry sleep move the clock instead of sleeping."""
    for website in shop.scope.websites:
        client_for(get_config(website))._transport._sleep = clock.shift


def _nothing_failed() -> None:
    assert not Importer.objects.filter(import_status=ImportStatus.FAILED).exists()
    for model in (Contact, Order):
        assert not model.objects.filter(sync_status=SyncStatus.FAILED).exists(), model


def _outage_hour(sandbox: Any, clock: Any, change: Any = None) -> list[dict[str, Any]]:
    """Cron runs every 5 minutes for an hour while every call fails; ``change`` runs as it starts."""
    sandbox.set_faults(**OUTAGE)
    runs = []
    for minute in range(0, 60, 5):
        if minute == 0 and change:
            change()
        before = sandbox.requests()["total"]
        summary = sync_all(sleep=clock.shift)
        runs.append({**summary, "calls": sandbox.requests()["total"] - before})
        assert not summary["drained"]
        assert summary["stopped"] in ("stalled", "deferred"), summary["stopped"]
        assert "unreachable" in {a["state"] for a in summary["accounts"]}
        _nothing_failed()
        clock.shift(CRON)
    waiting = set(
        Importer.objects.filter(import_status=ImportStatus.PENDING).values_list("wait_reason", flat=True)
    )
    assert waiting and waiting <= {"unreachable", "platform_error", ""}, waiting
    return runs


def _recover(sandbox: Any, clock: Any) -> None:
    sandbox.set_faults(reset=True)
    clock.shift(timedelta(minutes=20))  # past every row's capped backoff and the breaker's cool-down
    for _ in range(3):
        summary = sync_all(sleep=clock.shift)
        if summary["drained"]:
            break
    assert summary["drained"], summary
    assert not summary["errors"], summary["errors"]
    _nothing_failed()
    assert not Importer.objects.exclude(import_status=ImportStatus.IMPORTED).exists()


def test_a_one_hour_outage_from_the_first_sync_then_everything_lands_once(shop, sandbox, accounts, capsys):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        _fake_sleeps(shop, clock)
        runs = _outage_hour(sandbox, clock)
        # the breaker keeps each run small: the first run's failures up to the threshold, then probes
        assert all(run["calls"] <= 2 * 6 for run in runs[1:]), [run["calls"] for run in runs]
        _recover(sandbox, clock)
    with capsys.disabled():
        print(f"\nOUTAGE | calls per run {[r['calls'] for r in runs]} | stops {[r['stopped'] for r in runs]}")
    views = {code: view(sandbox, acc) for code, acc in accounts.items()}
    assert_landed(shop, views)


def test_changes_made_during_an_outage_land_after_it(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    run_sync()  # everything is on the platform
    order = shop.orders["alice_en"]

    def change() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            set_order_status(order, "closed")  # its record must be deleted from the platform
            erin = NewsletterSubscriber.objects.get(subscriber_email="erin@example.com")
            erin.subscriber_status = SubscriberStatus.UNSUBSCRIBED  # must leave the subscribers book
            erin.save()

    with time_machine.travel(timezone.now(), tick=True) as clock:
        _fake_sleeps(shop, clock)
        _outage_hour(sandbox, clock, change)
        _recover(sandbox, clock)
    main = view(sandbox, accounts["main"])
    assert main.keys("Orders") == collections(shop)["main"]["Orders"] - {str(order.number)}
    assert main.books["subscribers"] == BOOKS["main"]["subscribers"] - {"erin@example.com"}
    assert main.record_counts["Orders"] == len(main.keys("Orders"))  # each once


def test_imports_in_flight_when_the_platform_goes_down_end_the_run_by_the_stall_limit(
    shop, sandbox, accounts, capsys
):
    sandbox.set_faults(import_delay=600)  # imports run 10 minutes (wall clock: time-machine moves it)
    first = sync_all(max_rounds=1)
    assert Importer.objects.filter(import_status=ImportStatus.IMPORTING).exclude(import_id="").exists()
    assert not first["drained"]
    with time_machine.travel(timezone.now(), tick=True) as clock:
        _fake_sleeps(shop, clock)
        sandbox.set_faults(error_rate=1.0, error_status=503, import_delay=600)
        before, started = sandbox.requests()["total"], timezone.now()
        summary = sync_all(sleep=clock.shift)
        took = (timezone.now() - started).total_seconds()
        calls = sandbox.requests()["total"] - before
        assert summary["stopped"] == "stalled" and not summary["drained"]
        assert took < 4 * 60, took  # the stall limit (2 min) plus the last cool-down
        assert calls <= 2 * 12, calls  # the breaker's threshold per account, and a probe
        _nothing_failed()
        assert Importer.objects.filter(import_status=ImportStatus.IMPORTING).exists()  # still tracked
        _recover(sandbox, clock)
    with capsys.disabled():
        print(f"\nIN FLIGHT | stalled after {took:.0f} simulated s and {calls} calls")
    assert_landed(shop, {code: view(sandbox, acc) for code, acc in accounts.items()})
