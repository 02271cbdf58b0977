"""The importer queue in ``dotsync status``: per website, rows due now, deferred by backoff, importing.

``email_importer`` itself is reported by status (pending, importing, imported, failed) in
:mod:`dotsync.reporting`; this line splits the live queue further, so a stall is visible: rows
*deferred* wait for ``next_attempt_at`` (a retry or a busy account), rows *due* go out on the next
run, and *retried* counts live rows that already failed at least once.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Q
from django.utils import timezone

from dotsync.models import Importer
from dotsync.models.importer import ImportStatus
from dotsync.reporting import TableReport

QUEUE_LABELS = {0: "due", 1: "deferred", 2: "importing", 3: "retried"}


class ImporterQueueReport(TableReport):
    """``email_importer.queue``: the live queue per website (three conditional counts, one query)."""

    def counts(self, websites: Mapping[int, str]) -> dict[str, dict[str, int]]:
        """``{website_code: {"due": n, "deferred": n, "importing": n, "retried": n, "total": n}}``."""
        now = timezone.now()
        pending = Q(import_status=ImportStatus.PENDING)
        deferred = pending & Q(next_attempt_at__gt=now)
        live = Q(import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING])
        out = {code: dict.fromkeys([*QUEUE_LABELS.values(), "total"], 0) for code in websites.values()}
        rows = (
            Importer.objects.filter(live)
            .values("website_id")
            .annotate(
                pending=Count("pk", filter=pending),
                deferred=Count("pk", filter=deferred),
                importing=Count("pk", filter=Q(import_status=ImportStatus.IMPORTING)),
                retried=Count("pk", filter=Q(retry_count__gt=0)),
            )
            .order_by()
        )
        for row in rows:
            code = websites.get(row["website_id"], f"#{row['website_id']}")
            out[code] = {
                "due": row["pending"] - row["deferred"],
                "deferred": row["deferred"],
                "importing": row["importing"],
                "retried": row["retried"],
                "total": row["pending"] + row["importing"],
            }
        return out


QUEUE_REPORT: TableReport = ImporterQueueReport(
    "email_importer.queue", Importer, "import_status", QUEUE_LABELS
)
"""Appended to :data:`dotsync.reporting.REPORTS`."""
