"""Acceptance, end to end: an order placed, changed, refunded and cancelled through Oscar.

Each step goes through Oscar's own code (``OrderCreator``, ``Order.set_status``, ``Source.refund`` and
the ``EventHandler``'s payment event), the observers run on commit as in a live shop, and ``sync all``
after each step shows the ``Orders`` record upserted, updated and finally deleted, with the customer's
sales data following.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from oscar.core.loading import get_class, get_model

from dotsync.models import Order as OrderRow
from dotsync.models import SyncStatus
from dotsync.testing.shop import place_order
from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)

CAROL = "carol@example.com"


def _refund(order: Any, amount: Decimal) -> None:
    """Refund through Oscar: the payment source's refund and a ``Refunded`` payment event."""
    PaymentEventType = get_model("order", "PaymentEventType")
    EventHandler = get_class("order.processing", "EventHandler")
    source = order.sources.get()
    source.refund(amount, reference=f"RF-{order.number}")
    event_type = PaymentEventType._default_manager.get_or_create(name="Refunded")[0]
    lines = list(order.lines.all())
    EventHandler().create_payment_event(order, event_type, amount, lines, [ln.quantity for ln in lines])


def test_order_placed_changed_refunded_cancelled_is_upserted_then_deleted(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    scope, p = shop.scope, shop.products
    run_sync()
    user = accounts["main"]

    def orders() -> dict[str, Any]:
        return view(sandbox, user).insight.get("Orders", {})

    def carol() -> dict[str, Any]:
        return view(sandbox, user).contacts[CAROL]["data_fields"]

    before = set(orders())
    assert "NUMBER_OF_ORDERS" not in carol() or carol()["NUMBER_OF_ORDERS"] == 0

    # placed (pending)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(shop.customers["carol"], [(p["shirt"], 2)], scope.main_en)
    number = str(order.number)
    run_sync()
    record = orders()[number]
    assert record["email"] == CAROL and record["json"]["orderStatus"] == "pending"
    assert record["json"]["orderTotal"] == pytest.approx(float(order.total_incl_tax))
    assert [(x["sku"], x["qty"]) for x in record["json"]["products"]] == [
        (p["shirt"].stockrecords.get().partner_sku, 2)
    ]
    assert carol()["NUMBER_OF_ORDERS"] == 1
    assert carol()["TOTAL_SPEND"] == pytest.approx(float(order.total_incl_tax))

    # changed: processing
    with django_capture_on_commit_callbacks(execute=True):
        order.set_status("processing")
    run_sync()
    assert orders()[number]["json"]["orderStatus"] == "processing"

    # refunded in part: the record is updated (orderTotal is the total less refunds)
    with django_capture_on_commit_callbacks(execute=True):
        _refund(order, Decimal("10.00"))
    run_sync()
    data = orders()[number]["json"]
    assert data["totalRefunded"] == pytest.approx(10.0)
    assert data["orderTotal"] == pytest.approx(float(order.total_incl_tax - Decimal("10.00")))
    assert carol()["TOTAL_REFUND"] == pytest.approx(10.0)

    # cancelled: not a synced status -> deleted from Orders
    with django_capture_on_commit_callbacks(execute=True):
        order.set_status("cancelled")
    summary = run_sync()
    assert number not in orders()
    assert set(orders()) == before  # the other orders are untouched
    row = OrderRow.objects.get(order_id=order.pk)
    assert row.sync_status in (SyncStatus.SKIPPED, SyncStatus.IMPORTED) and row.order_status == "cancelled"
    assert summary["importer"]["main"].get("sent", 0) + summary["importer"]["main"].get("imported", 0) >= 1
    assert carol().get("NUMBER_OF_ORDERS", 0) == 0  # a cancelled order is not in the sales data
    assert not view(sandbox, accounts["outlet"]).keys("Orders") & {number}


def test_a_new_guest_order_brings_its_guest_then_leaves_orders_when_cancelled(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    scope, p = shop.scope, shop.products
    run_sync()
    email = "newguest@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(email, [p["mug"], p["shirt"]], scope.outlet_en, guest_name=("Nora", "New"))
    number = str(order.number)
    run_sync()
    outlet, main = view(sandbox, accounts["outlet"]), view(sandbox, accounts["main"])
    assert email in outlet.books["guests"] and email not in main.contacts
    guest = outlet.contacts[email]["data_fields"]
    assert guest["FIRSTNAME"] == "Nora" and guest["NUMBER_OF_ORDERS"] == 1
    assert guest["TOTAL_SPEND"] == pytest.approx(float(order.total_incl_tax))
    record = outlet.insight["Orders"][number]
    assert record["email"] == email and record["json"]["storeName"] == "Outlet English"
    assert number not in main.keys("Orders")

    with django_capture_on_commit_callbacks(execute=True):
        order.set_status("cancelled")
    run_sync()
    outlet = view(sandbox, accounts["outlet"])
    assert number not in outlet.keys("Orders")
    assert outlet.contacts[email]["data_fields"].get("NUMBER_OF_ORDERS", 0) == 0
