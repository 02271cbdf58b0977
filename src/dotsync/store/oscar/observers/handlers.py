"""What each observer does once the store's transaction has committed.

A handler takes the ids a receiver captured, reads the few current values it needs from the shop
(a handful of queries), and reports the change to dotsync's store-event sink
(:func:`dotsync.store.events.sink`), which marks the sync rows and queues platform deletes. Reading at
commit time, not at signal time, makes handlers idempotent and order-independent: ten line saves
in one basket give ten identical upserts, and a wishlist deleted in the same transaction as its
lines leaves no row behind.

These handlers read Oscar's models (resolved with ``get_model``, so forked apps work) and the store's
scope (:mod:`dotsync.store.oscar.scope`); they never write a sync row themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model

from dotsync.models import Quote, Store
from dotsync.models.newsletter import NewsletterSubscriber
from dotsync.models.sync import canonical_email
from dotsync.store.events import StoreRef, sink
from dotsync.store.oscar.scope import default_store, resolve_store, store_for_site

logger = logging.getLogger("dotsync.observers")


def _model(app: str, name: str) -> Any:
    from oscar.core.loading import get_model

    return get_model(app, name)


def _active_statuses() -> tuple[str, ...]:
    from dotsync.store.oscar.history import ACTIVE_BASKET_STATUSES

    return ACTIVE_BASKET_STATUSES


# --- customers ------------------------------------------------------------------------------------


def sync_customer(user_id: int, site_id: int | None = None) -> None:
    """A customer was saved, registered or logged in: upsert their contact and mark it modified.

    The contact of the resolved store's website is upserted; the customer's rows in other websites
    are marked modified too. When the email changed, each old row takes the new email (or gives
    way to an existing row for it) and an email update is queued where the platform knows the old one.
    """
    email = get_user_model()._default_manager.filter(pk=user_id).values_list("email", flat=True).first()
    if not email:
        return
    store = resolve_store(site_id, user_id)
    if store is None:
        return
    email = canonical_email(email)  # a change of case only is no email change for the platform
    events = sink()
    events.customer_email_changed(user_id, email)
    events.upsert_contact(email, store, customer_id=user_id)
    events.touch_customer_contacts(user_id, except_website=store.website_id)


def customer_deleted(user_id: int, email: str) -> None:
    """A customer was deleted: their contact rows go (and the platform is told where it holds them)."""
    sink().customer_deleted(user_id)
    logger.info("customer %s deleted: contact rows removed", user_id)


# --- newsletter -----------------------------------------------------------------------------------


def _store_ref(store_id: int) -> StoreRef | None:
    website_id = Store.objects.filter(pk=store_id).values_list("website_id", flat=True).first()
    return StoreRef(store_id, website_id) if website_id else None


def sync_subscription(subscriber_id: int) -> None:
    """A newsletter subscription was saved: record its status on the contact of the store's website."""
    sub = (
        NewsletterSubscriber.objects.filter(pk=subscriber_id)
        .values_list("subscriber_email", "store_id", "subscriber_status", "customer_id", "change_status_at")
        .first()
    )
    if sub is None:
        return
    email, store_id, status, customer_id, changed_at = sub
    store = _store_ref(store_id)
    if store is None:
        return
    sink().upsert_subscription(email, store, status=status, customer_id=customer_id, changed_at=changed_at)


def subscription_deleted(email: str, store_id: int) -> None:
    """A subscription was deleted: re-sync from another store's subscription, or unsubscribe/delete.

    Another store of the website may still hold one; if not, a customer or guest contact is
    unsubscribed (and the platform told), and a subscriber-only contact is deleted (and a platform
    delete queued if it was sent).
    """
    store = _store_ref(store_id)
    if store is None:
        return
    other = (
        NewsletterSubscriber.objects.filter(subscriber_email=email, store__website_id=store.website_id)
        .order_by("-subscriber_status")
        .values_list("pk", flat=True)
        .first()
    )
    if other is not None:
        sync_subscription(other)
        return
    sink().subscription_removed(email, store)


# --- orders ---------------------------------------------------------------------------------------


def sync_order(order_id: int) -> None:
    """An order was placed, saved, changed status, cancelled or refunded: upsert its row.

    The row is marked modified, and so is the buyer's contact (a customer, or a guest flagged
    ``is_guest``). A customer's placeholder rows in other websites (made by the default-store
    fallback, never sent, holding nothing) go, and the never-sent quote row of the basket it came
    from moves to the order's store, as the history would place them.
    """
    order = (
        _model("order", "Order")
        .objects.filter(pk=order_id)
        .values_list("number", "status", "site_id", "user_id", "guest_email", "basket_id", "user__email")
        .first()
    )
    if order is None:
        return
    number, status, site_id, user_id, guest_email, basket_id, user_email = order
    store = store_for_site(site_id) or default_store()
    if store is None:
        return
    email = user_email if user_id is not None else guest_email
    events = sink()
    events.upsert_order(
        order_id,
        store,
        number=number,
        status=status,
        customer_id=user_id,
        email=email or "",
        quote_id=basket_id,
    )
    events.upsert_contact(email or "", store, customer_id=user_id, is_guest=user_id is None)
    if basket_id is not None:
        events.basket_ordered(basket_id, store)
    if user_id is not None:
        events.customer_moved(user_id, store.website_id)


# --- baskets --------------------------------------------------------------------------------------


def sync_quote(basket_id: int, site_id: int | None = None) -> None:
    """A basket's lines changed: upsert its quote row with the current item count, ``quote_updated_at`` now.

    Like the history, only baskets with an owner and at least one line get a row; a row whose
    basket emptied is kept with ``item_count`` 0.
    """
    basket = (
        _model("basket", "Basket")
        .objects.filter(pk=basket_id)
        .values_list("owner_id", "owner__email", "status")
        .first()
    )
    if basket is None:
        return
    owner_id, email, status = basket
    if owner_id is None:  # an anonymous basket syncs only once a guest gave an email (guest_basket_email)
        email = Quote.objects.filter(quote_id=basket_id).values_list("email", flat=True).first()
        if not email:
            return
    count = _model("basket", "Line").objects.filter(basket_id=basket_id).count()
    if count == 0 and not Quote.objects.filter(quote_id=basket_id).exists():  # never had a row: none now
        return
    store = resolve_store(site_id, owner_id)
    if store is None:
        return
    sink().upsert_quote(
        basket_id,
        store,
        customer_id=owner_id,
        email=email or "",
        item_count=count,
        is_active=status in _active_statuses(),
        move_store=site_id is not None,
    )


def guest_basket_email(basket_id: int, site_id: int | None, email: str) -> None:
    """A guest gave ``email`` at checkout: their anonymous basket gets a quote row with it (guest baskets).

    A basket with an owner already has its row (the owner's email); an empty basket gets none, so it never
    creates a contact. Later line changes keep the row in step (:func:`sync_quote` reads the email back).
    """
    basket = _model("basket", "Basket").objects.filter(pk=basket_id).values_list("owner_id", "status").first()
    if basket is None or basket[0] is not None or not email:
        return
    count = _model("basket", "Line").objects.filter(basket_id=basket_id).count()
    if count == 0:
        return
    store = resolve_store(site_id, None)
    if store is None:
        return
    sink().upsert_quote(
        basket_id,
        store,
        customer_id=None,
        email=canonical_email(email),
        item_count=count,
        is_active=basket[1] in _active_statuses(),
        move_store=site_id is not None,
    )


def basket_status(basket_id: int) -> None:
    """A basket was saved (submitted, merged, frozen): keep its quote row's active flag in step."""
    status = _model("basket", "Basket").objects.filter(pk=basket_id).values_list("status", flat=True).first()
    if status is not None:
        sink().set_quote_active(basket_id, status in _active_statuses())


# --- wishlists ------------------------------------------------------------------------------------


def sync_wishlist(wishlist_id: int, site_id: int | None = None) -> None:
    """A wishlist line was added or removed: upsert the wishlist row with its current item count."""
    owner_id = (
        _model("wishlists", "WishList")
        .objects.filter(pk=wishlist_id)
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner_id is None:
        return
    count = _model("wishlists", "Line").objects.filter(wishlist_id=wishlist_id).count()
    store = resolve_store(site_id, owner_id)
    if store is None:
        return
    sink().upsert_wishlist(wishlist_id, store, customer_id=owner_id, item_count=count)


def wishlist_deleted(wishlist_id: int, owner_id: int | None) -> None:
    """A wishlist was deleted: its row goes, and its platform record if it was sent."""
    sink().record_deleted("wishlists", wishlist_id, owner_email=_email_of(owner_id))


def _email_of(user_id: int | None) -> Callable[[], str | None]:
    """Reads a record owner's email, when the sink needs it (one query; None for no owner)."""

    def read() -> str | None:
        users = get_user_model()._default_manager
        return users.filter(pk=user_id).values_list("email", flat=True).first() if user_id else None

    return read


# --- reviews --------------------------------------------------------------------------------------


def sync_review(review_id: int, site_id: int | None = None) -> None:
    """A review was saved or added: upsert an approved review's row, drop an unapproved unsent one.

    A review no longer approved whose row was sent is marked modified, so the reviews job deletes it
    from the ``Reviews`` collection. The author's contact is marked modified too (review count).
    """
    review_model = _model("reviews", "ProductReview")
    review = review_model.objects.filter(pk=review_id).values_list("status", "user_id").first()
    if review is None:
        return
    status, user_id = review
    events = sink()
    if status != review_model.APPROVED:
        events.review_withdrawn(review_id, user_id)
        return
    store = resolve_store(site_id, user_id)
    if store is None:
        return
    events.upsert_review(review_id, store, customer_id=user_id, move_store=site_id is not None)
    if user_id is not None:
        events.touch_customer_contacts(user_id)


def review_deleted(review_id: int, user_id: int | None) -> None:
    """A review was deleted: its row goes, and its ``Reviews`` record if it was sent."""
    events = sink()
    if events.record_deleted("reviews", review_id, owner_email=_email_of(user_id)) and user_id:
        events.touch_customer_contacts(user_id)


def basket_deleted(basket_id: int, owner_id: int | None) -> None:
    """A basket was deleted: its quote row goes, and its ``Quote`` record if it was sent."""
    sink().record_deleted("quotes", basket_id, owner_email=_email_of(owner_id))


# --- catalogue ------------------------------------------------------------------------------------


def sync_products(product_ids: Iterable[int | None]) -> None:
    """Products (or their stock records) were saved: upsert their catalog rows and their parents'."""
    ids = [i for i in product_ids if i is not None]
    if not ids:
        return
    found = _model("catalogue", "Product").objects.filter(pk__in=ids).values_list("pk", "parent_id")
    targets: list[int] = []
    for pk, parent_id in found:
        targets.append(pk)
        if parent_id is not None:
            targets.append(parent_id)
    sink().upsert_catalog(targets)


def product_deleted(product_id: int) -> None:
    """A product was deleted: its catalog row goes, and its record in every catalog it was sent to."""
    sink().product_deleted(product_id)
