"""The embedded scheduler behind ``dotsync run``: every registered job, per unit, at its frequency.

Each job runs per unit of its scope (:func:`dotsync.runtime.runs.units`) every ``job.frequency(cfg)``
minutes (per website; an account's unit takes the shortest frequency of its websites; 0 is
disabled). A unit's first run is offset at random within its interval, so many shops do not call the
platform at the same second (the reference's randomised cron offsets). APScheduler's
``BackgroundScheduler`` fires the runs, one at a time (one worker thread); each run goes through
:func:`~dotsync.runtime.runs.run_job` (lock, ``email_job_run``).

``dotsync run --once`` runs every *due* unit once: one that never ran, or whose last run started at
least its frequency ago (:func:`due`).
"""

from __future__ import annotations

import faulthandler
import functools
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from django.db import close_old_connections
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.jobs.base import JobScope
from dotsync.jobs.registry import ALL, JOBS
from dotsync.models import JobRun
from dotsync.runtime.fastpath import NUDGES_JOB, POLL_SECONDS, FastPath, fresh_connection
from dotsync.runtime.runs import Unit, last_run, run_job, units

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    """One scheduled unit: a job for a website or account, every ``minutes`` (0: disabled)."""

    unit: Unit
    minutes: int
    offset: float = 0.0
    """Seconds after the scheduler starts before the first run (random within the interval)."""

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self.unit.job.id

    @property
    def label(self) -> str:
        """The unit's label (website code or account label)."""
        return self.unit.label

    @property
    def interval(self) -> timedelta:
        """The time between runs."""
        return timedelta(minutes=self.minutes)


def frequency(unit: Unit) -> int:
    """Minutes between a unit's runs: its website's, or the shortest enabled one of its account's websites."""
    freqs = [unit.job.frequency(w.cfg) for w in unit.ctx.websites or unit.ctx.enabled]
    if unit.job.scope is JobScope.ACCOUNT:
        on = [f for f in freqs if f > 0]
        return min(on) if on else 0
    return freqs[0] if freqs else unit.job.default_frequency


def plan(ctx: RunContext | None = None, rng: random.Random | None = None) -> list[Entry]:
    """Every registered job's units with their frequency and a random first-run offset, in registry order."""
    ctx = ctx if ctx is not None else RunContext.resolve()
    rng = rng or random.Random()
    out: list[Entry] = []
    for job in ALL:
        for unit in units(job, ctx):
            minutes = frequency(unit)
            out.append(Entry(unit, minutes, rng.uniform(0, minutes * 60) if minutes else 0.0))
    return out


def due(entry: Entry, now: datetime | None = None) -> bool:
    """True when an enabled unit never ran, or its last run started at least its frequency ago."""
    if entry.minutes <= 0:
        return False
    last = last_run(entry.job_id, entry.label)
    return last is None or last.started_at + entry.interval <= (now or timezone.now())


def next_run(entry: Entry, now: datetime | None = None) -> datetime | None:
    """When the unit is next due (``now`` when it is due already; None when disabled)."""
    if entry.minutes <= 0:
        return None
    return next_after(entry, last_run(entry.job_id, entry.label), now)


def next_after(entry: Entry, last: JobRun | None, now: datetime | None = None) -> datetime | None:
    """:func:`next_run` given the unit's last run (read by the caller, e.g. many in one query)."""
    if entry.minutes <= 0:
        return None
    now = now or timezone.now()
    if last is None:
        return now
    return max(now, last.started_at + entry.interval)


def run_once(entries: list[Entry] | None = None, now: datetime | None = None) -> list[JobRun]:
    """``dotsync run --once``: run every due unit once, in registry order."""
    entries = plan() if entries is None else entries
    return [run_job(e.unit) for e in entries if due(e, now)]


def run_unit(job_id: str, label: str) -> JobRun | None:
    """Run one job for the unit labelled ``label`` through :func:`run_job`, the context resolved afresh.

    Settings edited since the plan was made apply now; None (nothing run) when the unit is no longer
    enabled. The embedded scheduler and the Celery task (:mod:`dotsync.celery`) both run units here.
    """
    ctx = RunContext.resolve()
    fresh = {u.label: u for u in units(JOBS[job_id], ctx)}.get(label)
    if fresh is None:
        logger.info("job %s [%s]: no longer enabled, not run", job_id, label)
        return None
    return run_job(fresh)


def _fire(entry: Entry) -> None:
    close_old_connections()
    try:
        run_unit(entry.job_id, entry.label)
    finally:
        close_old_connections()


def executors() -> dict[str, ThreadPoolExecutor]:
    """One worker each: the runs (``default``) and the fast path's ticks and re-plans (``nudges``)."""
    return {"default": ThreadPoolExecutor(max_workers=1), "nudges": ThreadPoolExecutor(max_workers=1)}


def new_scheduler(pools: dict[str, ThreadPoolExecutor]) -> BackgroundScheduler:
    """A background scheduler on ``pools``: runs never overlap, missed runs coalesce, times in UTC."""
    return BackgroundScheduler(
        executors=pools,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )


def build(
    entries: list[Entry],
    now: datetime | None = None,
    scheduler: Any = None,
    fastpath: FastPath | None = None,
    stop: threading.Event | None = None,
) -> Any:
    """An APScheduler scheduler (not started) with one interval job per enabled entry.

    Each entry's first run is ``now`` plus its offset, then every ``minutes``; runs never overlap
    within the process (one worker, ``max_instances=1``; missed runs coalesce into one).

    With ``fastpath`` (:mod:`dotsync.runtime.fastpath`), runs go through :meth:`FastPath.fire`, and a
    ``dotsync:nudges`` job (its own thread) reads the store's nudges every half second and brings
    the nudged units forward.

    With ``stop``, a run that was queued behind the running one (the executor's one worker) does
    nothing once ``stop`` is set, so a SIGTERM waits for the running step only (:func:`serve`).
    """
    now = now or timezone.now()
    sched = scheduler or new_scheduler(executors())
    fire = runner(fastpath, stop)
    if fastpath is not None:
        fastpath.sched = sched
        sched.add_job(
            _unless_stopping(fastpath.tick, stop),
            IntervalTrigger(seconds=POLL_SECONDS, timezone="UTC"),
            id=NUDGES_JOB,
            name="nudges",
            executor="nudges",
        )
        sched.add_listener(fastpath.on_max_instances, EVENT_JOB_MAX_INSTANCES)
    for entry in entries:
        if entry.minutes <= 0:
            continue
        first = now + timedelta(seconds=entry.offset)
        trigger = IntervalTrigger(minutes=entry.minutes, start_date=first, timezone="UTC")
        # next_run_time given: a first run already past when the scheduler starts still runs (the
        # trigger alone would skip to the next interval)
        sched.add_job(
            fire,
            trigger,
            args=[entry],
            id=f"{entry.job_id}:{entry.label}",
            name=entry.job_id,
            next_run_time=first,
        )
    return sched


SHUTDOWN_REPORT_SECONDS = 60
"""After a stop is asked, how long the running step may take before ``dotsync run`` reports its stacks."""


def runner(fastpath: FastPath | None, stop: threading.Event | None) -> Any:
    """What a scheduled unit's job calls: the fast path's :meth:`~FastPath.fire` (or a plain run)."""
    return _unless_stopping(fastpath.fire if fastpath is not None else _fire, stop)


def _unless_stopping(func: Any, stop: threading.Event | None) -> Any:
    """``func``, except that it returns at once (runs nothing) once ``stop`` is set."""
    if stop is None:
        return func

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if stop.is_set():
            return None
        return func(*args, **kwargs)

    return guarded


def first_runs(sched: Any) -> dict[str, datetime]:
    """Scheduler job id -> its first run time (what :func:`build` planned; not the nudge reader)."""
    return {job.id: job.next_run_time for job in sched.get_jobs() if job.id != NUDGES_JOB}


REPLAN_SECONDS = 60
"""How often ``dotsync run`` re-reads the plan, so settings saved meanwhile apply without a restart."""

REPLAN_JOB = "dotsync:replan"


class Replanner:
    """Applies a changed plan to a running scheduler: frequencies, websites or accounts added or removed.

    Settings are read afresh by every run already (:func:`run_unit`); what the plan fixes is which units
    exist and how often they run. A unit whose frequency changed, or a new one, gets a new interval
    starting at a random offset within it; a unit no longer planned is removed (its running step, if
    any, finishes).
    """

    def __init__(self, sched: Any, entries: list[Entry], fire: Any, fastpath: FastPath | None = None) -> None:
        self.sched, self.fire, self.fastpath = sched, fire, fastpath
        self.minutes = {f"{e.job_id}:{e.label}": e.minutes for e in entries if e.minutes > 0}

    def refresh(self, entries: list[Entry] | None = None, now: datetime | None = None) -> dict[str, int]:
        """Re-plan; returns the units added, changed and removed (counts)."""
        if entries is None:
            fresh_connection()
            try:
                entries = plan()
            finally:
                fresh_connection()
        now = now or timezone.now()
        wanted = {f"{e.job_id}:{e.label}": e for e in entries if e.minutes > 0}
        counts = {"added": 0, "changed": 0, "removed": 0}
        for job_key in [k for k in self.minutes if k not in wanted]:
            if self.sched.get_job(job_key) is not None:
                self.sched.remove_job(job_key)
            counts["removed"] += 1
        for job_key, entry in wanted.items():
            if self.minutes.get(job_key) == entry.minutes:
                continue
            first = now + timedelta(seconds=entry.offset)
            trigger = IntervalTrigger(minutes=entry.minutes, start_date=first, timezone="UTC")
            if self.sched.get_job(job_key) is not None:
                self.sched.reschedule_job(job_key, trigger=trigger)
                counts["changed"] += 1
            else:
                self.sched.add_job(
                    self.fire, trigger, args=[entry], id=job_key, name=entry.job_id, next_run_time=first
                )
                counts["added"] += 1
        self.minutes = {k: e.minutes for k, e in wanted.items()}
        if self.fastpath is not None:
            self.fastpath.reindex(list(wanted.values()))
        if any(counts.values()):
            logger.info("dotsync run: plan refreshed: %s", counts)
        return counts


def serve(stop: threading.Event, entries: list[Entry] | None = None) -> None:
    """Run the scheduler, with the fast path, until ``stop`` is set; the running step finishes, then stop.

    Every :data:`REPLAN_SECONDS` the plan is read again (:class:`Replanner`): frequencies, websites and
    accounts changed in the admin or with ``dotsync config set`` apply without a restart.
    """
    entries = plan() if entries is None else entries
    fastpath = FastPath(entries, run=run_unit)
    pools = executors()
    sched = build(entries, fastpath=fastpath, stop=stop, scheduler=new_scheduler(pools))
    replanner = Replanner(sched, entries, runner(fastpath, stop), fastpath)
    sched.add_job(
        _unless_stopping(replanner.refresh, stop),
        IntervalTrigger(seconds=REPLAN_SECONDS, timezone="UTC"),
        id=REPLAN_JOB,
        name="replan",
        executor="nudges",
    )
    sched.start()
    logger.info("dotsync run: %d scheduled job(s)", len(sched.get_jobs()))
    try:
        stop.wait()
    finally:
        # a step outliving SHUTDOWN_REPORT_SECONDS leaves every thread's stack on stderr (what it waits for)
        faulthandler.dump_traceback_later(SHUTDOWN_REPORT_SECONDS, exit=False)
        try:
            # not shutdown(wait=True): APScheduler joins the workers while holding its job-store lock,
            # and a finishing run's fast path asks the scheduler for a job under that lock (a deadlock
            # seen in CI). Stop the scheduler, then wait for the running step outside its locks.
            sched.shutdown(wait=False)
            for pool in pools.values():
                pool.shutdown(wait=True)  # the running step finishes; run_job releases its lock
        finally:
            faulthandler.cancel_dump_traceback_later()


def job_rows(now: datetime | None = None) -> list[dict[str, Any]]:
    """``dotsync jobs``: one row per job and unit (a job with no enabled unit gets one row, unit "")."""
    now = now or timezone.now()
    ctx = RunContext.resolve()
    entries = plan(ctx)
    rows: list[dict[str, Any]] = []
    for job in ALL:
        mine = [e for e in entries if e.job_id == job.id]
        if not mine:
            rows.append(_row(job.id, job.spec_name, job.scope, "", [], job.default_frequency, None, None))
        for e in mine:
            last = last_run(e.job_id, e.label)
            websites = [w.code for w in e.unit.ctx.websites or e.unit.ctx.enabled]
            rows.append(
                _row(job.id, job.spec_name, job.scope, e.label, websites, e.minutes, last, next_run(e, now))
            )
    return rows


def _row(
    job_id: str,
    spec_name: str,
    scope: str,
    unit: str,
    websites: list[str],
    minutes: int,
    last: JobRun | None,
    nxt: datetime | None,
) -> dict[str, Any]:
    return {
        "id": job_id,
        "spec_name": spec_name,
        "scope": str(scope),
        "unit": unit,
        "websites": websites,
        "frequency": minutes,
        "last_run": last.started_at.isoformat() if last else None,
        "finished": last.finished_at.isoformat() if last and last.finished_at else None,
        "outcome": last.outcome if last else None,
        "next_run": nxt.isoformat() if nxt else None,
    }
