"""Importer row transitions. Every status change of an ``email_importer`` row goes through here.

A row is *claimed* before any platform call: a conditional ``UPDATE`` moves it from ``PENDING`` to
``IMPORTING`` with an empty ``import_id``, so two importer runs never send the same row. The platform
call follows; its answer records the import id, or the outcome of a single-record call. A claim whose
run died before recording anything is *stale* and returns to ``PENDING``: at once when the claiming
process (``claimed_by``, ``host:pid``) ran on this host and is gone (a crash or a kill), otherwise after
:data:`CLAIM_TIMEOUT`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dotsync.jobs import queue
from dotsync.jobs.importer.retry import BACKOFF, describe
from dotsync.jobs.settle import reattach, settle_failed, settle_imported
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus, WaitReason

CLAIM_TIMEOUT = timedelta(minutes=15)
"""How long a claimed row may wait for its platform call before another run takes it over.

Longer than one call with all its client-side retries (121 s timeout by default)."""

MESSAGE_MAX = 1000


def website_of(row: Importer) -> int:
    """The row's website id (without loading the website)."""
    return int(row.website_id)  # type: ignore[attr-defined]


def due(now: datetime) -> Q:
    """Rows whose ``next_attempt_at`` has come (or was never set)."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def claim(row: Importer, now: datetime | None = None) -> bool:
    """Take a ``PENDING`` row for this run; False when another run took it first."""
    now = now or timezone.now()
    taken = Importer.objects.filter(pk=row.pk, import_status=ImportStatus.PENDING).update(
        import_status=ImportStatus.IMPORTING,
        import_id="",
        import_started=now,
        updated_at=now,
        claimed_by=claimant(),
    )
    if taken:
        row.import_status, row.import_id, row.import_started, row.updated_at = (
            ImportStatus.IMPORTING,
            "",
            now,
            now,
        )
    return bool(taken)


def recover_stale_claims(website_ids: list[int], now: datetime | None = None) -> int:
    """Return claims older than :data:`CLAIM_TIMEOUT` that never got an import id to ``PENDING``.

    Such a row's run died mid-call. If the platform did accept the import, sending it again is
    harmless: imports upsert by email or insight key. Returns the rows recovered.
    """
    now = now or timezone.now()
    return stale_claims(website_ids, now).update(
        import_status=ImportStatus.PENDING,
        import_started=None,
        message="The run that started this import stopped before the platform answered; sending it again.",
        updated_at=now,
    )


def claimant() -> str:
    """This process as ``claimed_by`` records it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(claimed_by: str) -> bool:
    """True when the claiming process ran on this host and no longer exists."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by another user
        return False
    return False


def stale_claims(website_ids: list[int], now: datetime) -> QuerySet[Importer]:
    """Claimed rows with no import id whose process is gone, or older than :data:`CLAIM_TIMEOUT`."""
    claimed = Importer.objects.filter(
        website_id__in=website_ids, import_status=ImportStatus.IMPORTING, import_id=""
    )
    claimants = set(claimed.exclude(claimed_by="").values_list("claimed_by", flat=True).distinct())
    dead = [c for c in claimants if _dead(c)]
    return claimed.filter(Q(import_started__lt=now - CLAIM_TIMEOUT) | Q(claimed_by__in=dead))


def started(row: Importer, import_id: str) -> None:
    """The platform accepted a bulk import: record its id (``retry_count`` unchanged)."""
    now = timezone.now()
    row.import_id, row.message, row.next_attempt_at, row.updated_at = import_id, "", None, now
    row.wait_reason = WaitReason.NONE
    row.save(update_fields=["import_id", "message", "next_attempt_at", "wait_reason", "updated_at"])


def imported(
    row: Importer,
    *,
    failed: dict[int, str] | None = None,
    message: str = "",
    envelope: queue.Envelope | None = None,
) -> int:
    """The platform confirmed the row: mark it ``IMPORTED`` and settle its source rows, atomically.

    Args:
        row: the importer row.
        failed: source-row pk -> reason for records the platform rejected (quarantined ``FAILED``).
        message: a note for the row (e.g. "nothing to delete").
        envelope: the row's envelope when the caller has already read it (not read again).

    Returns:
        The source rows marked imported (0 when another run settled the row first).
    """
    now = timezone.now()
    with transaction.atomic():
        moved = Importer.objects.filter(pk=row.pk, import_status=ImportStatus.IMPORTING).update(
            import_status=ImportStatus.IMPORTED,
            import_finished=now,
            import_started=row.import_started or now,
            message=message[:MESSAGE_MAX],
            next_attempt_at=None,
            wait_reason=WaitReason.NONE,
            updated_at=now,
        )
        if not moved:  # another run settled it first
            return 0
        row.import_status, row.import_finished, row.updated_at = ImportStatus.IMPORTED, now, now
        row.import_started = row.import_started or now
        row.message, row.next_attempt_at = message[:MESSAGE_MAX], None
        return settle_imported(row, failed=failed, envelope=envelope)


def failed(row: Importer, reason: str) -> int:
    """Terminal failure: the row and its source rows go ``FAILED`` with ``reason``, atomically."""
    now = timezone.now()
    with transaction.atomic():
        moved = Importer.objects.filter(
            pk=row.pk, import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING]
        ).update(
            import_status=ImportStatus.FAILED,
            message=reason[:MESSAGE_MAX],
            import_finished=now,
            next_attempt_at=None,
            wait_reason=WaitReason.NONE,
            updated_at=now,
        )
        if not moved:  # another run settled it first
            return 0
        row.import_status, row.message, row.updated_at = ImportStatus.FAILED, reason[:MESSAGE_MAX], now
        row.import_finished, row.next_attempt_at = now, None
        return settle_failed(row, reason)


def retry_later(row: Importer, exc: Exception, reason: WaitReason, *, count: bool = True) -> None:
    """Put a row back to ``PENDING`` after a transient failure; it never fails for being transient.

    Args:
        row: the importer row (claimed or still pending).
        exc: the error, whose message the row shows.
        reason: why the row waits (kept in ``wait_reason``).
        count: spend one retry, which grows the backoff up to its cap (False when the account was
            busy, throttled, refused or held by its circuit breaker: not the row's fault).
    """
    now = timezone.now()
    if count:
        row.retry_count += 1
        wait = BACKOFF.delay(row.retry_count)
        note = f"attempt {row.retry_count + 1} in {wait:.0f}s"
    else:
        wait = BACKOFF.wait(exc)
        note = f"not the row's fault; trying again in {wait:.0f}s"
    _requeue_at(row, BACKOFF.next_attempt(now, wait), reason, f"{describe(exc)} ({note})", now)


def _requeue_at(row: Importer, when: datetime, reason: WaitReason, message: str, now: datetime) -> None:
    row.import_status, row.import_id, row.import_started = ImportStatus.PENDING, "", None
    row.next_attempt_at, row.wait_reason = when, reason
    row.message = message[:MESSAGE_MAX]
    row.updated_at = now
    row.save(
        update_fields=[
            "import_status",
            "import_id",
            "import_started",
            "retry_count",
            "import_failures",
            "next_attempt_at",
            "wait_reason",
            "message",
            "updated_at",
        ]
    )


def platform_failed(row: Importer, status: str) -> bool:
    """The platform failed the row's import (``RejectedByWatchdog``, ``Failed``...).

    A new import of the same stored payload starts after a backoff, up to
    :attr:`~.retry.Backoff.import_failures` times; then the row and its source rows fail with the
    platform's status.

    Returns:
        True when a new import will be started, False when the row failed.
    """
    now = timezone.now()
    row.import_failures += 1
    limit = BACKOFF.import_failures
    if row.import_failures > limit:
        Importer.objects.filter(pk=row.pk).update(import_failures=row.import_failures)
        tries = "" if row.import_failures == 1 else f" ({row.import_failures} imports failed; no more tries)"
        failed(row, f"Import failed with status {status}{tries}")
        return False
    wait = BACKOFF.delay(row.import_failures)
    message = (
        f"The platform failed import {row.import_id} with status {status}; a new import starts in "
        f"{wait:.0f}s (failure {row.import_failures} of at most {limit + 1})"
    )
    _requeue_at(row, BACKOFF.next_attempt(now, wait), WaitReason.IMPORT_FAILED, message, now)
    return True


def resend(row: Importer, reason: str) -> None:
    """Return a row whose import the platform lost to ``PENDING``, spending one retry."""
    now = timezone.now()
    row.import_status, row.import_id, row.import_started = ImportStatus.PENDING, "", None
    row.retry_count += 1
    row.message, row.updated_at = reason[:MESSAGE_MAX], now
    row.save(
        update_fields=["import_status", "import_id", "import_started", "retry_count", "message", "updated_at"]
    )


def reset_to_pending(rows: QuerySet[Importer]) -> int:
    """Admin action: put rows back in the queue as if new (import id, times and retries cleared).

    Source rows that a failure released are re-attached, so a retried row settles them again.
    Returns the rows reset.
    """
    n = 0
    now = timezone.now()
    for row in rows.exclude(import_status=ImportStatus.IMPORTED).iterator():
        with transaction.atomic():
            reattach(row)
            n += Importer.objects.filter(pk=row.pk).update(
                import_status=ImportStatus.PENDING,
                import_id="",
                import_started=None,
                import_finished=None,
                next_attempt_at=None,
                wait_reason=WaitReason.NONE,
                retry_count=0,
                import_failures=0,
                message="",
                updated_at=now,
            )
    return n
