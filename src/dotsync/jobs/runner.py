"""``dotsync sync all``: run every registered job in dependency order, the importer until its queue drains.

The order is :func:`dotsync.jobs.registry.sync_order` (each job's declared ``after``): the jobs before
the importer are batched in passes (see :data:`MAX_PASSES`), each pass then draining the importer;
the jobs after it (campaign sends, the cleaner, the monitor) run once the queue drained.

**Re-sync.** Running every job again right after sends nothing: no call writes (``api_writes`` is 0).
The platform feeds (``unsubscriber``, ``resubscriber``) still read their change feeds; those reads
are counted apart (``api_reads``), and ``api_calls`` is both.

The importer is run in rounds. Between rounds the runner sleeps until something can change: the
earliest import in progress is expected to be done, or a deferred row comes due. How long imports
take is learnt as it goes (:class:`Pace`): an import polled too early costs a call, so polls start
after the current estimate, which doubles whenever a poll finds imports still running and shrinks
when they are found done. That keeps API calls near the minimum — one start and one status poll per
import (plus one fault-report call per contact import) — whatever the platform's speed.

The loop stops when no importer row of the websites in scope is pending or importing (``drained``),
when only rows deferred for longer than :data:`HORIZON` remain (``deferred``: the next run takes
them), when due rows cannot move (``stalled``: the errors say why), or at ``max_rounds`` /
``timeout``.

**Stall limit.** When no platform call got an answer and no row moved for ``stall_limit`` seconds
(:data:`DEFAULT_STALL_LIMIT`, 2 minutes), the loop stops ``stalled``: an account that is down (its
circuit breaker open) never keeps ``sync all`` running; its rows stay queued for the next run. An
answer of any kind (even "still importing" or a 429) counts as progress, so a slow but healthy
platform is waited for. A call already in flight is not interrupted: with timeouts as the failure,
the run ends within about the stall limit plus two calls' timeouts (the breaker opens after two slow
failures).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone

from dotsync import accounts, usage
from dotsync.accounts import RunContext
from dotsync.jobs import importer
from dotsync.jobs.base import JobResult
from dotsync.jobs.health import Health
from dotsync.jobs.health import check as check_health
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus

Progress = Callable[[dict[str, Any]], None]
"""Called after every step with a snapshot (``phase``, ``job``, ``round``, ``pending``, ...)."""


@dataclass
class Pace:
    """The learnt time an import takes before a status poll is worth a call.

    Attributes:
        estimate: seconds after its start before an import is polled.
        floor: the shortest estimate.
        ceiling: the longest estimate (also the longest sleep).
    """

    estimate: float = 0.25
    floor: float = 0.1
    ceiling: float = 30.0

    def learn(self, result: JobResult) -> None:
        """Adjust after a round: slower when polls found imports running, faster when all were done."""
        running, done = result.total("in_progress"), result.total("imported") + result.total("failed")
        if running:
            self.estimate = min(self.ceiling, self.estimate * 2)
        elif done:
            self.estimate = max(self.floor, self.estimate * 0.75)


@dataclass
class Queue:
    """What is left in the importer queue of the websites in scope."""

    pending: int = 0
    due: int = 0
    importing: int = 0
    oldest_started: datetime | None = None
    next_attempt: datetime | None = None

    @classmethod
    def read(cls, website_ids: list[int], now: datetime) -> Queue:
        """Count the queue (three small aggregate queries)."""
        rows = Importer.objects.filter(website_id__in=website_ids)
        pending = rows.filter(import_status=ImportStatus.PENDING)
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        importing = rows.filter(import_status=ImportStatus.IMPORTING)
        return cls(
            pending=pending.count(),
            due=pending.filter(due).count(),
            importing=importing.count(),
            oldest_started=importing.exclude(import_id="").aggregate(t=Min("import_started"))["t"],
            next_attempt=pending.exclude(due).aggregate(t=Min("next_attempt_at"))["t"],
        )

    @property
    def drained(self) -> bool:
        """True when nothing is pending or importing."""
        return not (self.pending or self.importing)


DEFAULT_STALL_LIMIT = 120.0
"""Seconds without any platform answer or moved row after which ``sync all`` stops (``--stall-limit``)."""


@dataclass
class Stall:
    """Watches for a run that makes no progress: no answer from the platform and no row moved.

    Attributes:
        limit: seconds without progress before the run stops (None: never).
        clock: the time source in seconds: the wall clock, as the circuit breaker's, so both move
            together (and with time-machine in tests).
    """

    limit: float | None = DEFAULT_STALL_LIMIT
    clock: Callable[[], float] = time.time
    last_progress: float = field(default=0.0)
    answered: int = -1

    def __post_init__(self) -> None:
        self.last_progress = self.clock()
        self.answered = api_answers()

    def observe(self, moved: int) -> bool:
        """After a round: progress when rows moved or the platform answered since the last look.

        Returns:
            True when the round made progress.
        """
        answered = api_answers()
        progressed = bool(moved or answered > self.answered)
        if progressed:
            self.last_progress = self.clock()
        self.answered = answered
        return progressed

    def would_expire(self, wait: float = 0.0) -> bool:
        """True when waiting ``wait`` more seconds would pass the limit with no progress."""
        return self.limit is not None and self.clock() + wait - self.last_progress > self.limit


@dataclass
class SyncSummary:
    """What ``sync_all`` did."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    importer: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rounds: int = 0
    drained: bool = False
    stopped: str = ""
    remaining: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    api_reads: int = 0
    elapsed: float = 0.0
    health: Health = field(default_factory=Health)

    def add(self, result: JobResult) -> None:
        """Fold one importer round into the totals."""
        for code, counts in result.counts.items():
            bucket = self.importer.setdefault(code, {})
            for key, n in counts.items():
                bucket[key] = bucket.get(key, 0) + n
        self.errors.extend(e for e in result.errors if e not in self.errors)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``dotsync sync all --json``)."""
        return {
            "jobs": self.jobs,
            "importer": self.importer,
            "errors": self.errors,
            "rounds": self.rounds,
            "drained": self.drained,
            "stopped": self.stopped,
            "remaining": self.remaining,
            "api_calls": self.api_calls,
            "api_reads": self.api_reads,
            "api_writes": self.api_calls - self.api_reads,
            "elapsed_seconds": round(self.elapsed, 3),
            "failed": self.failed(),
            **self.health.as_dict(),
        }

    def failed(self) -> int:
        """Rows that failed for good in this run (importer rows and batched records)."""
        jobs = sum(c.get("failed", 0) for entry in self.jobs.values() for c in entry["counts"].values())
        return jobs + sum(c.get("failed", 0) for c in self.importer.values())


def run_batchers(
    website_code: str | None = None,
    progress: Progress | None = None,
    after_each: Callable[[], None] | None = None,
    *,
    ctx: RunContext | None = None,
    first_pass: bool = True,
) -> dict[str, JobResult]:
    """Run once every job that comes before the importer in :func:`~dotsync.jobs.registry.sync_order`.

    Records whose contact row is missing (a customer's first order in another website, a guest
    order) create that row while they wait: ``contacts`` is declared after the jobs that create rows,
    so it sends those contacts in the same pass, and a first sync needs two passes and one batch run
    per stream.

    Args:
        website_code: only this website; None for every enabled website.
        progress: called before each job.
        after_each: called after each job (``sync all`` starts the job's imports there).
        ctx: the run's websites and accounts (None: resolved here for ``website_code``).
        first_pass: False for a later pass of the same ``sync all``, which leaves out the jobs
            that run :attr:`~dotsync.jobs.base.Job.once_per_sync`.
    """
    from dotsync.jobs.registry import batching_jobs

    ctx = ctx or RunContext.resolve(website_code)
    results: dict[str, JobResult] = {}
    for job in batching_jobs():
        if job.once_per_sync and not first_pass:
            continue
        if progress:
            progress({"phase": "batch", "job": job.id})
        results[job.id] = job.run(ctx)
        if after_each:
            after_each()
    return results


def run_after_importer(progress: Progress | None, summary: SyncSummary, *, ctx: RunContext) -> None:
    """Run once every job after the importer in :func:`~dotsync.jobs.registry.sync_order`.

    Those are the sends that need contacts on the platform, then the housekeeping; their results are
    folded into ``summary``.
    """
    from dotsync.jobs.registry import split_at_importer

    for job in split_at_importer()[1]:
        if progress:
            progress({"phase": "batch", "job": job.id})
        result = job.run(ctx)
        _fold_job(summary.jobs, job.id, result)
        summary.errors.extend(e for e in result.errors if e not in summary.errors)


def drain(
    website_code: str | None = None,
    *,
    max_rounds: int | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
    summary: SyncSummary | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stall: Stall | None = None,
    ctx: RunContext | None = None,
) -> SyncSummary:
    """Run the importer until the queue of the websites in scope drains (or a limit is reached).

    ``ctx`` is the run's websites and accounts (None: resolved here for ``website_code``); every round
    uses it, so settings are read once per drain.
    """
    summary = summary or SyncSummary()
    stall = stall or Stall()
    summary.drained, summary.stopped = False, ""
    ctx = ctx or RunContext.resolve(website_code)
    website_ids = ctx.website_ids
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    pace = Pace()
    while True:
        result = importer.run(ctx=ctx, poll_min_age=pace.estimate)
        summary.rounds += 1
        summary.add(result)
        pace.learn(result)
        now = timezone.now()
        queue = Queue.read(website_ids, now)
        if progress:
            progress(_snapshot(summary, queue, result))
        if queue.drained:
            summary.drained, summary.stopped = True, "drained"
            break
        if max_rounds is not None and summary.rounds >= max_rounds:
            summary.stopped = "max_rounds"
            break
        stop = _stuck(queue, result, now)
        if stop:
            summary.stopped = stop
            break
        progressed = stall.observe(_moved(result, NOT_SENT))
        wait = _wait(queue, result, pace, now)
        if not progressed:  # nothing answered: wait for a breaker's probe rather than spin
            wait = max(wait, pace.floor, min(_next_probe(), pace.ceiling))
        if deadline is not None and time.monotonic() + wait > deadline:
            summary.stopped = "timeout"
            break
        if stall.would_expire(wait):
            summary.stopped = "stalled"
            break
        if wait > 0:
            sleep(wait)
    summary.remaining = {"pending": queue.pending, "importing": queue.importing}
    return summary


NO_PROGRESS = frozenset({"in_progress", "poll_errors", "poll_throttled"})
"""Importer counters that do not move the queue on."""

NOT_SENT = NO_PROGRESS | {"waiting", "retrying"}
"""Importer counters that sent nothing: they do not reset the stall clock (:class:`Stall`)."""

HORIZON = timedelta(minutes=2)
"""How far ahead a deferred row is waited for; later ones are left to the next run."""


def _stuck(queue: Queue, result: JobResult, now: datetime) -> str:
    """Why waiting longer cannot help (empty when it can).

    ``stalled``: rows are due, nothing is importing, and the last round moved nothing (e.g. a website
    whose configuration is invalid: see the errors). ``deferred``: nothing is due or importing, and the
    next retry is further away than :data:`HORIZON`.
    """
    if queue.importing:
        return ""
    moved = _moved(result)
    if queue.due:
        return "" if moved else "stalled"
    if queue.next_attempt is not None and queue.next_attempt - now > HORIZON:
        return "deferred"
    return ""


def _moved(result: JobResult, ignore: frozenset[str] = NO_PROGRESS) -> int:
    """Rows the round moved on (started, sent, settled, split, re-queued...), ``ignore``'s keys aside."""
    return sum(n for counts in result.counts.values() for key, n in counts.items() if key not in ignore)


def _wait(queue: Queue, result: JobResult, pace: Pace, now: datetime) -> float:
    """Seconds until the next round can do something."""
    if queue.due and (result.total("started") or result.total("sent") or result.total("split")):
        return 0.0  # rows are due and the last round could start some: go on at once
    moments: list[datetime] = []
    if queue.oldest_started is not None:
        moments.append(queue.oldest_started + timedelta(seconds=pace.estimate))
    if queue.next_attempt is not None:
        moments.append(queue.next_attempt)
    if not moments:
        return pace.floor if queue.due else pace.ceiling
    return max(0.0, min(pace.ceiling, (min(moments) - now).total_seconds()))


def _snapshot(summary: SyncSummary, queue: Queue, result: JobResult) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for counts in summary.importer.values():
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    return {
        "phase": "import",
        "round": summary.rounds,
        "pending": queue.pending,
        "importing": queue.importing,
        "imported": totals.get("imported", 0) + totals.get("sent", 0),
        "failed": totals.get("failed", 0),
        "errors": len(result.errors),
    }


MAX_PASSES = 3
"""Batch-then-drain passes of ``sync_all``: records that waited for their contact's import (orders,
wishlists...) are batched by the next pass, once the contacts are confirmed."""


def _fold_job(jobs: dict[str, dict[str, Any]], job_id: str, result: JobResult) -> None:
    entry = jobs.setdefault(job_id, {"job": job_id, "counts": {}, "errors": []})
    for code, counts in result.counts.items():
        bucket = entry["counts"].setdefault(code, {})
        for key, n in counts.items():
            bucket[key] = bucket.get(key, 0) + n
    entry["errors"].extend(result.errors)


def _imported(summary: SyncSummary) -> int:
    return sum(c.get("imported", 0) + c.get("sent", 0) for c in summary.importer.values())


def api_calls() -> int:
    """Calls made so far by this process's cached clients."""
    return sum(client.stats.calls for client in accounts.clients())


def _next_probe() -> float:
    """Seconds until the first open circuit breaker of this process lets a probe through (0: none open)."""
    now = time.time()
    waits = [c.breaker.reopens_at - now for c in accounts.clients() if c.breaker.is_open]
    return max(0.0, min(waits)) if waits else 0.0


def api_reads() -> int:
    """Calls that only read (``GET``) made so far by this process's cached clients."""
    return sum(client.stats.reads for client in accounts.clients())


def api_answers() -> int:
    """Calls the platform answered (anything but a 5xx or no answer) so far, across cached clients."""
    return sum(client.stats.answered for client in accounts.clients())


def sync_all(
    website_code: str | None = None,
    *,
    max_rounds: int | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
    batch: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    stall_limit: float | None = DEFAULT_STALL_LIMIT,
) -> dict[str, Any]:
    """Run every registered job in dependency order, the importer until its queue drains (or a limit).

    Args:
        website_code: only this website; None for every enabled website.
        max_rounds: at most this many importer rounds.
        timeout: stop after about this many seconds (the importer is never interrupted mid-round).
        progress: called after every step with a snapshot, for a progress display.
        batch: run the other jobs (False: only drain what is queued).
        sleep: the sleep between rounds (injectable for tests).
        stall_limit: stop after this many seconds without a platform answer or a moved row
            (None: never); see the module docstring.

    Returns:
        :meth:`SyncSummary.as_dict`: per-job results, importer totals per website, rounds, whether
        the queue drained and why the loop stopped, what remains, API calls made (``api_calls``;
        ``api_reads`` of them only read, ``api_writes`` wrote) and time taken,
        rows failed in this run, and the websites' health (``websites``, ``config_problems``,
        ``accounts`` with each account's state, cause and hint).

    The websites, their settings and accounts are resolved once, when the run starts (API passwords
    are decrypted once): settings edited during a run apply from the next run.
    """
    clock = time.monotonic()
    calls_before, reads_before = api_calls(), api_reads()
    summary = SyncSummary()
    stall = Stall(stall_limit)
    ctx = RunContext.resolve(website_code)

    def start_imports() -> None:
        # the platform processes a job's imports while the next job batches (polling waits for drain)
        summary.add(importer.run(ctx=ctx, poll=False))

    for number in range(MAX_PASSES):
        waiting = 0
        if batch:
            ran = run_batchers(website_code, progress, start_imports, ctx=ctx, first_pass=number == 0)
            for job_id, result in ran.items():
                _fold_job(summary.jobs, job_id, result)
                summary.errors.extend(e for e in result.errors if e not in summary.errors)
                waiting += result.total("waiting")
        if max_rounds is not None and summary.rounds >= max_rounds:
            summary.stopped = "max_rounds"
            break
        imported_before = _imported(summary)
        remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - clock))
        drain(
            website_code,
            max_rounds=max_rounds,
            timeout=remaining,
            progress=progress,
            summary=summary,
            sleep=sleep,
            stall=stall,
            ctx=ctx,
        )
        if not (batch and waiting and summary.drained and _imported(summary) > imported_before):
            break  # nothing was waiting for this pass's imports
    if batch:
        run_after_importer(progress, summary, ctx=ctx)
    summary.api_calls = api_calls() - calls_before
    summary.api_reads = api_reads() - reads_before
    usage.flush_all()  # the run's API usage per hour, for the dashboard
    summary.elapsed = time.monotonic() - clock
    summary.health = check_health(website_code, ctx=ctx)
    for account in summary.health.accounts:
        line = account.line()
        if line and line not in summary.errors:
            summary.errors.append(line)
    return summary.as_dict()
