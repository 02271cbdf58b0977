"""The per-client lockout of the dynamic-content passcode (``email_failed_auth``, one row per client IP).

:data:`MAX_FAILURES` wrong passcodes from one client lock that client for :data:`LOCK_TIME`; other
clients (the merchant's real fetches from dotdigital) are never locked by them, unlike the reference,
which locks the whole store. A failure after the lock has expired starts the count again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dotsync.models import FailedAuth

MAX_FAILURES = 5
"""Wrong passcodes that lock a client."""
LOCK_TIME = timedelta(minutes=5)
"""How long a locked client is refused without its passcode being checked."""


def is_locked(client_ip: str, now: datetime | None = None) -> bool:
    """True while ``client_ip`` has :data:`MAX_FAILURES` failures, the last within :data:`LOCK_TIME`."""
    now = now or timezone.now()
    return FailedAuth.objects.filter(
        client_ip=client_ip, failures_num__gte=MAX_FAILURES, last_attempt_date__gt=now - LOCK_TIME
    ).exists()


def record_failure(client_ip: str, now: datetime | None = None) -> int:
    """Count one wrong passcode from ``client_ip``; returns the client's failures in the current count."""
    now = now or timezone.now()
    with transaction.atomic():
        row, created = FailedAuth.objects.select_for_update().get_or_create(
            client_ip=client_ip,
            defaults={"failures_num": 1, "first_attempt_date": now, "last_attempt_date": now},
        )
        if created:
            return 1
        expired = row.last_attempt_date is None or row.last_attempt_date <= now - LOCK_TIME
        if expired:
            row.failures_num = 1
            row.first_attempt_date = now
        else:
            row.failures_num += 1
        row.last_attempt_date = now
        row.save(update_fields=["failures_num", "first_attempt_date", "last_attempt_date"])
        return row.failures_num
