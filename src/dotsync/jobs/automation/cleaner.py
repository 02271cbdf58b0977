"""``cleaner``: finished work older than the retention goes (reference §2.10), monthly by default.

Per website, with its ``cleaner_retention_days`` (default 30): rows created before now minus the
retention are deleted from

* ``email_importer`` when ``IMPORTED`` or ``FAILED`` (and the archived CSV each one names),
* ``email_automation`` when the enrolment is over (:data:`FINISHED_ENROLMENTS`),
* ``email_campaign`` when ``SENT`` or ``FAILED``,
* ``email_contact_consent`` when sent to the platform (``consent_imported``), by ``consent_datetime``,
* ``email_monitor_alert`` (the ``monitor`` job's records) by ``window_end``,
* ``email_product_view`` (the storefront's product views) on the website's sites, by ``viewed_at``,

plus archived import files of the website older than the retention that no row names any more. Pending
or in-flight work is never touched: a row is deleted only if it is finished at the moment of its
``DELETE`` (the status is part of the statement, not just of the read). Deletes run in batches of
:data:`BATCH` primary keys, read by keyset, so memory and lock time stay bounded whatever the table's
size. Sync tables (contacts, orders, catalog...) and abandoned-cart state are never cleaned.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.importer.bulk import archive_dir
from dotsync.models import Automation, Campaign, ContactConsent, Importer, MonitorAlert, ProductView
from dotsync.models.automation import CampaignSendStatus
from dotsync.models.importer import ImportStatus

logger = logging.getLogger(__name__)

BATCH = 10_000
"""Primary keys per ``DELETE`` (the reference's batch)."""

DEFAULT_RETENTION_DAYS = 30
"""Days kept when ``cleaner_retention_days`` is not set (the reference's ``table_cleaner_interval``)."""

FINISHED_ENROLMENTS = ("Active", "Failed", "Deactivated", "Expired", "Cancelled")
"""``email_automation.enrolment_status`` values of an enrolment that is over (any other is kept)."""


def retention_days(ctx: WebsiteContext) -> int:
    """The website's retention in days (``cleaner_retention_days``)."""
    return int(getattr(ctx.cfg, "cleaner_retention_days", DEFAULT_RETENTION_DAYS))


def delete_in_batches(
    qs: models.QuerySet[Any],
    *,
    batch: int = BATCH,
    before_delete: Callable[[list[Any]], None] | None = None,
    columns: tuple[str, ...] = (),
) -> int:
    """Delete the rows of ``qs`` by primary-key keyset, ``batch`` at a time; returns the rows deleted.

    Each batch reads its keys (and ``columns``, handed with them to ``before_delete`` after the delete)
    and deletes ``qs.filter(pk__in=keys)``: ``qs``'s conditions are part of the ``DELETE``, so a row
    that stopped matching them in between (a retry moved it back to pending) is not deleted.
    """
    model = qs.model
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    deleted, last = 0, None
    while True:
        page = qs.order_by(pk)
        if last is not None:
            page = page.filter(**{f"{pk}__gt": last})
        rows = list(page.values_list(pk, *columns)[:batch])
        if not rows:
            return deleted
        keys = [row[0] for row in rows]
        with transaction.atomic():
            n, _ = qs.filter(**{f"{pk}__in": keys}).delete()
        if before_delete is not None and n:
            before_delete(rows)
        deleted += n
        last = keys[-1]


def _remove_archives(rows: list[Any]) -> None:
    """Unlink the archived CSVs that deleted importer rows named (only inside the archive folder)."""
    folder = archive_dir().resolve()
    for _pk, path in rows:
        if not path:
            continue
        target = Path(path).resolve()
        if target.parent == folder and not Importer.objects.filter(import_file=path).exists():
            target.unlink(missing_ok=True)


def sweep_archive(code: str, cutoff: datetime) -> int:
    """Unlink the website's archived import files last written before ``cutoff``; returns how many."""
    folder = archive_dir()
    if not folder.is_dir():
        return 0
    removed = 0
    prefix = f"{code}_".lower()
    for entry in os.scandir(folder):
        if not entry.is_file() or not entry.name.startswith(prefix):
            continue
        if (
            entry.stat().st_mtime < cutoff.timestamp()
            and not Importer.objects.filter(import_file=entry.path).exists()
        ):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def clean_website(website_id: int, code: str, cutoff: datetime, *, batch: int = BATCH) -> dict[str, int]:
    """Delete one website's finished rows created before ``cutoff``; returns the rows deleted per table."""
    counts = {
        "email_importer": delete_in_batches(
            Importer.objects.filter(
                website_id=website_id,
                import_status__in=[ImportStatus.IMPORTED, ImportStatus.FAILED],
                created_at__lt=cutoff,
            ),
            batch=batch,
            columns=("import_file",),
            before_delete=_remove_archives,
        ),
        "email_automation": delete_in_batches(
            Automation.objects.filter(
                website_id=website_id, enrolment_status__in=FINISHED_ENROLMENTS, created_at__lt=cutoff
            ),
            batch=batch,
        ),
        "email_campaign": delete_in_batches(
            Campaign.objects.filter(
                website_id=website_id,
                send_status__in=[CampaignSendStatus.SENT, CampaignSendStatus.FAILED],
                created_at__lt=cutoff,
            ),
            batch=batch,
        ),
        "email_contact_consent": delete_in_batches(
            ContactConsent.objects.filter(
                email_contact__website_id=website_id, consent_imported=True, consent_datetime__lt=cutoff
            ),
            batch=batch,
        ),
        "email_monitor_alert": delete_in_batches(
            MonitorAlert.objects.filter(website_id=website_id, window_end__lt=cutoff), batch=batch
        ),
    }
    counts["email_product_view"] = delete_in_batches(
        ProductView.objects.filter(_website_sites(website_id), viewed_at__lt=cutoff), batch=batch
    )
    counts["archive_files"] = sweep_archive(code, cutoff)
    return counts


def _website_sites(website_id: int) -> models.Q:
    """Rows on the website's sites (the sync's scope rule: unbound sites go to the default store)."""
    from dotsync.store.oscar.scope import StoreMap

    stores = StoreMap.load()
    mine = [store for store, website in stores.store_website.items() if website == website_id]
    return stores.order_filter(mine)


@dataclass(frozen=True)
class CleanerJob(Job):
    """The cleaner: one unit per website, each with its own retention."""

    def run(self, ctx: RunContext) -> JobResult:
        """Clean every website of the context."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        now = timezone.now()
        for website in ctx.websites:
            days = retention_days(website)
            counts = clean_website(website.website.pk, website.code, now - timedelta(days=days))
            for table, n in counts.items():
                result.add(website.code, table, n)
            logger.info("cleaner: website %s, %d day(s) kept: %s", website.code, days, counts)
        return result


JOB = CleanerJob(
    "cleaner",
    "cleaner",
    "Deletes finished importer, automation, campaign and consent rows older than the retention.",
    JobScope.WEBSITE,
    default_frequency=60 * 24 * 30,
    after=("importer", "campaigns", "automation"),  # after the work it may delete settles
)


def run(website_code: str | None = None) -> JobResult:
    """Run the cleaner once (every website, or ``website_code``)."""
    return JOB(website_code)
