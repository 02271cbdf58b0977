"""``unsubscriber``: contacts suppressed on the platform become unsubscribed in the store (reference §2.9).

Per account, every 15 minutes by default: ``GET /v2/contacts/suppressed-since/{from time}``, paged.
Each suppression (``suppressedContact.email``, ``dateRemoved``) is applied in the account's websites
only:

* ``email_contact``: ``suppressed`` (with ``suppressed_at`` = the platform's ``dateRemoved``),
  ``is_subscriber`` off, subscriber status 3 (unsubscribed);
* the store's ``newsletter_subscriber`` rows in the website's stores: status 3, through the store
  adapter's ``unsubscribe`` write-back.

A contact who subscribed again in the store after ``dateRemoved`` (``email_contact.last_subscribed_at``,
or the newsletter row's ``change_status_at``) is left subscribed: the fresh subscription wins and the
contacts job takes it to the platform. Nothing here ever subscribes anyone. Applying a suppression
twice changes nothing, so overlapping windows are harmless.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from dotsync.accounts import Account
from dotsync.jobs.automation.feed import FeedJob, pages, parse_time, store_ids
from dotsync.jobs.base import JobResult, JobScope
from dotsync.models import Contact, NewsletterSubscriber
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.sync import canonical_email

logger = logging.getLogger(__name__)


def suppressions(items: Sequence[dict[str, object]]) -> dict[str, datetime]:
    """Lower-cased email -> the latest ``dateRemoved`` among a page of ``ApiContactSuppression`` items."""
    out: dict[str, datetime] = {}
    for item in items:
        contact = item.get("suppressedContact")
        email = contact.get("email") if isinstance(contact, dict) else None
        removed = parse_time(item.get("dateRemoved"))
        if not isinstance(email, str) or not email or removed is None:
            continue
        key = canonical_email(email)
        if key not in out or removed > out[key]:
            out[key] = removed
    return out


def apply_suppressions(
    website_id: int, stores: Sequence[int], removed: dict[str, datetime], now: datetime
) -> tuple[int, int]:
    """Unsubscribe these emails in one website, unless they subscribed again in the store since.

    Args:
        website_id: the website (one of the account's).
        stores: its store ids (the newsletter rows that may change).
        removed: lower-cased email -> when the platform suppressed it.
        now: the ``change_status_at`` written on the newsletter rows.

    Returns:
        (contacts or subscriptions unsubscribed, emails left subscribed because the store's
        subscription is newer than the suppression).
    """
    changed: set[str] = set()
    kept: set[str] = set()
    with transaction.atomic():
        rows = list(
            Contact.objects.select_for_update()
            .filter(website_id=website_id, email__in=list(removed))
            .only("pk", "email", "suppressed", "suppressed_at", "last_subscribed_at", "is_subscriber")
        )
        update: list[Contact] = []
        for row in rows:
            when = removed[row.email]
            if row.last_subscribed_at is not None and row.last_subscribed_at > when:
                kept.add(row.email)  # subscribed again in the store after the suppression
                continue
            if row.suppressed and row.suppressed_at is not None and not row.is_subscriber:
                continue  # already suppressed: the first suppression time is kept
            row.suppressed = True
            row.suppressed_at = row.suppressed_at if row.suppressed and row.suppressed_at else when
            row.is_subscriber = False
            row.subscriber_status = SubscriberStatus.UNSUBSCRIBED
            row.updated_at = now
            update.append(row)
            changed.add(row.email)
        Contact.objects.bulk_update(
            update, ["suppressed", "suppressed_at", "is_subscriber", "subscriber_status", "updated_at"]
        )
    if stores:
        changed |= _unsubscribe_in_store(
            {e: t for e, t in removed.items() if e not in kept}, stores, now, kept
        )
    return len(changed), len(kept)


def _unsubscribe_in_store(
    removed: dict[str, datetime], stores: Sequence[int], now: datetime, kept: set[str]
) -> set[str]:
    """The store's newsletter rows, through the adapter; a row changed after the suppression is kept."""
    from dotsync.store.registry import get_adapter

    spelled: dict[str, list[str]] = defaultdict(list)  # the shop's spellings of each email
    for email in (
        NewsletterSubscriber.objects.annotate(_email=Lower("subscriber_email"))
        .filter(_email__in=list(removed), store_id__in=list(stores))
        .exclude(subscriber_status=SubscriberStatus.UNSUBSCRIBED)
        .values_list("subscriber_email", flat=True)
        .distinct()
    ):
        spelled[canonical_email(email)].append(email)
    by_time: dict[datetime, list[str]] = defaultdict(list)  # one write-back per suppression time
    for key, spellings in spelled.items():
        by_time[removed[key]].extend(spellings)
    changed: set[str] = set()
    adapter = get_adapter()
    for when, emails in sorted(by_time.items()):
        done = adapter.unsubscribe(emails, stores, now, unless_changed_after=when)
        for email, did in done.items():
            if did:
                changed.add(canonical_email(email))
            elif canonical_email(email) not in changed:
                kept.add(canonical_email(email))
    return changed


@dataclass(frozen=True)
class UnsubscriberJob(FeedJob):
    """Suppressions on the platform -> unsubscribed in the store, per account."""

    def sync(self, account: Account, since: datetime, result: JobResult) -> None:
        """Read the account's suppressions since ``since`` and apply them to each of its websites."""
        client = account.client()
        for page in pages(client.iter_suppressed_since(since)):
            removed = suppressions(page)
            if not removed:
                continue
            now = timezone.now()
            for website in account.websites:
                changed, kept = apply_suppressions(
                    website.website.pk, store_ids(account, website.website.pk), removed, now
                )
                result.add(website.code, "suppressions", len(removed))
                result.add(website.code, "unsubscribed", changed)
                if kept:
                    result.add(website.code, "kept_resubscribed", kept)
        logger.info("unsubscriber: account of website(s) %s read from %s", account.codes, since.isoformat())


JOB = UnsubscriberJob(
    "unsubscriber",
    "unsubscribe",
    "Carries contacts suppressed in dotdigital since the last run into the store (unsubscribed).",
    JobScope.ACCOUNT,
    default_frequency=15,
)


def run(website_code: str | None = None) -> JobResult:
    """Run the unsubscriber once (every account, or the account of ``website_code``)."""
    return JOB(website_code)
