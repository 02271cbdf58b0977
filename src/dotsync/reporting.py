"""Summaries of the sync tables: rows per table per website, split by state.

:func:`sync_summary` is what ``dotsync status`` and ``dotsync demo`` print. Each line of the report
comes from a :class:`TableReport` in :data:`REPORTS`; another module adds its own table by appending
one (e.g. the importer's per-type breakdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Model

from dotsync.models import (
    Catalog,
    Contact,
    Importer,
    Order,
    Quote,
    Review,
    SyncStatus,
    Website,
    Wishlist,
)
from dotsync.models.importer import ImportStatus

GLOBAL = "*"
"""The website column of tables that have no website (the catalogue)."""


@dataclass(frozen=True)
class TableReport:
    """How to summarise one table.

    Attributes:
        name: the name shown, e.g. ``email_order`` or ``email_contact.subscriber``.
        model: the model to count.
        status_field: the state column to split by.
        labels: state value -> label.
        scoped: True when the table has a ``website`` column.
    """

    name: str
    model: type[Model]
    status_field: str
    labels: Mapping[int, str]
    scoped: bool = True

    def counts(self, websites: Mapping[int, str]) -> dict[str, dict[str, int]]:
        """``{website_code: {label: n, ..., "total": n}}``; websites without rows are included (zeros)."""
        zero = dict.fromkeys(self.labels.values(), 0)
        out: dict[str, dict[str, int]] = {}
        if self.scoped:
            for code in websites.values():
                out[code] = {**zero, "total": 0}
            rows = self.model._default_manager.values_list("website_id", self.status_field).annotate(
                n=Count("pk")
            )
            grouped = ((websites.get(w, f"#{w}"), s, n) for w, s, n in rows.order_by())
        else:
            out[GLOBAL] = {**zero, "total": 0}
            rows = self.model._default_manager.values_list(self.status_field).annotate(n=Count("pk"))
            grouped = ((GLOBAL, s, n) for s, n in rows.order_by())
        for code, status, n in grouped:
            bucket = out.setdefault(code, {**zero, "total": 0})
            label = self.labels.get(status, str(status))
            bucket[label] = bucket.get(label, 0) + n
            bucket["total"] += n
        return out


SYNC_LABELS = {int(s.value): str(s.label) for s in SyncStatus}
IMPORT_LABELS = {int(s.value): str(s.label) for s in ImportStatus}

REPORTS: list[TableReport] = [
    TableReport("email_contact", Contact, "sync_status", SYNC_LABELS),
    TableReport("email_contact.subscriber", Contact, "subscriber_sync_status", SYNC_LABELS),
    TableReport("email_order", Order, "sync_status", SYNC_LABELS),
    TableReport("email_quote", Quote, "sync_status", SYNC_LABELS),
    TableReport("email_wishlist", Wishlist, "sync_status", SYNC_LABELS),
    TableReport("email_review", Review, "sync_status", SYNC_LABELS),
    TableReport("email_catalog", Catalog, "sync_status", SYNC_LABELS, scoped=False),
    TableReport("email_importer", Importer, "import_status", IMPORT_LABELS),
]
"""Every table ``dotsync status`` reports, in order."""


def sync_summary() -> dict[str, Any]:
    """Rows per sync table per website, split by state.

    Returns:
        ``{"websites": [codes], "tables": {name: {website_code: {state: n, "total": n}}},
        "emails": {"case_variants": n}}``; the catalogue, which has no website, is reported under
        ``"*"``; ``case_variants`` counts contact rows whose email is not lower-cased (0 unless rows
        predate the merge of case variants, which ``dotsync install`` and the backfill run).
    """
    from dotsync.install.emails import case_report

    websites = dict(Website.objects.order_by("id").values_list("id", "code"))
    return {
        "websites": list(websites.values()),
        "tables": {report.name: report.counts(websites) for report in REPORTS},
        "emails": case_report(),
    }


def summary_rows(summary: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Flatten a :func:`sync_summary` into table columns and rows for people to read."""
    states: list[str] = []
    for per_site in summary["tables"].values():
        for counts in per_site.values():
            for state in counts:
                if state != "total" and state not in states:
                    states.append(state)
    columns = ["table", "website", *states, "total"]
    rows = []
    for table, per_site in summary["tables"].items():
        for website, counts in per_site.items():
            rows.append([table, website, *(counts.get(s, "") for s in states), counts["total"]])
    return columns, rows


from dotsync.jobs.importer.report import QUEUE_REPORT  # noqa: E402

REPORTS.append(QUEUE_REPORT)
