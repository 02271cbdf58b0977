"""The importer job: drain ``email_importer`` into dotdigital, fairly, exactly once.

Each run, per dotdigital account (websites sharing an API user share one):

1. **poll** the imports in progress (:mod:`.poll`): finished ones settle their source rows,
   failed ones fail them with the platform's status, contact fault reports unsubscribe suppressed
   contacts in that website (:mod:`.faults`);
2. **start** the next rows (:mod:`.start`), round-robin across the account's websites, oldest first,
   within the account's active-import caps (:mod:`.fairness`); single-record rows are sent at once
   (:mod:`.single`). Failures follow one table (:mod:`.retry`); a batch the platform rejects for its
   content is bisected until the poison record is alone (:mod:`.bisect`).

Exactly once
------------
Source rows become ``IMPORTED`` only in the transaction that records the platform's confirmation
(``Finished`` for a bulk import, a 2xx for a single call), through
:func:`dotsync.jobs.queue.settle_imported`. Until then they stay ``IMPORTING``, attached to their
importer row, so a crash at any point loses nothing: the row is polled again, or — if the run died
after claiming it but before recording the platform's import id — it returns to the queue and is
sent again: at once when the claiming process ran on this host and is gone, otherwise after
:data:`.state.CLAIM_TIMEOUT` (``tests/e2e/test_crash.py`` kills ``sync all`` at such points).
Sending a batch twice never duplicates a record, because every platform write dotsync uses is an
upsert: contact imports are keyed by email (per address book), insight imports and single insight
writes by collection and record key, contact updates by email; deletes of something already gone
succeed. Re-running the jobs therefore
converges on exactly the store's data in the platform.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dotsync.accounts import RunContext
from dotsync.exceptions import DotsyncError
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.importer.poll import poll_account
from dotsync.jobs.importer.start import Budget, start_account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImporterJob(Job):
    """The importer: one unit of work per dotdigital account."""

    def run(
        self,
        ctx: RunContext,
        *,
        max_starts: int | None = None,
        poll_min_age: float | None = None,
        poll: bool = True,
    ) -> JobResult:
        """Run the importer once for the context's accounts (see :func:`run` for the arguments)."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        budget = Budget(max_starts)
        for account in ctx.accounts:
            try:
                client = account.client()
                if not poll or poll_account(account, client, result, min_age=poll_min_age):
                    start_account(account, client, result, budget)
            except Exception as exc:  # one account's trouble never stops the others
                if isinstance(exc, DotsyncError):
                    logger.warning("importer: account of website(s) %s skipped: %s", account.codes, exc)
                else:
                    logger.exception("importer: account of website(s) %s failed", account.codes)
                result.errors.append(f"website(s) {account.codes}: {exc}")
        return result


JOB = ImporterJob(
    "importer",
    "importer",
    "Sends queued imports and single-record calls to dotdigital and settles what it confirms.",
    JobScope.ACCOUNT,
    default_frequency=5,
    after=("contacts", "orders", "reviews_and_wishlists", "catalog"),  # drains what they queue
)


def run(
    website_code: str | None = None,
    *,
    ctx: RunContext | None = None,
    max_starts: int | None = None,
    poll_min_age: float | None = None,
    poll: bool = True,
) -> JobResult:
    """Run the importer once: poll imports in progress, then start what is next.

    Args:
        website_code: only this website (``--website CODE``); None for every enabled website.
        ctx: the run's websites and accounts, already resolved (``sync all`` passes one per run);
            None resolves them for ``website_code``.
        max_starts: at most this many platform calls that start work (bulk starts and single-record
            calls) in this run; None for no limit beyond the accounts' caps.
        poll_min_age: only poll imports started at least this many seconds ago (the runner passes
            its estimate of how long imports take); None polls every import in progress.
        poll: False to only start what is next (``sync all`` starts each job's batches while the
            next job batches, so the platform works on them meanwhile).

    Returns:
        Counts per website: ``imported``, ``failed``, ``in_progress``, ``started``, ``sent``,
        ``waiting``, ``retrying``, ``split``, ``resent``; errors name the website and what to do.
    """
    if ctx is None:
        ctx = RunContext.resolve(website_code)
    return JOB.run(ctx, max_starts=max_starts, poll_min_age=poll_min_age, poll=poll)
