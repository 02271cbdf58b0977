"""Celery, for more than one machine: ``celery -A dotsync.celery worker`` and ``... beat``.

* One task, ``dotsync.run_job`` with ``(job_id, unit)``, runs any registered job
  (:data:`dotsync.jobs.registry.JOBS`) for one unit (website code or account label) through
  :func:`dotsync.runtime.scheduler.run_unit`, so the lock (Redis when ``DOTSYNC_REDIS_URL`` is set) and
  the ``email_job_run`` record are the same as under ``dotsync run``.
* The beat schedule is built when beat starts from the same registry and frequencies
  (:func:`dotsync.runtime.scheduler.plan`): one entry per enabled (job, unit), named ``job[unit]``, every
  ``frequency`` minutes. Restart beat after changing a job frequency or enabling a website.
  ``DOTSYNC_CELERY_BEAT_SECONDS`` replaces every interval with that many seconds (tests).
* Worker processes share one rate-limit budget per account through Redis
  (:class:`~dotsync.platform.dotdigital.ratelimit.RedisRateLimiter`, budget from ``DOTSYNC_RATE_LIMIT``)
  when ``DOTSYNC_REDIS_URL`` is set.

Configuration comes from the environment: ``DOTSYNC_CELERY_BROKER_URL`` (default ``DOTSYNC_REDIS_URL``,
else ``redis://127.0.0.1:6379/0``), and Django's settings as for the ``dotsync`` command
(``DATABASE_URL``…; a host shop sets ``DJANGO_SETTINGS_MODULE``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

from dotsync.cli.boot import setup_django

logger = logging.getLogger(__name__)

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
TASK_NAME = "dotsync.run_job"
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
