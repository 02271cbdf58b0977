"""Programme enrolment requests (``email_automation`` rows) from the store's events (reference §2.6).

The receivers (:mod:`.receivers`) defer these handlers to the store's commit, next to the sync handlers.
Each one queues at most one ``pending`` row per (website, type, entity): a unique key makes a second
one impossible, so an event seen twice (an order saved again, a subscription re-saved) changes nothing.
A row is queued only when the store's programme id for the type is set (``programme_<name>_id``,
``programme_order_status`` / ``programme_order_status_id``; store scope over the website's) and the
website is enabled. The ``automation`` job (:mod:`dotsync.jobs.automation.enrolment`) enrols them.

=============================  ============================================  ===========================
type                           when                                          ``type_id``
=============================  ============================================  ===========================
``customer_automation``        a customer registers                          customer id
``subscriber_automation``      a subscription is (or is confirmed as)        subscriber id
                               subscribed
``order_automation``           a customer places an order                    order number
``guest_order_automation``     a guest places an order                       order number
``first_order_automation``     a customer's order is their only one          order number
``order_automation_<status>``  an order reaches the configured status        order number
``review_automation``          a customer's review is approved               review id
``wishlist_automation``        a wishlist gets its first item                wishlist id
=============================  ============================================  ===========================
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from dotsync.config import StoreSettings, get_store_config
from dotsync.models import Store
from dotsync.models.automation import ORDER_STATUS_PREFIX, Automation, AutomationType, programme_setting
from dotsync.models.newsletter import NewsletterSubscriber, SubscriberStatus
from dotsync.models.sync import canonical_email
from dotsync.store.events import StoreRef
from dotsync.store.oscar.scope import default_store, resolve_store, store_for_site

logger = logging.getLogger("dotsync.observers")


def _model(app: str, name: str) -> Any:
    from oscar.core.loading import get_model

    return get_model(app, name)


def _settings(ref: StoreRef) -> StoreSettings | None:
    store = Store.objects.select_related("website").filter(pk=ref.store_id).first()
    return None if store is None else get_store_config(store)


def queue(
    automation_type: str,
    type_id: object,
    email: str | None,
    ref: StoreRef | None,
    settings: StoreSettings | None = None,
) -> bool:
    """Queue one enrolment request unless the store has no programme for the type or one exists.

    Args:
        automation_type: the row's type.
        type_id: the entity's id (customer, subscriber, order number, review, wishlist).
        email: the contact's email.
        ref: the store the event belongs to.
        settings: the store's settings when the caller has them.

    Returns:
        True when a row was created.
    """
    if not email or ref is None:
        return False
    key = {"website_id": ref.website_id, "automation_type": automation_type, "type_id": str(type_id)}
    if Automation.objects.filter(**key).exists():  # once per entity: no settings to read
        return False
    settings = settings or _settings(ref)
    if settings is None or not settings.website.enabled:
        return False
    programme = settings.values.get(programme_setting(automation_type))
    if programme is None:
        return False
    now = timezone.now()
    name = Store.objects.filter(pk=ref.store_id).values_list("name", flat=True).first() or ""
    try:
        with transaction.atomic():
            _, created = Automation.objects.get_or_create(
                **key,
                defaults={
                    "email": canonical_email(email),
                    "store_id": ref.store_id,
                    "store_name": name,
                    "program_id": str(programme),
                    "created_at": now,
                    "updated_at": now,
                },
            )
    except IntegrityError:  # a concurrent commit queued it first
        return False
    if created:
        logger.info("email_automation %s queued for %s %s", automation_type, ref.website_id, type_id)
    return created


def customer_registered(user_id: int, site_id: int | None = None) -> None:
    """A customer registered: ``customer_automation``."""
    email = get_user_model()._default_manager.filter(pk=user_id).values_list("email", flat=True).first()
    queue(AutomationType.CUSTOMER, user_id, email, resolve_store(site_id, user_id))


def subscription_saved(subscriber_id: int) -> None:
    """A subscription was saved: once subscribed (confirmed, in double opt-in), ``subscriber_automation``."""
    sub = (
        NewsletterSubscriber.objects.filter(pk=subscriber_id)
        .values_list("subscriber_email", "store_id", "subscriber_status", "store__website_id")
        .first()
    )
    if sub is None or sub[2] != SubscriberStatus.SUBSCRIBED or sub[3] is None:
        return
    queue(AutomationType.SUBSCRIBER, subscriber_id, sub[0], StoreRef(sub[1], sub[3]))


def _order(order_id: int) -> tuple[str, str, int | None, str, StoreRef | None] | None:
    row = (
        _model("order", "Order")
        .objects.filter(pk=order_id)
        .values_list("number", "status", "user_id", "guest_email", "user__email", "site_id")
        .first()
    )
    if row is None:
        return None
    number, status, user_id, guest_email, user_email, site_id = row
    email = user_email if user_id is not None else guest_email
    return number, status or "", user_id, email or "", store_for_site(site_id) or default_store()


def order_placed(order_id: int) -> None:
    """An order was placed: ``order_automation`` (customer) or ``guest_order_automation``.

    Then :func:`order_saved`'s types.
    """
    order = _order(order_id)
    if order is None:
        return
    number, _, user_id, email, ref = order
    queue(AutomationType.ORDER if user_id is not None else AutomationType.GUEST_ORDER, number, email, ref)
    order_saved(order_id)


def order_saved(order_id: int) -> None:
    """An order was saved or changed status: first-order and order-status programmes.

    ``first_order_automation`` when it is the customer's only order, ``order_automation_<status>`` when it
    has the store's configured status (``programme_order_status``).
    """
    order = _order(order_id)
    if order is None:
        return
    number, status, user_id, email, ref = order
    if ref is None:
        return
    settings = _settings(ref)
    if settings is None:
        return
    if user_id is not None and _model("order", "Order").objects.filter(user_id=user_id).count() == 1:
        queue(AutomationType.FIRST_ORDER, number, email, ref, settings)
    wanted = str(settings.values.get("programme_order_status") or "")
    if status and wanted and wanted.lower() == status.lower():
        queue(f"{ORDER_STATUS_PREFIX}{status}", number, email, ref, settings)


def review_saved(review_id: int, site_id: int | None = None) -> None:
    """A review was saved or added: an approved review by a customer, ``review_automation``."""
    review_model = _model("reviews", "ProductReview")
    row = review_model.objects.filter(pk=review_id).values_list("status", "user_id", "user__email").first()
    if row is None or row[0] != review_model.APPROVED or row[1] is None:
        return
    queue(AutomationType.REVIEW, review_id, row[2], resolve_store(site_id, row[1]))


def wishlist_line_added(wishlist_id: int, site_id: int | None = None) -> None:
    """A wishlist line was saved: the wishlist's first item, ``wishlist_automation`` (once per wishlist)."""
    row = (
        _model("wishlists", "WishList")
        .objects.filter(pk=wishlist_id)
        .values_list("owner_id", "owner__email")
        .first()
    )
    if row is None or row[0] is None:
        return
    if not _model("wishlists", "Line").objects.filter(wishlist_id=wishlist_id).exists():
        return
    queue(AutomationType.WISHLIST, wishlist_id, row[1], resolve_store(site_id, row[0]))
