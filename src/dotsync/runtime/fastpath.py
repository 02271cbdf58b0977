"""The fast path of ``dotsync run``: a store change on the platform in seconds, not at the next interval.

1. **Nudged.** The store's observers write an ``email_job_nudge`` row per (job, website) after their
   commit (:mod:`dotsync.jobs.nudge`), from whatever process the shop runs in.
2. **Debounced wake-up.** Every :data:`POLL_SECONDS` the scheduler's ``dotsync:nudges`` job calls
   :meth:`FastPath.tick`: nudges older than the debounce window (:data:`DEBOUNCE`, from the first
   change) are taken (deleted, so of two schedulers on one database only one takes each) and the
   job's unit for that website is brought forward to run now. A unit that is running or queued is
   asked to run again as soon as it finishes instead (what it already read is not re-read).
3. **The importer at once.** When a nudged batching run ends, the importer unit of the website's
   account is brought forward; a nudged run sends by the singles-below-N rule
   (:func:`dotsync.jobs.nudge.singles_below`).
4. **Prompt polls.** While the account has imports in flight, the importer runs again after
   :data:`PROMPT_POLLS` seconds (0.5, 1, 2, 4, 8: backing off while its polls find no import
   finished, back to 0.5 when one does), then falls back to its interval.
5. **Held rows.** A batching run that left rows waiting (held for an import in flight, e.g. an order
   changed again while its first version was being sent) runs again once its importer has settled
   something, so the second change does not wait for the next interval.

Every run still goes through :func:`~dotsync.runtime.scheduler.run_unit` (locks, ``email_job_run``),
in the scheduler's one worker thread, so nudged and scheduled runs never overlap in a process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import close_old_connections, connection
from django.utils import timezone

from dotsync.jobs.base import JobScope
from dotsync.jobs.nudge import IMPORTER
from dotsync.jobs.singles import fast_path
from dotsync.models import Importer, JobNudge, RunOutcome
from dotsync.models.importer import ImportStatus
from dotsync.runtime.runs import Unit, account_label, run_job, units


class Entry(Protocol):
    """What the fast path reads of a scheduler entry (:class:`dotsync.runtime.scheduler.Entry`)."""

    unit: Unit
    minutes: int

    @property
    def job_id(self) -> str:
        """The job's id."""

    @property
    def label(self) -> str:
        """The unit's label."""


logger = logging.getLogger(__name__)

DEBOUNCE = timedelta(seconds=1)
"""How long a nudge waits from the first change, so a burst of changes is one run."""

POLL_SECONDS = 0.5
"""How often the scheduler reads ``email_job_nudge``."""

PROMPT_POLLS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds before the importer runs again while its account has imports in flight (backing off)."""

RERUNS = 3
"""At most this many rounds of (unit, importer) in one :func:`run_nudged`."""

NUDGES_JOB = "dotsync:nudges"
"""The scheduler job id of :meth:`FastPath.tick`."""


def key(job_id: str, label: str) -> str:
    """The scheduler's job id for a unit (as :func:`dotsync.runtime.scheduler.build` names it)."""
    return f"{job_id}:{label}"


class FastPath:
    """The nudge handling of one scheduler: which units run soon, which are busy, prompt importer polls.

    Args:
        entries: the scheduler's plan (website units of batching jobs, account units of the importer).
        debounce: how long a nudge waits from its first change.
        prompt_polls: the importer's re-run delays while imports are in flight.
        run: runs one unit by job id and label (the scheduler passes its ``run_unit``).
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        *,
        debounce: timedelta = DEBOUNCE,
        prompt_polls: tuple[float, ...] = PROMPT_POLLS,
        run: Callable[[str, str], Any],
    ) -> None:
        self.debounce = debounce
        self.prompt_polls = prompt_polls
        self._run = run
        self.sched: Any = None
        self.units: dict[tuple[str, int], str] = {}
        """(job id, website id) -> scheduler job id of an enabled unit."""
        self.importer_of: dict[int, str] = {}
        """website id -> scheduler job id of its account's importer unit."""
        self.importer_websites: dict[str, list[int]] = {}
        self.reindex(entries)
        self.queued: set[str] = set()
        """Units brought forward whose run has not started (a second request adds nothing)."""
        self.running: set[str] = set()
        """Units running in this process (a request runs them again when they end)."""
        self.again: set[str] = set()
        """Units to run again as soon as their current run ends."""
        self.nudged: set[str] = set()
        """Units whose next run is a nudged one."""
        self.polls: dict[str, int] = {}
        """Importer unit -> how many prompt polls in a row."""
        self.waiting: dict[str, set[str]] = {}
        """Importer unit -> batching units that left rows waiting, to run again once it settles something."""
        self._lock = threading.Lock()

    def reindex(self, entries: Sequence[Entry]) -> None:
        """Which unit runs what, from the scheduler's (new) plan: websites and accounts may have changed."""
        units: dict[tuple[str, int], str] = {}
        importer_of: dict[int, str] = {}
        importer_websites: dict[str, list[int]] = {}
        for e in entries:
            if e.minutes <= 0:
                continue
            k = key(e.job_id, e.label)
            if e.unit.job.scope is JobScope.ACCOUNT:
                if e.job_id == IMPORTER:
                    for account in e.unit.ctx.accounts:
                        importer_websites[k] = list(account.website_ids)
                        for wid in account.website_ids:
                            importer_of[wid] = k
                continue
            for w in e.unit.ctx.enabled:
                units[(e.job_id, w.website.pk)] = k
        self.units, self.importer_of, self.importer_websites = units, importer_of, importer_websites

    # --- reading nudges ----------------------------------------------------------------------------

    def take(self, now: datetime | None = None) -> list[str]:
        """Take the nudges whose debounce window has passed; returns the units to run, in plan order.

        A nudge for a unit this scheduler does not run (disabled, or a website enabled since the
        plan) is dropped: the scheduled runs cover it.
        """
        now = now or timezone.now()
        rows = list(
            JobNudge.objects.filter(nudged_at__lte=now - self.debounce).values_list(
                "pk", "job_id", "website_id", "nudged_at"
            )
        )
        out: list[str] = []
        for pk, job_id, website_id, nudged_at in rows:
            unit = (
                self.importer_of.get(website_id)
                if job_id == IMPORTER
                else self.units.get((job_id, website_id))
            )
            # deleted only as it was read: a scheduler that took it first, or a newer nudge, wins
            taken = JobNudge.objects.filter(pk=pk, nudged_at=nudged_at).delete()[0]
            if taken and unit is not None and unit not in out:
                out.append(unit)
        return out

    def tick(self, now: datetime | None = None) -> list[str]:
        """One wake-up: take due nudges and bring their units forward. Returns the units brought forward."""
        fresh_connection()
        try:
            units = self.take(now)
        finally:
            fresh_connection()
        for unit in units:
            self.request(unit, nudged=True)
        return units

    # --- bringing runs forward ---------------------------------------------------------------------

    def request(self, unit: str, *, nudged: bool = False, delay: float = 0.0) -> bool:
        """Run ``unit`` after ``delay`` seconds (now by default), or again once its current run ends.

        Returns True when the scheduler's job was moved (False: queued or running already, or no such
        job).
        """
        with self._lock:
            if nudged:
                self.nudged.add(unit)
            if unit in self.running:  # it may have read its rows before this change
                self.again.add(unit)
                return False
            if unit in self.queued:  # its run has not started: it will see this change
                return False
            job = self.sched.get_job(unit) if self.sched is not None else None
            if job is None:
                return False
            self.queued.add(unit)
        job.modify(next_run_time=timezone.now() + timedelta(seconds=delay))
        return True

    def on_max_instances(self, event: Any) -> None:
        """APScheduler skipped a run of a busy unit: run it again when the current run ends."""
        with self._lock:
            self.queued.discard(event.job_id)
            self.again.add(event.job_id)

    def fire(self, entry: Entry) -> None:
        """Run one scheduled or nudged unit, then what follows it on the fast path."""
        unit = key(entry.job_id, entry.label)
        with self._lock:
            self.queued.discard(unit)
            self.running.add(unit)
            nudged = unit in self.nudged
            self.nudged.discard(unit)
        fresh_connection()
        try:
            if nudged:
                with fast_path():
                    run = self._execute(entry)
            else:
                run = self._execute(entry)
            follow = self.after(entry, nudged, run)
        finally:
            fresh_connection()
            with self._lock:
                self.running.discard(unit)
                again = unit in self.again
                self.again.discard(unit)
        if again:
            self.request(unit, nudged=True)
        for other, delay in follow:
            self.request(other, nudged=True, delay=delay)

    def _execute(self, entry: Entry) -> Any:
        return self._run(entry.job_id, entry.label)

    def after(self, entry: Entry, nudged: bool, run: Any = None) -> list[tuple[str, float]]:
        """What runs next, given the unit's recorded run (``email_job_run`` counts).

        * after a nudged batching run: its account's importer, at once;
        * after a batching run that left rows waiting (held for an import in flight, or for their
          contact): the same unit again once its importer has settled something;
        * after an importer run: the units waiting for it when it settled something, and a prompt
          poll while imports are in flight, or after a run found the importer locked by another
          process (backing off while its polls find none finished).
        """
        unit = key(entry.job_id, entry.label)
        if entry.job_id != IMPORTER:
            importers = sorted(
                {
                    self.importer_of[w.website.pk]
                    for w in entry.unit.ctx.enabled
                    if w.website.pk in self.importer_of
                }
            )
            if count(run, "waiting"):
                with self._lock:
                    for importer in importers:
                        self.waiting.setdefault(importer, set()).add(unit)
            return [(u, 0.0) for u in importers] if nudged else []
        follow: list[tuple[str, float]] = []
        # a run another process held the lock for may have left work queued (two schedulers, or a
        # worker): poll again promptly, as while imports fly, instead of waiting a whole interval
        locked = getattr(run, "outcome", None) == RunOutcome.LOCKED
        websites = self.importer_websites.get(unit)
        flying = locked or (bool(websites) and in_flight(websites or []))
        with self._lock:
            if count(run, "imported") or count(run, "sent"):
                follow += [(u, 0.0) for u in sorted(self.waiting.pop(unit, set()))]
            elif not flying:
                self.waiting.pop(unit, None)  # nothing settled, nothing to wait for
        if not flying:
            self.polls.pop(unit, None)
            return follow
        if count(run, "imported"):
            self.polls[unit] = 0  # imports are finishing: keep polling promptly
        n = self.polls.get(unit, 0)
        if n >= len(self.prompt_polls):
            self.polls.pop(unit, None)
            return follow
        self.polls[unit] = n + 1
        return [*follow, (unit, self.prompt_polls[n])]


def count(run: Any, name: str) -> int:
    """A counter of a recorded run (:class:`~dotsync.models.JobRun`), summed over its websites; 0 for None."""
    counts = getattr(run, "counts", None) or {}
    return sum(int(c.get(name, 0)) for c in counts.values() if isinstance(c, dict))


def fresh_connection() -> None:
    """Drop this thread's database connection if it is broken or old (never inside a transaction)."""
    if not connection.in_atomic_block:  # a caller's transaction (a test's) is not ours to close
        close_old_connections()


def in_flight(website_ids: list[int]) -> bool:
    """True when the websites have imports the platform is working on (the importer should poll)."""
    return (
        Importer.objects.filter(website_id__in=website_ids, import_status=ImportStatus.IMPORTING)
        .exclude(import_id="")
        .exists()
    )


def run_nudged(job_id: str, website_id: int) -> bool:
    """The fast path without ``dotsync run`` (the Celery task ``dotsync.nudged``): one nudge, run now.

    Runs the nudged job's unit for the website (as a nudged run, unless the job is off for it), then
    the importer of the website's account, each through :func:`~dotsync.runtime.runs.run_job` (same
    locks and ``email_job_run`` as the scheduler); again (up to :data:`RERUNS` rounds) while the
    unit leaves rows waiting and the importer settles something.

    Returns:
        True when the account still has imports in flight (the caller polls again soon).
    """
    from dotsync.accounts import RunContext
    from dotsync.jobs.registry import JOBS

    ctx = RunContext.resolve()
    website = next((w for w in ctx.enabled if w.website.pk == website_id), None)
    if website is None:
        return False
    job = JOBS.get(job_id)
    unit = None
    if job is not None and job_id != IMPORTER and job.frequency(website.cfg) > 0:
        unit = next((u for u in units(job, ctx) if u.label == website.code), None)
    account = next((a for a in ctx.accounts if website_id in a.website_ids), None)
    label = account_label(account) if account is not None else ""
    importer = next((u for u in units(JOBS[IMPORTER], ctx) if u.label == label), None)
    for _ in range(RERUNS):
        waiting = 0
        if unit is not None:
            with fast_path():
                waiting = count(run_job(unit), "waiting")
        if importer is None:
            return False
        settled = run_job(importer)
        if not (waiting and (count(settled, "imported") or count(settled, "sent"))):
            break  # rows waiting for what the importer just settled: run the unit again
    return account is not None and in_flight(account.website_ids)
