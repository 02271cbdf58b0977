"""Celery, for more than one machine: ``celery -A dotsync.celery worker`` and ``... beat``.

* One task, ``dotsync.run_job`` with ``(job_id, unit)``, runs any registered job
  (:data:`dotsync.jobs.registry.JOBS`) for one unit (website code or account label) through
  :func:`dotsync.runtime.scheduler.run_unit`, so the lock (Redis when ``DOTSYNC_REDIS_URL`` is set) and
  the ``email_job_run`` record are the same as under ``dotsync run``.
* The beat schedule is built when beat starts from the same registry and frequencies
  (:func:`dotsync.runtime.scheduler.plan`): one entry per enabled (job, unit), named ``job[unit]``, every
  ``frequency`` minutes. Restart beat after changing a job frequency or enabling a website.
  ``DOTSYNC_CELERY_BEAT_SECONDS`` replaces every interval with that many seconds (tests).
* The fast path: a shop process with ``DOTSYNC_NUDGE_LISTENERS=dotsync.celery.send_nudge`` sends one
  de-duplicated ``dotsync.nudged`` task per (job, website) and debounce window (:func:`send_nudge`).
* Worker processes share one rate-limit budget per account through Redis
  (:class:`~dotsync.platform.dotdigital.ratelimit.RedisRateLimiter`, budget from ``DOTSYNC_RATE_LIMIT``)
  when ``DOTSYNC_REDIS_URL`` is set.

Configuration comes from the environment: ``DOTSYNC_CELERY_BROKER_URL`` (default ``DOTSYNC_REDIS_URL``,
else ``redis://127.0.0.1:6379/0``), and Django's settings as for the ``dotsync`` command
(``DATABASE_URL``…; a host shop sets ``DJANGO_SETTINGS_MODULE``).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

from dotsync.cli.boot import setup_django

logger = logging.getLogger(__name__)

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
TASK_NAME = "dotsync.run_job"
NUDGE_TASK = "dotsync.nudged"
BEAT_SECONDS_ENV = "DOTSYNC_CELERY_BEAT_SECONDS"


def broker_url() -> str:
    """``DOTSYNC_CELERY_BROKER_URL``, else ``DOTSYNC_REDIS_URL``, else the local Redis."""
    env = os.environ
    return env.get("DOTSYNC_CELERY_BROKER_URL") or env.get("DOTSYNC_REDIS_URL") or DEFAULT_BROKER_URL


# before the app exists: Celery's Django fixup (connections closed around tasks and forks) keys on it
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsync.settings")

app = Celery("dotsync", broker=broker_url())
app.conf.update(
    task_ignore_result=True,  # the outcome is recorded in email_job_run; no result backend needed
    worker_prefetch_multiplier=1,  # jobs are long: a worker holds one at a time
    timezone="UTC",
    broker_connection_retry_on_startup=True,
)


@app.task(name=TASK_NAME)
def run_job(job_id: str, unit: str) -> dict[str, str]:
    """Run the registered job ``job_id`` for ``unit`` (website code or account label) once.

    Returns:
        ``{"job", "unit", "outcome"}``: the recorded run's outcome (``success``, ``failed``, ``locked``,
        ``skipped``), or ``not-enabled`` when the unit is no longer enabled (nothing recorded).

    Raises:
        KeyError: ``job_id`` is not a registered job.
    """
    setup_django()
    from dotsync.runtime.scheduler import run_unit

    run = run_unit(job_id, unit)
    return {"job": job_id, "unit": unit, "outcome": str(run.outcome) if run is not None else "not-enabled"}


@app.task(name=NUDGE_TASK)
def nudged(job_id: str, website_id: int, poll: int = 0) -> dict[str, Any]:
    """The fast path under Celery: run a nudged job for a website, then its account's importer.

    Sent by :func:`send_nudge` once per (job, website) and debounce window. While the account has
    imports in flight, the task sends itself again for the importer after
    :data:`~dotsync.runtime.fastpath.PROMPT_POLLS` seconds (0.5, 1, 2, 4, 8), one chain per website.
    """
    setup_django()
    from dotsync.runtime.fastpath import IMPORTER, PROMPT_POLLS, run_nudged

    flying = run_nudged(job_id, website_id)
    again = flying and poll < len(PROMPT_POLLS)
    if again and _once(f"dotsync:nudge-poll:{website_id}", PROMPT_POLLS[poll]):
        nudged.apply_async((IMPORTER, website_id, poll + 1), countdown=PROMPT_POLLS[poll])
    return {"job": job_id, "website": website_id, "in_flight": flying}


def _once(key: str, seconds: float) -> bool:
    """True for the first caller within ``seconds`` (Redis ``SET NX PX``, shared by every process)."""
    return bool(_redis().set(key, "1", nx=True, px=max(1, int(seconds * 1000))))


@functools.cache
def _redis() -> Any:
    import redis

    from dotsync.runtime.locks import redis_url

    return redis.Redis.from_url(redis_url() or broker_url())


def send_nudge(job_id: str, website_id: int) -> bool:
    """A nudge listener (:mod:`dotsync.jobs.nudge`) for a shop whose jobs run under Celery.

    Sends ``dotsync.nudged`` once per (job, website) per debounce window (a Redis ``SET NX`` key
    that expires with the window), to run when the window ends. Enable it in the shop's process with
    ``DOTSYNC_NUDGE_LISTENERS=dotsync.celery.send_nudge``.

    Returns:
        True when a task was sent (False: one is already on its way for this window).
    """
    from dotsync.runtime.fastpath import DEBOUNCE

    window = DEBOUNCE.total_seconds()
    if not _once(f"dotsync:nudge:{job_id}:{website_id}", window):
        return False
    nudged.apply_async((job_id, website_id), countdown=window)
    return True


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One beat entry per enabled (job, unit) of :func:`~dotsync.runtime.scheduler.plan`, at its interval."""
    setup_django()
    from dotsync.runtime.scheduler import plan

    override = os.environ.get(BEAT_SECONDS_ENV, "").strip()
    out: dict[str, dict[str, Any]] = {}
    for entry in plan():
        if entry.minutes <= 0:
            continue
        seconds = float(override) if override else entry.interval.total_seconds()
        out[f"{entry.job_id}[{entry.label}]"] = {
            "task": TASK_NAME,
            "schedule": seconds,
            "args": (entry.job_id, entry.label),
        }
    return out


def use_shared_limiter() -> bool:
    """Make clients in this process use the Redis rate limiter when ``DOTSYNC_REDIS_URL`` is set.

    Returns:
        True when the shared limiter is installed, False when no Redis URL is configured (the
        in-process limiter stays).
    """
    setup_django()
    from dotsync.platform.dotdigital.ratelimit import RedisRateLimiter, limiter_from_env, set_default_limiter
    from dotsync.runtime.locks import redis_url

    url = redis_url()
    if not url:
        return False
    budget = limiter_from_env()  # DOTSYNC_RATE_LIMIT, shared instead of per process
    set_default_limiter(RedisRateLimiter(url, calls=budget.calls, period=budget.period))
    return True


@worker_init.connect
@worker_process_init.connect
def _on_worker_start(**_: Any) -> None:
    if use_shared_limiter():
        logger.info("dotsync: worker uses the Redis rate limiter shared by all workers")


@beat_init.connect
def _on_beat_start(sender: Any, **_: Any) -> None:
    # beat has built its scheduler from app.conf.beat_schedule already (empty, which drops entries a past
    # run left in the schedule file): the plan's entries are merged into it before the first tick
    app.conf.beat_schedule = schedule = beat_schedule()
    sender.scheduler.merge_inplace(schedule)
    logger.warning("dotsync: beat schedule with %d entries", len(schedule))
