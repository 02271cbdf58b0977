"""``email_api_usage``: dotdigital API calls per account, hour, operation and status class.

Written by :mod:`dotsync.usage` (a call observer on each account's client, flushed in batches), read by
the admin dashboard's 24-hour charts.
"""

from __future__ import annotations

from django.db import models


class ApiUsage(models.Model):
    """Calls made in one hour for one account, operation and status class.

    Attributes:
        account: the account's label (API user at base URL; never the password).
        hour: the start of the hour (UTC) the calls were answered in.
        operation: the client operation name (e.g. ``contacts.import``).
        status_class: ``2xx``, ``3xx``, ``4xx``, ``5xx`` or ``unreachable``.
        calls: requests sent (each retry counts).
        throttled: of those, answers that were rate limits (HTTP 429).
    """

    account = models.CharField(max_length=255)
    hour = models.DateTimeField()
    operation = models.CharField(max_length=100)
    status_class = models.CharField(max_length=16)
    calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "email_api_usage"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hour", "operation", "status_class"], name="email_api_usage_bucket"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="email_api_usage_hour")]

    def __str__(self) -> str:
        return f"{self.account} {self.hour:%Y-%m-%d %H}:00 {self.operation} {self.status_class}: {self.calls}"
