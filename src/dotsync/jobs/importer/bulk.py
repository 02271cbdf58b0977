"""The two bulk import modes: how a batch is started, how its import is polled and confirmed.

* contact ``Bulk``: the batch's CSV goes to its address book (``import_contacts_csv``). Once the
  platform says ``Finished``, its fault report is read (:mod:`.faults`), the CSV is archived to
  ``var/export/email/archive/``, and in one transaction the row becomes ``IMPORTED``, rejected records
  are quarantined and suppressed contacts are unsubscribed;
* insight ``Bulk_JSON``: the records go to ``insight_import`` as stored. Once ``Finished`` (or
  ``Complete``), the row is ``IMPORTED``; records the platform rejected are quarantined, except that a
  record rejected because its contact was not on the platform yet is sent once more with the next
  batch (its ``requeue_count`` says so; a second such rejection quarantines it).

The :mod:`.operations` declarations point at these functions; :mod:`.start` and :mod:`.poll` call
them through the declarations.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dotsync.config import WebsiteSettings
from dotsync.exceptions import DotsyncError
from dotsync.jobs import queue
from dotsync.jobs.importer import faults, state
from dotsync.jobs.importer.bisect import record_rows
from dotsync.jobs.importer.operation import Progress, Started
from dotsync.jobs.importer.retry import describe
from dotsync.models import Importer, SyncStatus, Website

if TYPE_CHECKING:
    from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

CONTACT_DONE = "finished"
CONTACT_FAILED = frozenset(
    s.lower()
    for s in (
        "RejectedByWatchdog",
        "InvalidFileFormat",
        "Unknown",
        "Failed",
        "ExceedsAllowedContactLimit",
        "NotAvailableInThisVersion",
    )
)
"""Contact import statuses that mean the import failed (lower case)."""

MISSING_CONTACT_REASONS = frozenset({"contactemaildoesnotexist", "contactiddoesnotexist"})
"""Insight failures that mean the record's contact was not on the platform yet."""

REQUEUED = "Contact not on the platform yet; sending the record again."
"""Note on a source row re-queued once after a missing-contact rejection (``requeue_count`` counts them).

A second such rejection quarantines it."""

REPORT_GRACE = timedelta(hours=1)
"""How long after its start a finished import's missing fault report is waited for (polled again)."""


def start_contacts(client: DotdigitalClient, row: Importer, cfg: WebsiteSettings) -> Started:
    """Start a contact batch: its CSV goes to its address book."""
    payload = queue.Envelope.load(row).payload
    book = payload.get("address_book_id") or cfg.address_book(payload.get("address_book", "customers"))
    if not book:
        raise DotsyncError(
            f"no {payload.get('address_book', 'customers')} address book is configured for website "
            f"{cfg.website_code}; set one in the configuration, then retry the row"
        )
    filename = f"{cfg.website_code}_{row.import_type}_{row.pk}.csv".lower()
    return Started(client.import_contacts_csv(int(book), payload["csv"].encode("utf-8"), filename=filename))


def start_insight(client: DotdigitalClient, row: Importer, cfg: WebsiteSettings) -> Started:
    """Send an insight batch with its records' JSON as stored (parsed only if stored otherwise)."""
    text = queue.Envelope.text_of(row)
    split = queue.split_records(text)
    if split is None:
        payload = json.loads(text).get("payload", {})
        return Started(
            client.insight_import(
                payload["collection"],
                payload["records"],
                scope=payload.get("scope", "contact"),
                collection_type=payload.get("type"),
            )
        )
    head, records_json = split
    del text  # the records' text is all that is kept while the call runs
    payload = head.get("payload", {})
    return Started(
        client.insight_import_json(
            payload["collection"],
            records_json,
            row.record_count,
            scope=payload.get("scope", "contact"),
            collection_type=payload.get("type"),
        )
    )


def contact_progress(row: Importer, client: DotdigitalClient) -> Progress:
    """A contact import's status."""
    status = client.contact_import_status(row.import_id)
    return Progress(status, finished=status.lower() == CONTACT_DONE, failed=status.lower() in CONTACT_FAILED)


def insight_progress(row: Importer, client: DotdigitalClient) -> Progress:
    """An insight import's status; its rejected records ride in ``detail``."""
    status = client.insight_import_status(row.import_id)
    return Progress(status.status, finished=status.finished, failed=status.failed, detail=status.failures)


def confirm_contacts(row: Importer, client: DotdigitalClient, progress: Progress) -> bool:
    """Settle a finished contact import: fault report, archive, source rows, suppressions."""
    envelope = queue.Envelope.load(row)
    note = ""
    try:
        report = faults.read_faults(
            client.contact_import_faults(row.import_id), envelope.payload.get("emails") or {}
        )
    except DotsyncError as exc:
        if exc.transient or _report_may_come(row, exc):
            raise
        report, note = faults.FaultOutcome(), f"Imported; the fault report was not available: {describe(exc)}"
    row.import_file = archive(row, envelope)
    now = timezone.now()
    with transaction.atomic():
        row.save(update_fields=["import_file"])
        unsubscribed = faults.unsubscribe_suppressed(
            state.website_of(row), report.suppressed, import_started=row.import_started or now, now=now
        )
        state.imported(row, failed=report.rejected, message=note, envelope=envelope)
        _note_suppressed(envelope, report.suppressed)
    if unsubscribed:
        logger.info(
            "importer: #%s: %d contacts suppressed by the platform, unsubscribed", row.pk, len(unsubscribed)
        )
    return True


def _report_may_come(row: Importer, exc: DotsyncError) -> bool:
    """The report is "not processed yet" and the import is recent: poll again rather than lose it."""
    not_ready = getattr(exc, "error_code", None) == "ERROR_IMPORT_REPORT_NOT_FOUND"
    started = row.import_started or timezone.now()
    return not_ready and timezone.now() - started < REPORT_GRACE


def _note_suppressed(envelope: queue.Envelope, suppressed: dict[str, str]) -> None:
    """Say on each suppressed contact's source row why the platform will not mail it.

    One ``UPDATE`` per suppression reason (and 500 rows), not per contact.
    """
    emails = envelope.payload.get("emails") or {}
    if not suppressed or not envelope.table:
        return
    by_note: dict[str, list[int]] = defaultdict(list)
    for email, reason in suppressed.items():
        if email in emails:
            by_note[f"Suppressed on the platform: {reason}"[:255]].append(emails[email])
    source = envelope.source
    for note, pks in by_note.items():
        for rows in source.rows(pks):
            rows.update(sync_message=note)


def confirm_insight(row: Importer, client: DotdigitalClient, progress: Progress) -> bool:
    """Settle a finished insight import, quarantining (or once re-queuing) the records it rejected."""
    if not progress.detail:
        state.imported(row)
        return True
    # the records are parsed only to map rejected records back to their rows
    envelope = queue.Envelope.load(row)
    by_key = record_rows(envelope)
    rejected: dict[int, str] = {}
    requeue: set[int] = set()
    for failure in progress.detail:
        pk = by_key.get(str(failure.key))
        if pk is None:
            continue
        details = "; ".join(failure.details)
        rejected[pk] = f"Rejected by the platform: {failure.reason}" + (f" ({details})" if details else "")
        if failure.reason.lower() in MISSING_CONTACT_REASONS:
            requeue.add(pk)
    with transaction.atomic():
        first_time = _first_rejections(envelope, requeue)
        state.imported(row, failed=rejected, envelope=envelope)
        _requeue(envelope, first_time)
    return True


def _first_rejections(envelope: queue.Envelope, pks: set[int]) -> list[int]:
    """The rows among ``pks`` not re-queued for a missing contact since they were last settled."""
    if not pks or not envelope.table:
        return []
    source = envelope.source
    again = {p for qs in source.rows(pks, requeue_count__gte=1) for p in qs.values_list(source.pk, flat=True)}
    return [p for p in pks if p not in again]


def _requeue(envelope: queue.Envelope, pks: list[int]) -> None:
    """Send these rows again with the next batch: their contact should exist by then."""
    if not pks:
        return
    source = envelope.source
    status = source.columns.status
    for qs in source.rows(pks, **{status: SyncStatus.FAILED}):
        qs.update(
            **{status: SyncStatus.MODIFIED}, sync_message=REQUEUED, requeue_count=F("requeue_count") + 1
        )


def archive_dir() -> Path:
    """``<var>/export/email/archive`` (``DOTSYNC_VAR_DIR`` or the ``VAR_DIR`` setting, else ``./var``)."""
    var = getattr(settings, "VAR_DIR", None) or os.environ.get("DOTSYNC_VAR_DIR") or "var"
    return Path(var) / "export" / "email" / "archive"


def archive(row: Importer, envelope: queue.Envelope) -> str:
    """Write a finished contact import's CSV to the archive; returns its path (empty if none)."""
    text = envelope.payload.get("csv")
    if not text:
        return ""
    code = Website.objects.filter(pk=state.website_of(row)).values_list("code", flat=True).first() or str(
        state.website_of(row)
    )
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}_{row.import_type}_{row.pk}.csv".lower()
    path.write_text(text, encoding="utf-8")
    return str(path)
