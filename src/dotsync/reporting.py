"""Summaries of the sync tables: rows per table per website, split by state.

:func:`sync_summary` is what ``dotsync status`` and ``dotsync demo`` print. Each line of the report
comes from a :class:`~dotsync.jobs.status_lines.TableReport` in :data:`REPORTS`: the sync streams
declare theirs (:mod:`dotsync.jobs.streams`), the importer queue its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dotsync.jobs import sms, streams
from dotsync.jobs.automation import abandoned_carts, campaigns
from dotsync.jobs.importer.report import QUEUE_REPORT
from dotsync.jobs.status_lines import GLOBAL, IMPORT_LABELS, SYNC_LABELS, TableReport
from dotsync.models import ContactConsent, Importer, Website
from dotsync.models.automation import Automation, AutomationStatus

__all__ = ["GLOBAL", "IMPORT_LABELS", "REPORTS", "SYNC_LABELS", "TableReport", "summary_rows", "sync_summary"]

REPORTS: list[TableReport] = [
    *streams.status_lines(),
    TableReport("email_importer", Importer, "import_status", IMPORT_LABELS),
    QUEUE_REPORT,
    campaigns.STATUS_LINE,
    sms.STATUS_LINE,
    abandoned_carts.STATUS_LINE,
    TableReport(
        "email_automation",
        Automation,
        "enrolment_status",
        {str(s.value): str(s.label) for s in AutomationStatus},
    ),
    TableReport(
        "email_contact_consent",
        ContactConsent,
        "consent_imported",
        {False: "waiting", True: "sent"},
        website_field="email_contact__website_id",
    ),
]
"""Every table ``dotsync status`` reports, in order: each stream's line
(:attr:`~dotsync.jobs.stream.Stream.status_line`), the importer queue by status, then the live
queue split further (:mod:`dotsync.jobs.importer.report`), then the automation tables (campaign sends
by send status, SMS order-status messages by send status, abandoned-cart series by step reached,
programme enrolments by enrolment status, and consent records by whether they were sent with their
contact)."""


def sync_summary(*, emails: bool = True) -> dict[str, Any]:
    """Rows per sync table per website, split by state.

    Args:
        emails: also report ``emails`` (reads every contact's email: off for the admin dashboard,
            which runs aggregate queries only).

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
        **({"emails": case_report()} if emails else {}),
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
