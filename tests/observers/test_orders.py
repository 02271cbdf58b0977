"""Order observers, through Oscar's real OrderCreator, set_status and payment source refunds."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.utils import timezone
from oscar.core.loading import get_model

from dotsync.jobs import events as rows
from dotsync.models import Contact, Order, SyncStatus


def test_order_placed_creates_order_row_and_customer_contact(scope, customer, place_order, committed):
    with committed():
        order = place_order(customer)
    row = Order.objects.get(order_id=order.pk)
    assert (row.website_id, row.store_id) == (scope.main.pk, scope.main_en.pk)
    assert row.sync_status == SyncStatus.NEW
    assert (row.order_number, row.order_status, row.email) == (
        str(order.number),
        "pending",
        "ada@example.com",
    )
    assert row.customer_id == customer.pk and row.quote_id == order.basket_id
    contact = Contact.objects.get(email="ada@example.com", website=scope.main)
    assert contact.customer_id == customer.pk and not contact.is_guest


def test_guest_order_on_outlet_site_flags_a_guest_contact_in_that_website(scope, place_order, committed):
    with committed():
        order = place_order(site=scope.outlet_en.site, guest_email="guest@example.com")
    row = Order.objects.get(order_id=order.pk)
    assert (row.website_id, row.store_id, row.customer_id) == (scope.outlet.pk, scope.outlet_en.pk, None)
    contact = Contact.objects.get(email="guest@example.com")
    assert contact.is_guest and contact.customer_id is None and contact.website_id == scope.outlet.pk


def test_status_change_and_cancel_mark_the_imported_row_modified(scope, customer, place_order, committed):
    with committed():
        order = place_order(customer)
    Order.objects.filter(order_id=order.pk).update(sync_status=SyncStatus.IMPORTED)
    with committed():
        order.set_status("processing")
    row = Order.objects.get(order_id=order.pk)
    assert (row.sync_status, row.order_status) == (SyncStatus.MODIFIED, "processing")
    Order.objects.filter(order_id=order.pk).update(sync_status=SyncStatus.IMPORTED)
    with committed():
        order.set_status("cancelled")
    row = Order.objects.get(order_id=order.pk)
    assert (row.sync_status, row.order_status) == (SyncStatus.MODIFIED, "cancelled")
    assert Order.objects.count() == 1


def test_a_row_never_sent_stays_new_when_the_order_changes(scope, customer, place_order, committed):
    with committed():
        order = place_order(customer)
        order.set_status("processing")
    assert Order.objects.get(order_id=order.pk).sync_status == SyncStatus.NEW


def test_refund_marks_the_order_modified(scope, customer, place_order, committed):
    with committed():
        order = place_order(customer)
        source_type = get_model("payment", "SourceType").objects.create(name="Card")
        source = get_model("payment", "Source").objects.create(
            order=order, source_type=source_type, amount_allocated=order.total_incl_tax
        )
        source.debit(order.total_incl_tax)
    Order.objects.filter(order_id=order.pk).update(sync_status=SyncStatus.IMPORTED)
    with committed():
        source.refund(Decimal("5.00"))
    assert Order.objects.get(order_id=order.pk).sync_status == SyncStatus.MODIFIED


def test_a_failing_observer_does_not_break_checkout(
    scope, customer, place_order, committed, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(rows, "upsert_order", broken)
    with caplog.at_level(logging.ERROR, logger="dotsync.observers"), committed() as callbacks:
        order = place_order(customer)
    assert callbacks, "the observers registered on-commit work"
    assert get_model("order", "Order").objects.filter(pk=order.pk, number=order.number).exists()
    assert order.basket.status == "Submitted"
    assert not Order.objects.exists()
    failures = [r for r in caplog.records if "order" in r.getMessage() and r.exc_info]
    assert failures and "database on fire" in str(failures[0].exc_info[1])
    assert "ada@example.com" not in caplog.text  # ids only, no personal data


def test_a_guest_who_registers_keeps_the_guest_flag_and_gains_the_customer_id(scope, place_order, committed):
    from oscar.test import factories

    with committed():
        place_order(guest_email="later@example.com")
    with committed():
        user = factories.UserFactory(email="later@example.com")
        place_order(user)
    contact = Contact.objects.get(email="later@example.com")
    assert (contact.customer_id, contact.is_guest) == (user.pk, True)
    assert Order.objects.filter(email="later@example.com").count() == 2


def test_first_order_elsewhere_drops_the_default_store_placeholder(scope, place_order, committed):
    """A customer made with no request lands on the default website; ordering on outlet moves them.

    The history backfill places a customer in their last order's store, so the never-sent fallback
    row on ``main`` must not outlive the first outlet order (found by the Celery lane's exactly-once
    check: bob@example.com was in main's customers book too).
    """
    with committed():
        bob = factories_user("bob@example.com")
    assert list(Contact.objects.filter(customer_id=bob.pk).values_list("website_id", flat=True)) == [
        scope.main.pk
    ]
    with committed():
        place_order(bob, site=scope.outlet_en.site)
    rows = list(Contact.objects.filter(customer_id=bob.pk).values_list("website_id", "store_id"))
    assert rows == [(scope.outlet.pk, scope.outlet_en.pk)]


def test_a_placeholder_the_platform_may_hold_or_with_orders_there_stays(scope, place_order, committed):
    """Only never-sent rows holding nothing go: a sent row, or one with an order in its website, stays."""
    with committed():
        bob = factories_user("bob@example.com")
    Contact.objects.filter(customer_id=bob.pk).update(
        sync_status=SyncStatus.IMPORTED, last_imported_at=timezone.now()
    )
    with committed():
        place_order(bob, site=scope.outlet_en.site)
    assert set(Contact.objects.filter(customer_id=bob.pk).values_list("website_id", flat=True)) == {
        scope.main.pk,
        scope.outlet.pk,
    }
    with committed():
        eve = factories_user("eve@example.com")
        place_order(eve)  # an order on main (no site: the default store)
        place_order(eve, site=scope.outlet_en.site)
    assert set(Contact.objects.filter(customer_id=eve.pk).values_list("website_id", flat=True)) == {
        scope.main.pk,
        scope.outlet.pk,
    }


def factories_user(email: str):
    from oscar.test import factories

    return factories.UserFactory(email=email, username=email.split("@")[0])


def test_the_basket_an_order_came_from_follows_the_order_to_its_store(scope, product, committed):
    """Lines added with no request place the basket by the fallback (main); its outlet order moves it."""
    from oscar.test import factories

    from dotsync.models import Quote
    from tests.observers.conftest import new_basket

    with committed():
        bob = factories_user("bob@example.com")
        basket = new_basket(bob)
        basket.add_product(product, 1)
    assert Quote.objects.get(quote_id=basket.pk).website_id == scope.main.pk
    with committed():
        factories.create_order(user=bob, basket=basket, site=scope.outlet_en.site)
    row = Quote.objects.get(quote_id=basket.pk)
    assert (row.website_id, row.store_id) == (scope.outlet.pk, scope.outlet_en.pk)
    assert set(Contact.objects.filter(customer_id=bob.pk).values_list("website_id", flat=True)) == {
        scope.outlet.pk
    }
