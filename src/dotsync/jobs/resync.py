"""Put sync rows back in the queue: admin "Reset to pending"/"Retry failed", ``dotsync retry --failed``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from dotsync.jobs import streams
from dotsync.models import Contact, HoldReason, SyncStatus

SYNC_MODELS: tuple[type[models.Model], ...] = streams.sync_models()
"""The sync tables (each stream's table, once)."""


def resync(queryset: QuerySet[Any], *, only_failed: bool) -> int:
    """Mark sync rows modified so the next batching run sends them (both streams of contacts).

    Returns the rows (and subscriber streams) changed.
    """
    now = timezone.now()
    statuses = (
        [SyncStatus.FAILED] if only_failed else [SyncStatus.FAILED, SyncStatus.IMPORTED, SyncStatus.SKIPPED]
    )
    n = queryset.filter(sync_status__in=statuses).update(
        sync_status=SyncStatus.MODIFIED, sync_message="", hold_reason=HoldReason.NONE, updated_at=now
    )
    if queryset.model is Contact:
        n += (
            queryset.filter(subscriber_sync_status__in=statuses)
            .exclude(is_subscriber=False, suppressed=False)
            .update(subscriber_sync_status=SyncStatus.MODIFIED, updated_at=now)
        )
    return n
