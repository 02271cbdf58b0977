"""Poll an account's imports in progress and settle the finished ones.

* still running (``NotFinished``, ``NotStarted``, ``Processing``...): left alone;
* ``Finished`` (insight imports: ``Finished`` or ``Complete``): the mode's ``confirm``
  (:mod:`.bulk`) settles it: in one transaction the row becomes ``IMPORTED`` with ``import_finished``,
  and its source rows are settled — ``IMPORTED`` with ``last_imported_at`` and the hash of what was
  sent, except records the platform rejected, which are quarantined ``FAILED`` with the platform's
  reason. A contact import's fault report is read first (:mod:`.faults`), and its CSV is archived to
  ``var/export/email/archive/``;
* a failure status (``RejectedByWatchdog``, ``Failed``...): a new import of the stored payload starts
  after a backoff (``wait_reason`` ``import_failed``), up to a limit; then the row and its source rows
  fail with the platform's status;
* an import the platform no longer knows: the row is sent again (imports are upserts).

Each row is polled through its import mode's :class:`~.operation.Operation` (``progress``, then
``confirm``). Transient errors while polling leave the row as it is; the next run polls it again. While the
account's circuit breaker is open, polling stops for the run (no call would be made anyway).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from dotsync.crashpoints import crashpoint
from dotsync.exceptions import (
    AuthenticationError,
    CircuitOpenError,
    DotsyncError,
    NotFoundError,
    RateLimitedError,
)
from dotsync.jobs.base import JobResult
from dotsync.jobs.importer import state
from dotsync.jobs.importer.bulk import REQUEUED
from dotsync.jobs.importer.fairness import Account
from dotsync.jobs.importer.operation import Operation
from dotsync.jobs.importer.operations import operation
from dotsync.jobs.importer.retry import describe
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

__all__ = ["OUTCOME_COUNTS", "REQUEUED", "REQUEUED_IMPORT", "poll_account"]


def poll_account(
    account: Account, client: DotdigitalClient, result: JobResult, *, min_age: float | None = None
) -> bool:
    """Poll the account's imports in progress, oldest first.

    Args:
        account: the account.
        client: its client.
        result: where counts go.
        min_age: only poll imports started at least this many seconds ago (None: all), so a caller
            that knows how long imports take does not spend calls on ones that cannot be done yet.

    Returns:
        False when the platform throttled the account (the caller starts nothing this run).
    """
    codes = {w.website.pk: w.cfg.website_code for w in account.websites}
    retries = {w.website.pk: w.cfg.max_retries for w in account.websites}
    recovered = state.recover_stale_claims(account.website_ids)
    if recovered:
        logger.warning("importer: %d stale claims returned to the queue", recovered)
    rows = Importer.objects.filter(
        website_id__in=account.website_ids, import_status=ImportStatus.IMPORTING
    ).exclude(import_id="")
    if min_age:
        rows = rows.filter(import_started__lte=timezone.now() - timedelta(seconds=min_age))
    # bounded by the account's caps; each payload is read when its import is settled
    for row in list(rows.defer("import_data").order_by("pk")):
        code = codes[state.website_of(row)]
        try:
            done = _poll(row, client, operation(row.import_mode))
        except NotFoundError as exc:
            if row.retry_count >= retries[state.website_of(row)]:
                state.failed(row, f"The platform lost the import {row.import_id}: {describe(exc)}")
                result.add(code, "failed")
            else:
                state.resend(row, f"The platform does not know import {row.import_id}; sending it again.")
                result.add(code, "resent")
            continue
        except RateLimitedError:
            result.add(code, "poll_throttled")
            return False
        except AuthenticationError as exc:
            result.errors.append(f"website {code}: the platform refused the API credentials ({exc})")
            return False
        except CircuitOpenError:  # the account is held: its other imports would be held too
            result.add(code, "poll_errors")
            break
        except DotsyncError as exc:
            logger.warning("importer: polling #%s failed (%s); polling again next run", row.pk, exc)
            result.add(code, "poll_errors")
            continue
        except Exception:  # a bug with one row never stops the others
            logger.exception("importer: polling #%s failed; polling again next run", row.pk)
            result.add(code, "poll_errors")
            continue
        result.add(code, OUTCOME_COUNTS[done])
    return True


REQUEUED_IMPORT = "requeued"
"""What a poll returns when the platform failed the import and a new one will start."""

OUTCOME_COUNTS: dict[bool | str | None, str] = {
    None: "in_progress",
    True: "imported",
    False: "failed",
    REQUEUED_IMPORT: REQUEUED_IMPORT,
}
"""A poll's result -> the counter it adds to."""


def _poll(row: Importer, client: DotdigitalClient, op: Operation[Any]) -> bool | str | None:
    """Poll one import. Returns True when settled imported, False when failed, None while running.

    :data:`REQUEUED_IMPORT` when the platform failed the import and a new one will start.
    """
    if op.progress is None or op.confirm is None:
        raise DotsyncError(f"import mode {op.mode!r} starts no import; there is nothing to poll")
    progress = op.progress(row, client)
    if progress.failed:
        return _platform_failed(row, progress.status)
    if not progress.finished:
        return None
    crashpoint("import_polled")
    return op.confirm(row, client, progress)


def _platform_failed(row: Importer, status: str) -> bool | str:
    """The platform failed the import: start a new one later (:data:`REQUEUED_IMPORT`), or fail (False)."""
    if state.platform_failed(row, status):
        logger.warning("importer: platform failed #%s (%s); a new import starts later", row.pk, status)
        return REQUEUED_IMPORT
    return False
