"""The scheduler's plan: units per scope, frequencies per website (0/"disabled" off), random offsets
within the interval, first runs, due and next runs (the clock moved with time-machine, never slept)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from dotsync.jobs.base import JobScope
from dotsync.jobs.registry import ALL, JOBS
from dotsync.models import JobRun, RunOutcome
from dotsync.runtime import scheduler
from dotsync.runtime.runs import account_label, units
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.scope import Scope


@pytest.fixture
def configured(scope: Scope, sandbox: Any) -> Scope:
    """Both websites on their own sandbox account; ``outlet`` runs orders every 5 minutes, no catalog."""
    configure_websites(sandbox, [scope.main])
    configure_websites(sandbox, [scope.outlet], job_frequencies={"orders": 5, "catalog": "disabled"})
    return scope


def by_key(entries: list[scheduler.Entry]) -> dict[tuple[str, str], scheduler.Entry]:
    return {(e.job_id, e.label): e for e in entries}


def test_plan_has_every_job_per_unit_with_its_frequency(configured: Scope) -> None:
    entries = by_key(scheduler.plan(rng=random.Random(1)))
    accounts = {e.label for e in entries.values() if e.unit.job.id == "importer"}
    assert len(accounts) == 2 and all(a.startswith("account:") for a in accounts)
    assert "@" not in "".join(accounts)  # the API user is not shown
    for job in ALL:  # per account: the importer, unsubscriber, resubscriber; the others per website
        labels = sorted(label for jid, label in entries if jid == job.id)
        assert labels == (sorted(accounts) if job.scope is JobScope.ACCOUNT else ["main", "outlet"])
    assert entries[("orders", "main")].minutes == 15
    assert entries[("orders", "outlet")].minutes == 5
    assert entries[("catalog", "outlet")].minutes == 0  # "disabled"
    assert {entries[("importer", a)].minutes for a in accounts} == {5}


def test_offsets_are_random_within_the_interval_and_set_the_first_runs(configured: Scope) -> None:
    entries = scheduler.plan(rng=random.Random(7))
    enabled = [e for e in entries if e.minutes]
    assert all(0 <= e.offset < e.minutes * 60 for e in enabled)
    assert len({round(e.offset, 3) for e in enabled}) == len(enabled)  # not all at the same second
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False):
        now = timezone.now()
        sched = scheduler.build(entries, now=now)
        first = scheduler.first_runs(sched)
        assert "catalog:outlet" not in first  # disabled: never scheduled
        for e in enabled:
            assert first[f"{e.job_id}:{e.label}"] == now + timedelta(seconds=e.offset)
        orders = sched.get_job("orders:outlet").trigger
        later = orders.get_next_fire_time(first["orders:outlet"], first["orders:outlet"])
        assert later - first["orders:outlet"] == timedelta(minutes=5)


def test_due_and_next_run_follow_the_last_start(configured: Scope) -> None:
    entry = by_key(scheduler.plan())[("orders", "outlet")]
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False) as clock:
        now = timezone.now()
        assert scheduler.due(entry) and scheduler.next_run(entry) == now  # never ran
        JobRun.objects.create(job_id="orders", scope="outlet", started_at=now, outcome="success")
        clock.shift(timedelta(minutes=4, seconds=59))
        assert not scheduler.due(entry)
        assert scheduler.next_run(entry) == now + timedelta(minutes=5)
        clock.shift(timedelta(seconds=1))
        assert scheduler.due(entry)
        # a "locked" run is not a start of this unit's work: it does not push the next run
        JobRun.objects.create(job_id="orders", scope="outlet", started_at=timezone.now(), outcome="locked")
        assert scheduler.due(entry)


def test_disabled_is_never_due(configured: Scope) -> None:
    entry = by_key(scheduler.plan())[("catalog", "outlet")]
    assert not scheduler.due(entry) and scheduler.next_run(entry) is None


def test_job_rows_list_every_job_and_unit(configured: Scope) -> None:
    now = timezone.now()
    JobRun.objects.create(
        job_id="orders", scope="main", started_at=now, finished_at=now, outcome=RunOutcome.FAILED, error="x"
    )
    rows = scheduler.job_rows()
    assert {r["id"] for r in rows} == set(JOBS)
    orders_main = next(r for r in rows if r["id"] == "orders" and r["unit"] == "main")
    assert orders_main["spec_name"] == "order_and_quote_sync" and orders_main["scope"] == "website"
    assert orders_main["outcome"] == "failed" and orders_main["frequency"] == 15
    assert orders_main["next_run"] == (now + timedelta(minutes=15)).isoformat()
    importer = [r for r in rows if r["id"] == "importer"]
    assert {r["unit"] for r in importer} == {account_label(a) for a in _ctx_accounts()}


def _ctx_accounts() -> list[Any]:
    from dotsync.accounts import RunContext

    return RunContext.resolve().accounts


def test_units_follow_the_scope(configured: Scope) -> None:
    from dotsync.accounts import RunContext

    ctx = RunContext.resolve()
    assert [u.label for u in units(JOBS["orders"], ctx)] == ["main", "outlet"]
    one = units(JOBS["orders"], ctx)[0].ctx
    assert [w.code for w in one.websites] == ["main"] and len(one.accounts) == 1
    per_account = units(JOBS["importer"], ctx)
    assert [[w.code for w in u.ctx.websites] for u in per_account] == [["main"], ["outlet"]]


def test_a_running_scheduler_takes_saved_settings_without_a_restart(configured: Scope) -> None:
    """Frequencies and websites saved while ``dotsync run`` runs apply at its next re-plan."""
    from dotsync.models import WebsiteConfig
    from dotsync.runtime.fastpath import FastPath

    entries = scheduler.plan(rng=random.Random(3))
    fastpath = FastPath(entries, run=lambda job_id, label: None)
    sched = scheduler.build(entries, fastpath=fastpath)
    replanner = scheduler.Replanner(sched, entries, scheduler.runner(fastpath, None), fastpath)
    assert replanner.refresh(scheduler.plan()) == {"added": 0, "changed": 0, "removed": 0}

    row = WebsiteConfig.objects.get(website=configured.outlet)
    row.job_frequencies = {"orders": 30}  # was 5; the catalog switched on again (15, the default)
    row.save()
    WebsiteConfig.objects.filter(website=configured.main).update(enabled=False)
    counts = replanner.refresh(scheduler.plan(rng=random.Random(4)))

    assert counts["removed"] >= 1 and counts["changed"] == 1 and counts["added"] == 1
    assert sched.get_job("orders:outlet").trigger.interval == timedelta(minutes=30)
    assert sched.get_job("catalog:outlet") is not None  # enabled since the plan: now scheduled
    assert sched.get_job("orders:main") is None  # main switched off: its units are gone
    assert ("orders", configured.main.pk) not in fastpath.units  # and its nudges run nothing
    assert fastpath.units[("orders", configured.outlet.pk)] == "orders:outlet"


@pytest.mark.django_db(transaction=True)
def test_a_stop_while_the_running_step_asks_the_scheduler_for_a_job_does_not_deadlock(
    scope: Scope, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM during a run whose fast path then moves another unit (seen hanging ``dotsync run`` in CI).

    APScheduler's ``shutdown(wait=True)`` joins the workers while holding its job-store lock; the
    finishing run's :meth:`FastPath.request` asks for a job under that lock, so neither moved. The
    step here waits until the stop holds that lock (it never lets go under the old shutdown), then asks.
    """
    import dataclasses
    import threading
    import time

    from apscheduler.schedulers.base import STATE_STOPPED

    from dotsync.runtime.fastpath import key

    configure_websites(sandbox, [scope.main])
    entries = [dataclasses.replace(e, offset=0.0) for e in scheduler.plan() if e.job_id == "orders"]
    seen: dict[str, Any] = {}
    real_build = scheduler.build

    def build(*args: Any, **kwargs: Any) -> Any:
        seen["fastpath"] = kwargs["fastpath"]
        seen["sched"] = real_build(*args, **kwargs)
        return seen["sched"]

    stop, started, asked = threading.Event(), threading.Event(), threading.Event()

    def step(job_id: str, label: str) -> None:
        started.set()
        stop.wait(30)
        sched, lock = seen["sched"], seen["sched"]._jobstores_lock
        deadline = time.monotonic() + 5  # polling real threads: there is no clock to move
        while time.monotonic() < deadline:
            if sched.state == STATE_STOPPED and not lock.acquire(blocking=False):
                break  # the stop holds the job-store lock now
            if sched.state == STATE_STOPPED:
                lock.release()
            threading.Event().wait(0.01)
        seen["fastpath"].request(key("importer", "x"), nudged=True)  # asks the scheduler for a job
        asked.set()

    monkeypatch.setattr(scheduler, "build", build)
    monkeypatch.setattr(scheduler, "run_unit", step)
    server = threading.Thread(target=scheduler.serve, args=(stop, entries), daemon=True)
    server.start()
    assert started.wait(30), "the due unit did not start"
    stop.set()
    server.join(60)
    assert not server.is_alive(), "dotsync run did not stop: the step and the shutdown wait on each other"
    assert asked.is_set()
