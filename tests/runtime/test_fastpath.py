"""The fast path end to end: an Oscar change nudges, the scheduler runs its job and the importer at once.

The e2e shop is synced into the sandbox (real HTTP on loopback) first. Then a change is committed
through Oscar (on-commit observers executed), which writes ``email_job_nudge`` rows. The scheduler is
built as ``dotsync run`` builds it, not started: the test calls its wake-up (:meth:`FastPath.tick`)
and fires the units it brought forward in the order its one worker would, moving the clock with
time-machine (the debounce window, the importer's prompt poll). Nothing sleeps; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from dotsync.models import Importer, JobNudge, JobRun, Order, SyncStatus, WebsiteConfig
from dotsync.models.importer import ImportMode
from dotsync.runtime import scheduler
from dotsync.runtime.fastpath import DEBOUNCE, NUDGES_JOB, PROMPT_POLLS, FastPath, key
from dotsync.testing.platform_setup import SandboxAccount
from dotsync.testing.shop import Shop, place_order, set_order_status
from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db


class Worker:
    """The scheduler built for ``dotsync run`` (not started), and the runs its worker thread would make."""

    def __init__(self) -> None:
        self.entries = {key(e.job_id, e.label): e for e in scheduler.plan(rng=random.Random(3))}
        for e in self.entries.values():
            e.offset = e.minutes * 60  # every first scheduled run a whole interval away
        self.ran: list[str] = []
        self.fp = FastPath(list(self.entries.values()), run=self._run)
        self.sched = scheduler.build(list(self.entries.values()), now=timezone.now(), fastpath=self.fp)

    def _run(self, job_id: str, label: str) -> Any:
        self.ran.append(key(job_id, label))
        return scheduler.run_unit(job_id, label)

    def due_now(self) -> list[str]:
        """Units whose next run is now or past, earliest first (what APScheduler submits)."""
        now = timezone.now()
        jobs = [j for j in self.sched.get_jobs() if j.id != NUDGES_JOB and j.next_run_time <= now]
        return [j.id for j in sorted(jobs, key=lambda j: (j.next_run_time, j.id))]

    def run_due(self) -> list[str]:
        """Fire every due unit in order, as the one worker thread would; returns them."""
        fired: list[str] = []
        for unit in self.due_now():
            job = self.sched.get_job(unit)
            job.modify(next_run_time=timezone.now() + self.entries[unit].interval)  # as after a fire
            self.fp.fire(self.entries[unit])
            fired.append(unit)
        return fired


def test_an_order_change_nudges_and_reaches_the_platform_as_a_single_call(
    shop: Shop, sandbox: Any, accounts: dict[str, SandboxAccount], django_capture_on_commit_callbacks: Any
) -> None:
    run_sync()
    JobNudge.objects.all().delete()
    order = shop.orders["alice_fr"]
    main = shop.scope.main.pk
    with time_machine.travel(timezone.now(), tick=False) as clock:
        worker = Worker()
        # scheduled runs are minutes away: only the nudge can bring them forward
        assert worker.due_now() == []
        with django_capture_on_commit_callbacks(execute=True):  # a customer edit and a status change
            alice = shop.customers["alice"]
            alice.last_name = "Armstrong"
            alice.save()
            set_order_status(order, "complete")
        nudges = set(JobNudge.objects.values_list("job_id", "website_id"))
        assert ("orders", main) in nudges and ("contacts", main) in nudges

        assert worker.fp.tick() == []  # inside the debounce window: nothing yet
        clock.shift(DEBOUNCE)
        brought = worker.fp.tick()
        assert set(brought) == {"orders:main", "contacts:main"}
        assert not JobNudge.objects.exists()  # taken
        importer = worker.fp.importer_of[main]
        assert worker.due_now() == sorted(brought)

        assert worker.run_due() == sorted(brought)
        # the nudged batching runs end by bringing the importer forward at once
        assert worker.due_now() == [importer]
        assert worker.run_due() == [importer]

        # the order went as one single call, settled in that run
        row = Order.objects.get(order_id=order.pk)
        assert row.sync_status == SyncStatus.IMPORTED
        sent = Importer.objects.filter(import_type="Orders", website_id=main).order_by("-pk").first()
        assert sent is not None and sent.import_mode == ImportMode.SINGLE
        assert (
            view(sandbox, accounts["main"]).insight["Orders"][str(order.number)]["json"]["orderStatus"]
            == "complete"
        )

        # the contact's CSV import is in flight: the importer polls it again half a second later
        assert worker.due_now() == []
        clock.shift(timedelta(seconds=PROMPT_POLLS[0]))
        assert worker.due_now() == [importer]
        worker.run_due()
        assert not Importer.objects.filter(website_id=main, import_status=Importer.Status.IMPORTING).exists()
        contact = view(sandbox, accounts["main"]).contacts["alice@example.com"]
        assert contact["data_fields"]["LASTNAME"] == "Armstrong"
        # nothing in flight: no more prompt polls, the importer is back on its interval
        clock.shift(timedelta(seconds=30))
        assert worker.due_now() == []
    runs = JobRun.objects.filter(started_at__gte=row.updated_at - timedelta(minutes=1))
    assert {(r.job_id, r.outcome) for r in runs} >= {("orders", "success"), ("importer", "success")}


def test_a_burst_above_n_is_one_batch_import(
    shop: Shop, sandbox: Any, accounts: dict[str, SandboxAccount], django_capture_on_commit_callbacks: Any
) -> None:
    run_sync()
    WebsiteConfig.objects.filter(website=shop.scope.main).update(batch_sizes={"singles_below": 2})
    JobNudge.objects.all().delete()
    main = shop.scope.main.pk
    before = set(Importer.objects.values_list("pk", flat=True))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        worker = Worker()
        with django_capture_on_commit_callbacks(execute=True):
            for customer in ("alice", "carol", "alice"):  # three orders placed: the burst
                place_order(shop.customers[customer], [shop.products["mug"]], shop.scope.main_en)
        assert JobNudge.objects.filter(job_id="orders", website_id=main).count() == 1  # one nudge
        clock.shift(DEBOUNCE)
        assert "orders:main" in worker.fp.tick()
        worker.run_due()
        worker.run_due()  # the importer
    new = Importer.objects.exclude(pk__in=before).filter(import_type="Orders", website_id=main)
    assert [(i.import_mode, i.record_count) for i in new] == [(ImportMode.BULK_JSON, 3)]


def test_a_change_held_behind_its_first_send_follows_once_the_importer_settles(
    shop: Shop, sandbox: Any, accounts: dict[str, SandboxAccount], django_capture_on_commit_callbacks: Any
) -> None:
    run_sync()
    JobNudge.objects.all().delete()
    main = shop.scope.main.pk
    with time_machine.travel(timezone.now(), tick=False) as clock:
        worker = Worker()
        importer = worker.fp.importer_of[main]
        with django_capture_on_commit_callbacks(execute=True):
            order = place_order(shop.customers["alice"], [shop.products["mug"]], shop.scope.main_en)
        clock.shift(DEBOUNCE)
        assert "orders:main" in worker.fp.tick()
        worker.fp.fire(worker.entries["orders:main"])  # the order's single call is queued, not sent yet
        with django_capture_on_commit_callbacks(execute=True):
            set_order_status(order, "processing")  # changed again meanwhile
        worker.fp.fire(worker.entries["orders:main"])  # the row is held behind its queued call
        assert worker.fp.waiting[importer] == {"orders:main"}
        for _ in range(10):  # the worker thread, until nothing is due
            if not worker.run_due():
                break
            clock.shift(timedelta(seconds=PROMPT_POLLS[0]))
        assert importer in worker.ran and worker.ran.index(importer) < len(worker.ran) - 1
    held = view(sandbox, accounts["main"]).insight["Orders"][str(order.number)]["json"]
    assert held["orderStatus"] == "processing"
    assert Order.objects.get(order_id=order.pk).sync_status == SyncStatus.IMPORTED


def test_a_nudge_for_a_busy_unit_runs_it_again_when_it_ends(scope: Any, sandbox: Any) -> None:
    from dotsync.testing.platform_setup import configure_websites

    configure_websites(sandbox, [scope.main])
    worker = Worker()
    unit = "orders:main"
    worker.fp.running.add(unit)
    assert worker.fp.request(unit, nudged=True) is False  # running: not moved, asked again
    assert unit in worker.fp.again
    worker.fp.running.discard(unit)
    with time_machine.travel(timezone.now(), tick=False):
        worker.fp.fire(worker.entries[unit])  # the run ends: it is brought forward once more
        assert unit in worker.due_now()


REDIS_URL = os.environ.get("DOTSYNC_FASTPATH_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_db(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Redis database this test owns (flushed), as broker and lock store; a failure under CI=true."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Celery fast path needs Redis at {REDIS_URL}: {exc} (CI=true)")
        pytest.skip(f"the Celery fast path needs Redis at {REDIS_URL}: {exc}")
    client.flushdb()
    monkeypatch.setenv("DOTSYNC_REDIS_URL", REDIS_URL)
    from dotsync import celery

    celery._redis.cache_clear()
    monkeypatch.setattr(celery.app.conf, "broker_url", REDIS_URL)
    yield client
    celery._redis.cache_clear()
    client.flushdb()


def queued(client: Any) -> list[dict[str, Any]]:
    """The task messages waiting in Celery's default queue on the broker, as (task, args)."""
    out = []
    for raw in client.lrange("celery", 0, -1):
        msg = json.loads(raw)
        out.append({"task": msg["headers"]["task"], "args": msg["headers"]["argsrepr"]})
    return out


def test_under_celery_a_nudge_is_one_task_per_window_and_the_task_runs_the_fast_path(
    shop: Shop,
    sandbox: Any,
    accounts: dict[str, SandboxAccount],
    django_capture_on_commit_callbacks: Any,
    redis_db: Any,
) -> None:
    from dotsync import celery
    from dotsync.jobs import nudge

    run_sync()
    main = shop.scope.main.pk
    nudge.add_listener(celery.send_nudge)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = place_order(shop.customers["alice"], [shop.products["mug"]], shop.scope.main_en)
        with django_capture_on_commit_callbacks(execute=True):
            set_order_status(order, "complete")  # a second change inside the window: no second task
    finally:
        nudge.remove_listener(celery.send_nudge)
    tasks = queued(redis_db)
    assert sorted(t["args"] for t in tasks) == sorted([f"('orders', {main})", f"('contacts', {main})"])
    assert {t["task"] for t in tasks} == {celery.NUDGE_TASK}

    # what a worker does with the orders task: the nudged run (a single call) and the importer at once
    redis_db.delete("celery")
    result = celery.nudged.run("orders", main)
    held = view(sandbox, accounts["main"]).insight["Orders"][str(order.number)]["json"]
    assert held["orderStatus"] == "complete"
    sent = Importer.objects.filter(import_type="Orders", website_id=main).order_by("-pk").first()
    assert sent is not None and sent.import_mode == ImportMode.SINGLE
    assert result == {"job": "orders", "website": main, "in_flight": False}
    assert queued(redis_db) == []  # nothing in flight: no prompt poll sent


def test_prompt_polls_back_off_while_nothing_finishes_and_restart_when_an_import_does(
    scope: Any, sandbox: Any
) -> None:
    from types import SimpleNamespace

    from dotsync.testing.platform_setup import configure_websites

    configure_websites(sandbox, [scope.main])
    worker = Worker()
    importer = worker.fp.importer_of[scope.main.pk]
    entry = worker.entries[importer]
    Importer.objects.create(
        website=scope.main,
        import_type="Customer",
        import_status=Importer.Status.IMPORTING,
        import_id="in-flight-1",  # an import the platform is working on
    )

    def delays(**counts: int) -> list[float]:
        run = SimpleNamespace(counts={"main": counts})
        return [d for u, d in worker.fp.after(entry, False, run) if u == importer]

    assert [delays() for _ in range(3)] == [[0.5], [1.0], [2.0]]  # nothing finished: backing off
    assert delays(imported=1) == [0.5]  # an import finished: prompt again
    assert [delays() for _ in range(4)] == [[1.0], [2.0], [4.0], [8.0]]
    assert delays() == []  # then back to the importer's interval
    Importer.objects.filter(import_id="in-flight-1").update(import_status=Importer.Status.IMPORTED)
    assert delays(imported=1) == []  # nothing in flight: no poll
