"""Every observed event has a connected receiver; raw saves and muted contexts are ignored."""

from __future__ import annotations

from django.db.models.signals import post_save
from oscar.test import factories

from dotsync.models import Catalog, Contact
from dotsync.store.oscar import observers
from dotsync.store.oscar.observers import receivers

ISSUE_EVENTS = {
    # the events the issue lists, each mapped to dotsync's event names
    "customer saved": {"customer_saved"},
    "customer deleted": {"customer_deleted"},
    "customer logged in": {"customer_logged_in"},
    "subscription saved": {"subscription_saved"},
    "subscription deleted": {"subscription_deleted"},
    "order placed": {"order_placed"},
    "order status changed": {"order_status_changed"},
    "order cancelled": {"order_cancelled"},
    "order refunded": {"order_refunded"},
    "basket lines changed": {"basket_line_changed", "basket_addition"},
    "wishlist line added": {"wishlist_line_added"},
    "wishlist line removed": {"wishlist_line_removed"},
    "wishlist deleted": {"wishlist_deleted"},
    "review approved": {"review_approved", "review_added"},
    "product saved": {"product_saved", "stock_record_saved"},
    "product deleted": {"product_deleted", "stock_record_deleted"},
}


def test_every_event_has_a_connected_receiver():
    conns = observers.connections()
    covered = {event for c in conns for event in c.events}
    assert covered == set(observers.EVENTS)
    assert set().union(*ISSUE_EVENTS.values()) <= covered
    for conn in conns:
        live = conn.signal._live_receivers(conn.sender)
        live = live[0] + live[1] if isinstance(live, tuple) else live
        assert conn.receiver in live, f"{conn.receiver.__name__} not connected for {conn.events}"


def test_connect_is_idempotent():
    before = sum(len(c.signal.receivers) for c in observers.connections())
    observers.connect()
    assert sum(len(c.signal.receivers) for c in observers.connections()) == before


def test_raw_saves_are_ignored(scope, committed):
    with committed(), observers.muted():
        user = factories.UserFactory()
    with committed():
        post_save.send(sender=type(user), instance=user, created=False, raw=True, using="default")
    assert not Contact.objects.exists()


def test_muted_context_silences_observers(scope, committed):
    with committed(), receivers.muted():
        factories.create_product()
        factories.UserFactory()
    assert not Catalog.objects.exists() and not Contact.objects.exists()


def test_handlers_take_a_handful_of_queries(
    scope, customer, product, place_order, django_assert_max_num_queries
):
    from dotsync.store.oscar.observers import handlers

    with observers.muted():
        order = place_order(customer)
    with django_assert_max_num_queries(9):  # 5, the fast path's nudges, the basket and placeholders moving
        handlers.sync_order(order.pk)
    with django_assert_max_num_queries(8):
        handlers.sync_customer(customer.pk)
    with django_assert_max_num_queries(6):
        handlers.sync_quote(order.basket_id)
    with django_assert_max_num_queries(3):
        handlers.sync_products([product.pk])
