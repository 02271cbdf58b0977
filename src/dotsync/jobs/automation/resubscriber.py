"""``resubscriber``: contacts resubscribed on the platform become subscribed in the store again (§2.9).

Per account, every 15 minutes by default: ``GET /v2/contacts/modified-since/{from time}?withFullData``,
paged. A contact counts as taken back when its status is ``Subscribed`` and its ``LASTSUBSCRIBED`` data
field is at or after the from time. In each of the account's websites:

* the store's ``newsletter_subscriber`` rows that are unsubscribed, and were last changed in the store
  before ``LASTSUBSCRIBED``, are subscribed again (:func:`dotsync.store.newsletter.resubscribe`);
* ``email_contact``: a suppression older than ``LASTSUBSCRIBED`` is lifted (``suppressed`` cleared
  and the contact marked ``MODIFIED``; ``suppressed_at`` stays until the next confirmed import of the
  contact releases the records held for it, as for a store resubscription); where a newsletter row came
  back, the contact is a subscriber again (status 1, ``last_subscribed_at`` =
  ``LASTSUBSCRIBED``) and its subscriber row is marked ``MODIFIED`` so the subscribers address book
  gets it.

A suppression newer than ``LASTSUBSCRIBED`` is never lifted, a contact the platform shows as anything
but ``Subscribed`` (suppressed again, globally suppressed) is never taken back, and an unsubscribe made
in the store after the platform's resubscription is never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dotsync.accounts import Account
from dotsync.jobs.automation.feed import FeedJob, pages, parse_time, store_ids
from dotsync.jobs.base import JobResult, JobScope
from dotsync.models import Contact, SyncStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.sync import canonical_email
from dotsync.store import newsletter

logger = logging.getLogger(__name__)

LAST_SUBSCRIBED = "LASTSUBSCRIBED"
"""The platform's system data field: when the contact last subscribed."""


def last_subscribed(contact: dict[str, object]) -> datetime | None:
    """An ``ApiContact``'s ``LASTSUBSCRIBED`` (``dataFields: [{key, value}]``), or None."""
    fields = contact.get("dataFields")
    if not isinstance(fields, list):
        return None
    for field in fields:
        if isinstance(field, dict) and str(field.get("key", "")).upper() == LAST_SUBSCRIBED:
            return parse_time(field.get("value"))
    return None


def taken_back(contacts: Sequence[dict[str, object]], since: datetime) -> dict[str, datetime]:
    """Lower-cased email -> ``LASTSUBSCRIBED``, for the page's contacts resubscribed since ``since``."""
    out: dict[str, datetime] = {}
    for contact in contacts:
        email = contact.get("email")
        if not isinstance(email, str) or str(contact.get("status", "")).lower() != "subscribed":
            continue
        when = last_subscribed(contact)
        if when is None or when < since:
            continue
        out[canonical_email(email)] = when
    return out


def apply_resubscriptions(
    website_id: int, stores: Sequence[int], back: dict[str, datetime], now: datetime
) -> tuple[int, int]:
    """Carry the platform's resubscriptions into one website.

    Returns:
        (newsletter subscriptions restored, contacts whose suppression was lifted).
    """
    restored = newsletter.resubscribe(back, stores) if stores else {}
    lifted = 0
    with transaction.atomic():
        rows = list(
            Contact.objects.select_for_update()
            .filter(website_id=website_id, email__in=list(back))
            .only(
                "pk",
                "email",
                "suppressed",
                "suppressed_at",
                "is_subscriber",
                "subscriber_status",
                "last_subscribed_at",
                "subscriber_sync_status",
                "sync_status",
            )
        )
        update: list[Contact] = []
        for row in rows:
            when = back[row.email]
            newer_suppression = row.suppressed_at is not None and row.suppressed_at > when
            if newer_suppression:
                continue  # suppressed again after the resubscription: never resurrected
            touched = False
            if row.suppressed:
                # suppressed_at stays: the next confirmed import of the contact releases the records
                # held for the suppression and clears it (contact_gate.release_held)
                row.suppressed = False
                if row.sync_status not in SyncStatus.pending():
                    row.sync_status = SyncStatus.MODIFIED
                lifted += 1
                touched = True
            if row.email in restored:
                row.is_subscriber = True
                row.subscriber_status = SubscriberStatus.SUBSCRIBED
                if row.last_subscribed_at is None or row.last_subscribed_at < when:
                    row.last_subscribed_at = when
                if row.subscriber_sync_status not in SyncStatus.pending():
                    row.subscriber_sync_status = SyncStatus.MODIFIED
                touched = True
            if touched:
                row.updated_at = now
                update.append(row)
        Contact.objects.bulk_update(
            update,
            [
                "suppressed",
                "sync_status",
                "is_subscriber",
                "subscriber_status",
                "last_subscribed_at",
                "subscriber_sync_status",
                "updated_at",
            ],
        )
    return sum(restored.values()), lifted


@dataclass(frozen=True)
class ResubscriberJob(FeedJob):
    """Resubscriptions on the platform -> subscribed in the store, per account."""

    def sync(self, account: Account, since: datetime, result: JobResult) -> None:
        """Read the account's contacts modified since ``since`` and take the resubscribed ones back."""
        client = account.client()
        for page in pages(client.iter_modified_since(since)):
            back = taken_back(page, since)
            if not back:
                continue
            now = timezone.now()
            for website in account.websites:
                restored, lifted = apply_resubscriptions(
                    website.website.pk, store_ids(account, website.website.pk), back, now
                )
                result.add(website.code, "resubscribed_on_platform", len(back))
                result.add(website.code, "subscriptions_restored", restored)
                result.add(website.code, "suppressions_lifted", lifted)
        logger.info("resubscriber: account of website(s) %s read from %s", account.codes, since.isoformat())


JOB = ResubscriberJob(
    "resubscriber",
    "platform_modified_contacts",
    "Carries contacts resubscribed in dotdigital since the last run back into the store (subscribed).",
    JobScope.ACCOUNT,
    default_frequency=15,
)


def run(website_code: str | None = None) -> JobResult:
    """Run the resubscriber once (every account, or the account of ``website_code``)."""
    return JOB(website_code)
