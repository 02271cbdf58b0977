"""One recorded run of one job for one unit of its scope: lock, ``email_job_run`` row, run, outcome.

:func:`run_job` never waits for a lock: a run that finds its job's lock held records ``locked`` and
returns. The run's unit is a website code (jobs per website or per store: a store's lock is its
website's), or an account's label (jobs per account, see :func:`account_label`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from dotsync import usage
from dotsync.accounts import Account, RunContext, group_accounts
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.models import JobRun, RunOutcome
from dotsync.runtime.locks import DEFAULT_TTL, Heartbeat, Lock, make_lock

logger = logging.getLogger(__name__)

FROM_TIME_FALLBACK = timedelta(hours=24)
"""How far back :func:`from_time` reaches for a job that never succeeded (the reference's now - 24 h)."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
MAX_ERROR = 4000


def account_label(account: Account) -> str:
    """A stable name for an account's unit: ``account:`` and a short hash of its identity (no API user)."""
    return account.label


def redact(text: str) -> str:
    """Error text fit for the table: email addresses masked, at most :data:`MAX_ERROR` characters."""
    return _EMAIL.sub("<email>", text)[:MAX_ERROR]


@dataclass(frozen=True)
class Unit:
    """What one run covers: a job and the label of its unit, with the context to run it in."""

    job: Job
    label: str
    ctx: RunContext


def units(job: Job, ctx: RunContext) -> list[Unit]:
    """The units ``job`` runs for in ``ctx``: its websites (per website or store) or its accounts."""
    if job.scope is JobScope.ACCOUNT:
        return [Unit(job, account_label(a), account_context(ctx, a)) for a in ctx.accounts]
    return [Unit(job, w.code, website_context(ctx, w.code)) for w in ctx.websites_where(job.toggle)]


def website_context(ctx: RunContext, code: str) -> RunContext:
    """``ctx`` narrowed to one website (its problems too)."""
    enabled = [w for w in ctx.enabled if w.code == code]
    valid = [w for w in ctx.websites if w.code == code]
    accounts = [a for a in ctx.accounts if any(w.code == code for w in a.websites)]
    problems = [] if valid else [p for w in enabled for p in w.cfg.problems()]
    return RunContext(code, enabled, valid, problems, accounts)


def account_context(ctx: RunContext, account: Account) -> RunContext:
    """``ctx`` narrowed to one account's websites."""
    return RunContext(None, list(account.websites), list(account.websites), [], [account])


def last_run(job_id: str, scope: str, *, success: bool = False) -> JobRun | None:
    """The latest started run of a job for a unit (``success``: the latest that succeeded), or None."""
    runs = JobRun.objects.filter(job_id=job_id, scope=scope).exclude(outcome=RunOutcome.LOCKED)
    if success:
        runs = runs.filter(outcome=RunOutcome.SUCCESS)
    return runs.order_by("-started_at", "-id").first()


def from_time(job_id: str, scope: str = "", *, now: datetime | None = None) -> datetime:
    """A job's "from time": its last successful finish for the unit, else now minus 24 hours."""
    run = last_run(job_id, scope, success=True)
    if run is not None and run.finished_at is not None:
        return run.finished_at
    return (now or timezone.now()) - FROM_TIME_FALLBACK


def run_job(
    unit: Unit,
    *,
    ttl: timedelta = DEFAULT_TTL,
    lock_factory: Callable[[str, timedelta], Lock] = make_lock,
    execute: Callable[[Unit], JobResult] | None = None,
) -> JobRun:
    """Run one job for one unit, at most once at a time: take its lock or record ``locked``.

    Args:
        unit: the job and unit (see :func:`units`).
        ttl: the lock's time to live (renewed every third of it while the job runs).
        lock_factory: makes the lock (a lease row, or Redis when configured).
        execute: runs the job (default ``unit.job.run(unit.ctx)``); tests pass a slow one.

    Returns:
        The recorded :class:`~dotsync.models.JobRun`: ``success``, ``failed`` (the job reported errors
        or raised; the error text has no email address), ``locked`` or ``skipped`` (nothing enabled).
        Queued work is never touched here: a run that fails leaves its rows queued. An earlier run of
        the unit still marked ``running`` (its process died) becomes ``interrupted``.
    """
    job = unit.job
    lock = lock_factory(job.lock_key(unit.label), ttl)
    started = timezone.now()
    if not lock.acquire():
        logger.info("job %s [%s]: locked by another run, skipped", job.id, unit.label)
        return JobRun.objects.create(
            job_id=job.id,
            scope=unit.label,
            started_at=started,
            finished_at=started,
            outcome=RunOutcome.LOCKED,
        )
    try:
        # holding the lock proves that an older run of this unit still marked running is dead
        JobRun.objects.filter(job_id=job.id, scope=unit.label, outcome=RunOutcome.RUNNING).update(
            outcome=RunOutcome.INTERRUPTED, finished_at=started
        )
        run = JobRun.objects.create(job_id=job.id, scope=unit.label, started_at=started)
        if not (unit.ctx.enabled or unit.ctx.accounts):
            run.outcome = RunOutcome.SKIPPED
        else:
            try:
                with Heartbeat(lock, ttl):
                    result = (execute or _execute)(unit)
                run.counts = result.counts
                run.error = redact("\n".join(result.errors))
                run.outcome = RunOutcome.FAILED if result.errors else RunOutcome.SUCCESS
            except Exception as exc:  # recorded; the scheduler goes on with the next run
                logger.exception("job %s [%s] failed", job.id, unit.label)
                run.outcome = RunOutcome.FAILED
                run.error = redact(f"{type(exc).__name__}: {exc}")
        usage.flush_all()  # the run's API usage per hour, for the dashboard
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "counts", "error", "finished_at"])
        return run
    finally:
        lock.release()


def _execute(unit: Unit) -> JobResult:
    return unit.job.run(shared_context(unit.job) if unit.job.shared_rows else unit.ctx)


def shared_context(job: Job) -> RunContext:
    """Every enabled website the job is scheduled for (frequency not "disabled"): a shared-rows run's scope.

    The rows of a job with ``shared_rows`` belong to no website, and their hash covers every target,
    so each run must see the same websites, whichever unit's schedule started it.
    """
    full = RunContext.resolve()
    enabled = [w for w in full.enabled if job.frequency(w.cfg) > 0]
    valid = [w for w in full.websites if job.frequency(w.cfg) > 0]
    problems = [p for w in enabled if w not in valid for p in w.cfg.problems()]
    return RunContext(None, enabled, valid, problems, group_accounts(valid))
