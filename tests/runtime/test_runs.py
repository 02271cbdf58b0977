"""``run_job``: its outcomes (success, failed with errors or an exception, skipped, locked), the error
text without personal data, and the "from time" (last successful finish, else now - 24 h)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.jobs.base import JobResult
from dotsync.jobs.registry import JOBS
from dotsync.models import JobLease, JobRun, RunOutcome
from dotsync.runtime.locks import LeaseLock
from dotsync.runtime.runs import FROM_TIME_FALLBACK, Unit, from_time, run_job, units
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.scope import Scope


@pytest.fixture
def unit(scope: Scope, sandbox: Any) -> Unit:
    configure_websites(sandbox, [scope.main])
    return units(JOBS["orders"], RunContext.resolve())[0]


def test_success_records_counts_and_releases_the_lock(unit: Unit) -> None:
    def work(u: Unit) -> JobResult:
        result = JobResult(u.job.id)
        result.add("main", "batched", 3)
        return result

    run = run_job(unit, execute=work)
    assert (run.outcome, run.counts, run.error) == (RunOutcome.SUCCESS, {"main": {"batched": 3}}, "")
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert not JobLease.objects.exists()


def test_errors_and_exceptions_fail_the_run_without_personal_data(unit: Unit) -> None:
    def errors(u: Unit) -> JobResult:
        return JobResult(u.job.id, errors=["website main: order of ann@example.com refused"])

    def boom(u: Unit) -> JobResult:
        raise RuntimeError("cannot read bob.smith+x@shop.example.co.uk")

    first, second = run_job(unit, execute=errors), run_job(unit, execute=boom)
    assert (first.outcome, second.outcome) == (RunOutcome.FAILED, RunOutcome.FAILED)
    assert first.error == "website main: order of <email> refused"
    assert second.error == "RuntimeError: cannot read <email>"
    assert not JobLease.objects.exists()  # released after a crash too


def test_a_held_lock_records_locked_and_runs_nothing(unit: Unit) -> None:
    holder = LeaseLock(unit.job.lock_key(unit.label))
    assert holder.acquire()
    ran: list[Unit] = []
    run = run_job(unit, execute=lambda u: ran.append(u) or JobResult(u.job.id))
    assert run.outcome == RunOutcome.LOCKED and not ran
    assert JobLease.objects.get().owner == holder.owner  # the holder's lease is left alone


def test_nothing_enabled_is_skipped(db: None) -> None:
    run = run_job(Unit(JOBS["orders"], "gone", RunContext()), execute=lambda u: pytest.fail("ran"))
    assert run.outcome == RunOutcome.SKIPPED


def test_from_time_is_the_last_successful_finish(unit: Unit) -> None:
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False) as clock:
        assert from_time("orders", "main") == timezone.now() - FROM_TIME_FALLBACK
        ok = run_job(unit, execute=lambda u: JobResult(u.job.id))
        clock.shift(timedelta(minutes=15))
        run_job(unit, execute=lambda u: JobResult(u.job.id, errors=["down"]))
        assert from_time("orders", "main") == ok.finished_at
        assert JobRun.objects.count() == 2


def test_a_dead_runs_running_row_becomes_interrupted_when_the_next_run_takes_the_lock(unit: Unit) -> None:
    """A process killed mid-run leaves ``running``; the next run of the unit (its lease expired) closes it."""
    dead = JobRun.objects.create(
        job_id=unit.job.id, scope=unit.label, started_at=timezone.now() - timedelta(hours=1)
    )
    other = JobRun.objects.create(job_id="contacts", scope=unit.label, started_at=timezone.now())
    run = run_job(unit, execute=lambda u: JobResult(u.job.id))
    dead.refresh_from_db()
    other.refresh_from_db()
    assert run.outcome == RunOutcome.SUCCESS
    assert (dead.outcome, dead.finished_at) == (RunOutcome.INTERRUPTED, run.started_at)
    assert other.outcome == RunOutcome.RUNNING  # another job's unit: not this lock's to judge


def test_catalog_units_share_one_lock_and_each_covers_every_website(
    accounts: dict[str, Any], scope: Scope
) -> None:
    """The catalogue's rows have no website: catalog[main] and catalog[outlet] must never run at once.

    Under Celery two workers ran them together; each settled shared rows for its own target only, so
    outlet's Catalog_Default missed products. Now the units share one lock, and a run started by either
    unit queues the catalogue for every website it is scheduled for.
    """
    from dotsync.models import Importer

    cat = units(JOBS["catalog"], RunContext.resolve())
    assert [u.label for u in cat] == ["main", "outlet"]
    assert cat[0].job.lock_key(cat[0].label) == cat[1].job.lock_key(cat[1].label)
    holder = LeaseLock(cat[0].job.lock_key(cat[0].label))
    assert holder.acquire()
    assert run_job(cat[1]).outcome == RunOutcome.LOCKED  # outlet waits for main's run, never beside it
    holder.release()
    run = run_job(cat[0])  # main's unit only
    assert run.outcome == RunOutcome.SUCCESS, run.error
    queued = set(Importer.objects.filter(import_type="Catalog_Default").values_list("website_id", flat=True))
    assert queued == {scope.main.pk, scope.outlet.pk}
    assert run_job(cat[1]).counts.get("outlet", {}).get("batches", 0) == 0  # nothing left for outlet's unit
