"""Write-back to dotsync's ``newsletter_subscriber`` table, shared by every adapter that uses it.

Oscar has no newsletter, so dotsync supplies the table (:class:`~dotsync.models.NewsletterSubscriber`)
and any adapter can delegate its subscriber reads and unsubscribe write-back here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from dotsync.models import NewsletterSubscriber
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store.records import Subscriber

logger = logging.getLogger(__name__)

CHUNK = 500
"""Emails per ``UPDATE`` (well under SQLite's bound-parameter limit)."""


def read_subscribers(ids: Iterable[int]) -> Iterator[Subscriber]:
    """Subscriber records for these ``subscriber_id`` values (one query)."""
    rows = NewsletterSubscriber.objects.filter(subscriber_id__in=list(ids)).order_by("subscriber_id")
    for row in rows:
        yield Subscriber(
            id=row.subscriber_id,
            email=row.subscriber_email,
            store_id=row.store_id,  # type: ignore[attr-defined]
            status=row.subscriber_status,
            customer_id=row.customer_id,
            change_status_at=row.change_status_at,
        )


def unsubscribe(
    emails: Sequence[str], store_ids: Sequence[int], at: datetime, *, unless_changed_after: datetime
) -> Mapping[str, bool]:
    """Set ``subscriber_status`` to unsubscribed for these emails in these stores.

    Rows already unsubscribed are left as they are (reported ``False``). A row whose
    ``change_status_at`` is later than ``unless_changed_after`` changed in the store after the
    platform's view was taken (a re-subscription) and is left alone too. Runs one ``SELECT`` and
    one bulk ``UPDATE`` per :data:`CHUNK` emails, each chunk in a transaction.

    Args:
        emails: the emails to unsubscribe.
        store_ids: the stores whose subscriptions change (usually a website's stores).
        at: the new ``change_status_at``.
        unless_changed_after: skip rows changed after this time.

    Returns:
        email -> True when at least one of its rows changed; emails with no row are absent.
    """
    result: dict[str, bool] = {}
    unique = sorted(set(emails))
    stores = list(store_ids)
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        with transaction.atomic():
            rows = NewsletterSubscriber.objects.select_for_update().filter(
                subscriber_email__in=chunk, store_id__in=stores
            )
            changeable = Q(change_status_at__isnull=True) | Q(change_status_at__lte=unless_changed_after)
            candidates = list(
                rows.filter(changeable)
                .exclude(subscriber_status=SubscriberStatus.UNSUBSCRIBED)
                .values_list("subscriber_id", "subscriber_email")
            )
            for email in rows.values_list("subscriber_email", flat=True):
                result.setdefault(email, False)
            if candidates:
                NewsletterSubscriber.objects.filter(subscriber_id__in=[pk for pk, _ in candidates]).update(
                    subscriber_status=SubscriberStatus.UNSUBSCRIBED, change_status_at=at
                )
            for _, email in candidates:
                result[email] = True
    logger.info("newsletter unsubscribe: %d emails asked, %d changed", len(unique), sum(result.values()))
    return result


def resubscribe(taken_back: Mapping[str, datetime], store_ids: Sequence[int]) -> dict[str, int]:
    """Subscribe again, in these stores, the emails the platform took back (its ``LASTSUBSCRIBED``).

    Only rows currently unsubscribed change, and only when their last change in the store
    (``change_status_at``) is older than the platform's resubscription: an unsubscribe made in the
    store since then wins. Changed rows get status subscribed and ``change_status_at`` = the
    platform's time. Emails are matched case-insensitively; bulk ``UPDATE``, so no store signal fires
    (the caller records the change on ``email_contact``).

    Args:
        taken_back: lower-cased email -> when the platform resubscribed it.
        store_ids: the stores whose subscriptions may change (usually a website's stores).

    Returns:
        lower-cased email -> the number of its rows subscribed again (emails with none are absent).
    """
    from django.db.models.functions import Lower

    result: dict[str, int] = {}
    keys = sorted(taken_back)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        with transaction.atomic():
            rows = list(
                NewsletterSubscriber.objects.select_for_update()
                .annotate(_email=Lower("subscriber_email"))
                .filter(_email__in=chunk, store_id__in=list(store_ids))
                .filter(subscriber_status=SubscriberStatus.UNSUBSCRIBED)
                .values_list("subscriber_id", "_email", "change_status_at")
            )
            for pk, email, changed_at in rows:
                at = taken_back[email]
                if changed_at is not None and changed_at >= at:
                    continue  # unsubscribed in the store after the platform took them back
                NewsletterSubscriber.objects.filter(pk=pk).update(
                    subscriber_status=SubscriberStatus.SUBSCRIBED, change_status_at=at
                )
                result[email] = result.get(email, 0) + 1
    logger.info("newsletter resubscribe: %d emails asked, %d changed", len(keys), len(result))
    return result
