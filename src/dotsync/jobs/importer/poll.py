"""Poll an account's imports in progress and settle the finished ones.

* still running (``NotFinished``, ``NotStarted``, ``Processing``...): left alone;
* ``Finished`` (insight imports: ``Finished`` or ``Complete``): in one transaction the row becomes
  ``IMPORTED`` with ``import_finished``, and its source rows are settled — ``IMPORTED`` with
  ``last_imported_at`` and the hash of what was sent, except records the platform rejected, which
  are quarantined ``FAILED`` with the platform's reason. A contact import's fault report is read
  first (:mod:`.faults`), and its CSV is archived to ``var/export/email/archive/``;
* a failure status (``RejectedByWatchdog``, ``Failed``...): a new import of the stored payload starts
  after a backoff (``wait_reason`` ``import_failed``), up to a limit; then the row and its source rows
  fail with the platform's status;
* an import the platform no longer knows: the row is sent again (imports are upserts).

Transient errors while polling leave the row as it is; the next run polls it again. While the
account's circuit breaker is open, polling stops for the run (no call would be made anyway).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dotsync.crashpoints import crashpoint
from dotsync.exceptions import (
    AuthenticationError,
    CircuitOpenError,
    DotsyncError,
    NotFoundError,
    RateLimitedError,
)
from dotsync.jobs import queue
from dotsync.jobs.base import JobResult
from dotsync.jobs.importer import faults, state
from dotsync.jobs.importer.bisect import record_rows
from dotsync.jobs.importer.fairness import Account
from dotsync.jobs.importer.retry import describe
from dotsync.models import Importer, SyncStatus
from dotsync.models.importer import ImportMode, ImportStatus

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

CONTACT_DONE = "finished"
CONTACT_FAILED = frozenset(
    s.lower()
    for s in (
        "RejectedByWatchdog",
        "InvalidFileFormat",
        "Unknown",
        "Failed",
        "ExceedsAllowedContactLimit",
        "NotAvailableInThisVersion",
    )
)
"""Contact import statuses that mean the import failed (lower case)."""

MISSING_CONTACT_REASONS = frozenset({"contactemaildoesnotexist", "contactiddoesnotexist"})
"""Insight failures that mean the record's contact was not on the platform yet."""

REQUEUED = "Contact not on the platform yet; sending the record again."
"""Note on a source row re-queued once after a missing-contact rejection. A second one quarantines it."""


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
    codes = {website.pk: cfg.website_code for website, cfg in account.websites}
    retries = {website.pk: cfg.max_retries for website, cfg in account.websites}
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
            if row.import_mode == ImportMode.BULK:
                done = _poll_contacts(row, client)
            else:
                done = _poll_insight(row, client)
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


def _poll_contacts(row: Importer, client: DotdigitalClient) -> bool | str | None:
    """Poll a contact import. Returns True when settled imported, False when failed, None while running."""
    status = client.contact_import_status(row.import_id)
    if status.lower() in CONTACT_FAILED:
        return _platform_failed(row, status)
    if status.lower() != CONTACT_DONE:
        return None
    crashpoint("import_polled")
    envelope = queue.Envelope.load(row)
    note = ""
    try:
        report = faults.read_faults(
            client.contact_import_faults(row.import_id), envelope.payload.get("emails") or {}
        )
    except DotsyncError as exc:
        if exc.transient or _report_may_come(row, exc):
            raise
        report, note = faults.FaultOutcome(), f"Imported; the fault report was not available: {describe(exc)}"
    row.import_file = archive(row, envelope)
    now = timezone.now()
    with transaction.atomic():
        row.save(update_fields=["import_file"])
        unsubscribed = faults.unsubscribe_suppressed(
            state.website_of(row), report.suppressed, import_started=row.import_started or now, now=now
        )
        state.imported(row, failed=report.rejected, message=note, envelope=envelope)
        _note_suppressed(envelope, report.suppressed)
    if unsubscribed:
        logger.info(
            "importer: #%s: %d contacts suppressed by the platform, unsubscribed", row.pk, len(unsubscribed)
        )
    return True


def _platform_failed(row: Importer, status: str) -> bool | str:
    """The platform failed the import: start a new one later (:data:`REQUEUED_IMPORT`), or fail (False)."""
    if state.platform_failed(row, status):
        logger.warning("importer: platform failed #%s (%s); a new import starts later", row.pk, status)
        return REQUEUED_IMPORT
    return False


REPORT_GRACE = timedelta(hours=1)
"""How long after its start a finished import's missing fault report is waited for (polled again)."""


def _report_may_come(row: Importer, exc: DotsyncError) -> bool:
    """The report is "not processed yet" and the import is recent: poll again rather than lose it."""
    not_ready = getattr(exc, "error_code", None) == "ERROR_IMPORT_REPORT_NOT_FOUND"
    started = row.import_started or timezone.now()
    return not_ready and timezone.now() - started < REPORT_GRACE


def _note_suppressed(envelope: queue.Envelope, suppressed: dict[str, str]) -> None:
    """Say on each suppressed contact's source row why the platform will not mail it."""
    emails = envelope.payload.get("emails") or {}
    if not suppressed or not envelope.table:
        return
    model = queue.model_for_table(envelope.table)
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    for email, reason in suppressed.items():
        if email in emails:
            model._default_manager.filter(**{pk: emails[email]}).update(
                sync_message=f"Suppressed on the platform: {reason}"[:255]
            )


def _poll_insight(row: Importer, client: DotdigitalClient) -> bool | str | None:
    """Poll an insight import. Returns True when settled imported, False when failed, None while running."""
    status = client.insight_import_status(row.import_id)
    if status.failed:
        return _platform_failed(row, status.status)
    if not status.finished:
        return None
    crashpoint("import_polled")
    if not status.failures:
        state.imported(row)
        return True
    # the records are parsed only to map rejected records back to their rows
    envelope = queue.Envelope.load(row)
    by_key = record_rows(envelope)
    rejected: dict[int, str] = {}
    requeue: set[int] = set()
    for failure in status.failures:
        pk = by_key.get(str(failure.key))
        if pk is None:
            continue
        details = "; ".join(failure.details)
        rejected[pk] = f"Rejected by the platform: {failure.reason}" + (f" ({details})" if details else "")
        if failure.reason.lower() in MISSING_CONTACT_REASONS:
            requeue.add(pk)
    with transaction.atomic():
        first_time = _first_rejections(envelope, requeue)
        state.imported(row, failed=rejected, envelope=envelope)
        _requeue(envelope, first_time)
    return True


def _first_rejections(envelope: queue.Envelope, pks: set[int]) -> list[int]:
    """The rows among ``pks`` not re-queued for a missing contact before."""
    if not pks or not envelope.table:
        return []
    model = queue.model_for_table(envelope.table)
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    again = set(
        model._default_manager.filter(**{f"{pk}__in": pks, "sync_message": REQUEUED}).values_list(
            pk, flat=True
        )
    )
    return [p for p in pks if p not in again]


def _requeue(envelope: queue.Envelope, pks: list[int]) -> None:
    """Send these rows again with the next batch: their contact should exist by then."""
    if not pks:
        return
    cols = queue.STREAMS[envelope.stream]
    model = queue.model_for_table(envelope.table)
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    model._default_manager.filter(**{f"{pk}__in": pks, cols["status"]: SyncStatus.FAILED}).update(
        **{cols["status"]: SyncStatus.MODIFIED}, sync_message=REQUEUED
    )


def archive_dir() -> Path:
    """``<var>/export/email/archive`` (``DOTSYNC_VAR_DIR`` or the ``VAR_DIR`` setting, else ``./var``)."""
    var = getattr(settings, "VAR_DIR", None) or os.environ.get("DOTSYNC_VAR_DIR") or "var"
    return Path(var) / "export" / "email" / "archive"


def archive(row: Importer, envelope: queue.Envelope) -> str:
    """Write a finished contact import's CSV to the archive; returns its path (empty if none)."""
    text = envelope.payload.get("csv")
    if not text:
        return ""
    from dotsync.models import Website

    code = Website.objects.filter(pk=state.website_of(row)).values_list("code", flat=True).first() or str(
        state.website_of(row)
    )
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}_{row.import_type}_{row.pk}.csv".lower()
    path.write_text(text, encoding="utf-8")
    return str(path)
