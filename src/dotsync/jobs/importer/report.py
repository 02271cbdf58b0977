"""The importer queue in ``dotsync status``: per website, rows due now, deferred by backoff, importing.

``email_importer`` itself is reported by status (pending, importing, imported, failed) in
:mod:`dotsync.reporting`; this line splits the live queue further, so a stall is visible: rows
*deferred* wait for ``next_attempt_at`` (a retry or a busy account), rows *due* go out on the next
run, and *retried* counts live rows that already failed at least once. The deferred rows are split
again by why they wait (``wait_reason``): ``waiting:unreachable``, ``waiting:credentials``,
``waiting:platform_error``... (``dotsync retry`` makes them due now).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from django.db.models import Count, Q
from django.utils import timezone

from dotsync.jobs.status_lines import TableReport
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus, WaitReason

REASONS = [reason for reason in WaitReason if reason]
QUEUE_LABELS = {
    0: "due",
    1: "deferred",
    2: "importing",
    3: "retried",
    **{4 + i: f"waiting:{reason.value}" for i, reason in enumerate(REASONS)},
}


class ImporterQueueReport(TableReport):
    """``email_importer.queue``: the live queue per website (three conditional counts, one query)."""

    def counts(self, websites: Mapping[int, str]) -> dict[str, dict[str, int]]:
        """Counts of the live queue per website.

        Returns:
            ``{code: {"due", "deferred", "importing", "retried", "waiting:<reason>"..., "total": n}}``.
        """
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
                **{
                    f"waiting:{reason.value}": Count("pk", filter=deferred & Q(wait_reason=reason))
                    for reason in REASONS
                },
            )
            .order_by()
        )
        for values in rows:
            row = cast(dict[str, int], values)  # the annotated counts, by name
            code = websites.get(row["website_id"], f"#{row['website_id']}")
            out[code] = {
                "due": row["pending"] - row["deferred"],
                "deferred": row["deferred"],
                "importing": row["importing"],
                "retried": row["retried"],
                **{f"waiting:{reason.value}": row[f"waiting:{reason.value}"] for reason in REASONS},
                "total": row["pending"] + row["importing"],
            }
        return out


QUEUE_REPORT: TableReport = ImporterQueueReport(
    "email_importer.queue", Importer, "import_status", QUEUE_LABELS
)
"""The last line of :data:`dotsync.reporting.REPORTS`."""
