"""Per-account API usage, persisted per hour: what the dashboard's 24-hour charts read.

:func:`watch` registers a :class:`UsageRecorder` on an account's client (a per-transport call
observer, :attr:`dotsync.platform.dotdigital.DotdigitalClient.observers`: the platform package knows
nothing of the models). The recorder counts in memory and writes ``email_api_usage``
(:class:`~dotsync.models.ApiUsage`) in batches: one upsert per hour bucket, operation and status class
when :data:`FLUSH_EVERY` calls are pending, and at the end of each sync run or job run
(:func:`flush_all`). Never a write per call on the hot path.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F

from dotsync.models import ApiUsage

logger = logging.getLogger(__name__)

__all__ = ["FLUSH_EVERY", "UsageRecorder", "flush_all", "status_class", "watch"]

FLUSH_EVERY = 200
"""Pending calls that make a recorder write its counts without waiting for the run's end."""

THROTTLED = "429"

_recorders: dict[str, UsageRecorder] = {}
_lock = threading.Lock()


def status_class(status: str) -> str:
    """``"2xx"`` ... ``"5xx"`` for an HTTP status, the status itself otherwise (``unreachable``)."""
    return f"{status[0]}xx" if len(status) == 3 and status.isdigit() else status


def _hour(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)


class UsageRecorder:
    """A call observer counting one account's calls per hour, operation and status class."""

    def __init__(self, account: str) -> None:
        self.account = account
        self._calls: Counter[tuple[datetime, str, str]] = Counter()
        self._throttled: Counter[tuple[datetime, str, str]] = Counter()
        self._pending = 0
        self._lock = threading.Lock()

    def call(self, operation: str, status: str) -> None:
        """Count one answered (or unanswered) request; flush once :data:`FLUSH_EVERY` are pending."""
        key = (_hour(), operation, status_class(status))
        with self._lock:
            self._calls[key] += 1
            if status == THROTTLED:
                self._throttled[key] += 1
            self._pending += 1
            due = self._pending >= FLUSH_EVERY
        if due:
            self.flush()

    def retry(self, operation: str) -> None:
        """Retries are counted as the calls they make."""

    def rate_limit_wait(self, operation: str, seconds: float) -> None:
        """Waits are not persisted (Prometheus has them)."""

    def flush(self) -> int:
        """Write the pending counts (one upsert per bucket); returns the buckets written.

        A failed write keeps the counts for the next flush (counting never breaks a run).
        """
        with self._lock:
            calls, throttled = self._calls, self._throttled
            self._calls, self._throttled, self._pending = Counter(), Counter(), 0
        if not calls:
            return 0
        try:
            with transaction.atomic():
                for (hour, operation, klass), n in calls.items():
                    key = {
                        "account": self.account,
                        "hour": hour,
                        "operation": operation,
                        "status_class": klass,
                    }
                    extra = throttled[(hour, operation, klass)]
                    updated = ApiUsage.objects.filter(**key).update(
                        calls=F("calls") + n, throttled=F("throttled") + extra
                    )
                    if not updated:
                        ApiUsage.objects.create(**key, calls=n, throttled=extra)
        except Exception:
            logger.exception(
                "could not record API usage for %d bucket(s); kept for the next flush", len(calls)
            )
            with self._lock:
                self._calls.update(calls)
                self._throttled.update(throttled)
                self._pending += sum(calls.values())
            return 0
        return len(calls)


def watch(client: object, account: str) -> UsageRecorder:
    """Register the account's recorder on ``client`` (a ``DotdigitalClient``) once; return it."""
    with _lock:
        recorder = _recorders.setdefault(account, UsageRecorder(account))
    observers: list[object] = client.observers  # type: ignore[attr-defined]
    if recorder not in observers:
        observers.append(recorder)
    return recorder


def flush_all() -> int:
    """Write every recorder's pending counts (end of a sync run or job run); returns buckets written."""
    with _lock:
        recorders = list(_recorders.values())
    return sum(recorder.flush() for recorder in recorders)
