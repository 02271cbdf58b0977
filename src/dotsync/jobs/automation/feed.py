"""What the platform-to-store feeds (``unsubscriber``, ``resubscriber``) share: their window and paging.

Both jobs run per account and read a platform change feed from their "from time". The reference
(§2.1) starts at the job's last successful *finish*, which loses a change the platform made while that
run was reading (after its read, before its finish). Here the window starts at the last successful
run's *start*, less :data:`OVERLAP` for clock skew between this machine and the platform: the windows
overlap, and both jobs are idempotent, so a change read twice is applied once and none is skipped. With
no successful run for the account (``email_job_run``, the unit :func:`account_scope` names), the feed
reaches back 24 hours. The runtime layer sits above the jobs, so the lookup is done here on the model;
``tests/jobs/automation`` checks that both name an account's unit the same way.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.utils import timezone

from dotsync.accounts import Account, RunContext
from dotsync.exceptions import DotsyncError
from dotsync.jobs.base import Job, JobResult
from dotsync.models import JobRun, RunOutcome, Store

logger = logging.getLogger(__name__)

FALLBACK = timedelta(hours=24)
"""How far back a feed reaches for a job that never succeeded for the account."""

OVERLAP = timedelta(minutes=5)
"""How far before the last successful run's start the next window begins (clock skew margin)."""

PAGE = 1000
"""Feed items handled per page (the platform's v2 page size)."""

T = TypeVar("T")


def account_scope(account: Account) -> str:
    """The ``email_job_run.scope`` of an account's unit (``account:`` and a hash, no API user)."""
    digest = hashlib.sha256(f"{account.key.base_url}|{account.key.api_user}".encode()).hexdigest()[:12]
    return f"account:{digest}"


def from_time(job_id: str, account: Account, *, now: datetime | None = None) -> datetime:
    """The start of the job's last successful run for the account less :data:`OVERLAP`.

    Else (it never succeeded) ``now`` minus :data:`FALLBACK`.
    """
    started = (
        JobRun.objects.filter(job_id=job_id, scope=account_scope(account), outcome=RunOutcome.SUCCESS)
        .exclude(finished_at=None)
        .order_by("-started_at", "-id")
        .values_list("started_at", flat=True)
        .first()
    )
    return started - OVERLAP if started is not None else (now or timezone.now()) - FALLBACK


def pages(items: Iterable[T], size: int = PAGE) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (the feed is streamed; one page is held at a time)."""
    page: list[T] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def parse_time(value: object) -> datetime | None:
    """A platform date-time (``2020-01-01T09:40:18.527Z`` or ``2020-01-01 09:40:18.527000+00:00``), or None.

    A value without an offset is UTC (the API runs on UTC).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def store_ids(account: Account, website_id: int) -> list[int]:
    """The ids of one of the account's websites' stores (read once per run by the context)."""
    for website in account.websites:
        if website.website.pk == website_id:
            return list(website.stores)
    return list(Store.objects.filter(website_id=website_id).values_list("pk", flat=True))


@dataclass(frozen=True)
class FeedJob(Job):
    """A per-account job reading a platform feed from its from time; subclasses implement :meth:`sync`.

    It runs once per ``sync all`` (:attr:`Job.once_per_sync`).
    """

    once_per_sync: bool = True

    def run(self, ctx: RunContext) -> JobResult:
        """Run once for each of the context's accounts; one account's trouble never stops the others."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        for account in ctx.accounts:
            try:
                self.sync(account, from_time(self.id, account), result)
            except Exception as exc:
                if isinstance(exc, DotsyncError):
                    logger.warning("%s: account of website(s) %s skipped: %s", self.id, account.codes, exc)
                else:
                    logger.exception("%s: account of website(s) %s failed", self.id, account.codes)
                result.errors.append(f"website(s) {account.codes}: {exc}")
        return result

    def sync(self, account: Account, since: datetime, result: JobResult) -> None:
        """Carry the account's changes since ``since`` into the store."""
        raise NotImplementedError
