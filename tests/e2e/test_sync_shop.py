"""Acceptance, end to end: the Oscar shop synced into the sandbox over HTTP by ``sync all``.

Every store entity reaches the right account with the fields the Oscar data says; website B's records
never reach account A; a second ``sync all`` with no store changes sends nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from oscar.core.loading import get_model

from dotsync.models import Catalog, Contact, Order, Quote, Review, SyncStatus, Wishlist
from tests.e2e.conftest import run_sync
from tests.e2e.expected import assert_landed
from tests.e2e.platform_view import AccountView, view

pytestmark = pytest.mark.django_db(transaction=False)

SYNCED = ("pending", "processing", "complete")  # default order_statuses and sales_data_order_statuses


def _orders(website: Any, **filters: Any) -> list[Any]:
    """Oscar orders placed on the sites of a website's stores (the storeless site counts as the default)."""
    Order = get_model("order", "Order")
    sites = [s.site_id for s in website.stores.all()]
    qs = Order._default_manager.filter(**filters).order_by("number")
    if website.code == "main":
        from django.db.models import Q

        return list(qs.filter(Q(site_id__in=sites) | Q(site__domain="storeless.example.com")))
    return list(qs.filter(site_id__in=sites))


def _sales(website: Any, email: str) -> dict[str, Any]:
    orders = [o for o in _orders(website, status__in=SYNCED) if o.email == email]
    spend = sum((o.total_incl_tax for o in orders), Decimal("0"))
    refund = sum((s.amount_refunded for o in orders for s in o.sources.all()), Decimal("0"))
    last = max(orders, key=lambda o: o.date_placed) if orders else None
    return {
        "NUMBER_OF_ORDERS": len(orders),
        "TOTAL_SPEND": float(spend),
        "TOTAL_REFUND": float(refund),
        "LAST_INCREMENT_ID": last.number if last else None,
    }


def _assert_sales(contact: dict[str, Any], expected: dict[str, Any]) -> None:
    fields = contact["data_fields"]
    assert fields.get("NUMBER_OF_ORDERS", 0) == expected["NUMBER_OF_ORDERS"], fields
    if expected["NUMBER_OF_ORDERS"]:
        assert fields["TOTAL_SPEND"] == pytest.approx(expected["TOTAL_SPEND"]), fields
        assert fields.get("TOTAL_REFUND", 0) == pytest.approx(expected["TOTAL_REFUND"]), fields
        assert str(fields["LAST_INCREMENT_ID"]) == expected["LAST_INCREMENT_ID"], fields


def _assert_orders(acc: AccountView, website: Any) -> None:
    expected = {o.number: o for o in _orders(website, status__in=SYNCED)}
    assert acc.keys("Orders") == set(expected)
    for number, order in expected.items():
        record = acc.insight["Orders"][number]
        data = record["json"]
        assert record["email"] == order.email
        assert data["orderStatus"] == order.status
        assert data["orderSubtotal"] == pytest.approx(float(order.basket_total_before_discounts_incl_tax))
        discount = order.basket_total_before_discounts_incl_tax - order.basket_total_incl_tax
        assert data["discountAmount"] == pytest.approx(float(discount))
        assert data["deliveryTotal"] == pytest.approx(float(order.shipping_incl_tax))
        refunded = sum((s.amount_refunded for s in order.sources.all()), Decimal("0"))
        assert data["orderTotal"] == pytest.approx(float(order.total_incl_tax - refunded))
        assert data["totalRefunded"] == pytest.approx(float(refunded))
        assert data["websiteName"] == website.name
        store = website.stores.filter(site_id=order.site_id).first() or website.default_store
        assert data["storeName"] == store.name
        lines = {(p["sku"], p["qty"], round(p["price_inc_tax"], 2)) for p in data["products"]}
        assert lines == {
            (ln.partner_sku, ln.quantity, float(ln.unit_price_incl_tax)) for ln in order.lines.all()
        }
        shipping = order.shipping_address
        assert data["deliveryAddress"]["delivery_address_1"] == shipping.line1
        assert data["deliveryAddress"]["delivery_postcode"] == shipping.postcode
        assert data["deliveryAddress"]["delivery_country"] == shipping.country.iso_3166_1_a2
        assert data["billingAddress"]["billing_city"] == order.billing_address.line4


def test_every_entity_reaches_its_own_account_with_the_store_fields(shop, sandbox, accounts):
    scope = shop.scope
    summary = run_sync()
    assert summary["api_calls"] > 0
    main, outlet = view(sandbox, accounts["main"]), view(sandbox, accounts["outlet"])

    # --- contacts: each in its website's account and books --------------------------------------
    assert main.books["customers"] == {"alice@example.com", "carol@example.com", "dave@example.com"}
    assert outlet.books["customers"] == {"bob@example.com"}
    assert main.books["guests"] == {"guest@example.com", "gast@example.com"}
    assert outlet.books["guests"] == {"guest@example.com"}
    assert main.books["subscribers"] == {"alice@example.com", "erin@example.com", "zoe@example.com"}
    assert outlet.books["subscribers"] == {"frank@example.com"}
    alice = main.contacts["alice@example.com"]
    assert alice["data_fields"]["FIRSTNAME"] == "Alice" and alice["data_fields"]["LASTNAME"] == "Archer"
    assert alice["data_fields"]["WEBSITE_NAME"] == "Main Website"
    assert alice["data_fields"]["CUSTOMER_ID"] == shop.customers["alice"].pk
    bob = outlet.contacts["bob@example.com"]
    assert bob["data_fields"]["FIRSTNAME"] == "Bob" and bob["data_fields"]["BILLING_COUNTRY"] in (
        "FR",
        "France",
    )
    assert bob["data_fields"]["WEBSITE_NAME"] == "Outlet Website"
    for acc, website, email in (
        (main, scope.main, "alice@example.com"),
        (main, scope.main, "carol@example.com"),
        (outlet, scope.outlet, "bob@example.com"),
        (main, scope.main, "gast@example.com"),
        (main, scope.main, "guest@example.com"),  # only a cancelled order here: no sales
        (outlet, scope.outlet, "guest@example.com"),
    ):
        _assert_sales(acc.contacts[email], _sales(website, email))
    # subscribers: main_fr requires confirmation -> Double opt-in; main_en -> Single
    assert main.contacts["zoe@example.com"]["opt_in_type"] == "Double"
    assert main.contacts["erin@example.com"]["opt_in_type"] == "Single"
    assert outlet.contacts["frank@example.com"]["status"] == "Subscribed"

    # --- orders: lines, addresses, totals, status, store, website -------------------------------
    _assert_orders(main, scope.main)
    _assert_orders(outlet, scope.outlet)
    assert shop.orders["guest_main"].number not in main.keys("Orders")  # cancelled, never imported

    # --- quotes: open baskets with lines, in their owner's website ------------------------------
    for name, acc in (("alice_open", main), ("carol_open", main), ("bob_abandoned", outlet)):
        basket = shop.baskets[name]
        record = acc.insight["Quote"][str(basket.pk)]
        assert record["email"] == basket.owner.email
        items = {(i["sku"], i["quantity"]) for i in record["json"]["lineItems"]}
        assert items == {(ln.stockrecord.partner_sku, ln.quantity) for ln in basket.lines.all()}
    assert str(shop.baskets["anonymous"].pk) not in main.keys("Quote") | outlet.keys("Quote")
    assert str(shop.baskets["empty"].pk) not in main.keys("Quote") | outlet.keys("Quote")

    # --- reviews: approved customer reviews -----------------------------------------------------
    r = shop.reviews
    assert main.keys("Reviews") == {str(r["alice_shirt"].pk)}
    assert outlet.keys("Reviews") == {str(r["bob_mug"].pk)}
    review = main.insight["Reviews"][str(r["alice_shirt"].pk)]
    assert review["email"] == "alice@example.com"
    assert review["json"]["productName"] == "Oxford Shirt"
    assert review["json"]["productSku"] == r["alice_shirt"].product.stockrecords.first().partner_sku

    # --- wishlists -------------------------------------------------------------------------------
    w = shop.wishlists
    assert main.keys("Wishlist") == {str(w["alice"].pk), str(w["carol"].pk)}
    assert "Wishlist" not in outlet.insight  # bob's wishlist is empty
    items = main.insight["Wishlist"][str(w["alice"].pk)]["json"]
    assert {i["productId"] for i in items["items"]} == {str(ln.product_id) for ln in w["alice"].lines.all()}

    # --- catalogue: public products in every account --------------------------------------------
    public = {str(p.pk) for name, p in shop.products.items() if name != "poster"}
    for acc, domain in ((main, "main.example.com"), (outlet, "outlet.example.com")):
        assert acc.keys("Catalog_Default") == public
        shirt = acc.insight["Catalog_Default"][str(shop.products["shirt"].pk)]["json"]
        assert (
            shirt["name"] == "Oxford Shirt"
            and shirt["price"] == 25.0
            and shirt["sku"] == shop.products["shirt"].stockrecords.first().partner_sku
        )
        assert domain in shirt["url"]

    # --- separation: nothing of website B in account A ------------------------------------------
    outlet_emails = {"bob@example.com", "frank@example.com"}
    main_only = {
        "alice@example.com",
        "carol@example.com",
        "dave@example.com",
        "erin@example.com",
        "zoe@example.com",
    }
    assert not outlet_emails & set(main.contacts)
    assert not main_only & set(outlet.contacts)
    for collection in ("Orders", "Quote", "Reviews", "Wishlist"):
        assert not main.keys(collection) & outlet.keys(collection), collection
        for acc, foreign in ((main, outlet_emails), (outlet, main_only)):
            emails = {rec["email"] for rec in acc.insight.get(collection, {}).values()}
            assert not emails & foreign, (collection, emails & foreign)

    assert_landed(shop, {"main": main, "outlet": outlet})  # and nothing else

    # --- every sync row is settled: nothing waits forever ---------------------------------------
    for model in (Contact, Order, Quote, Review, Wishlist, Catalog):
        pending = model.objects.filter(
            sync_status__in=(SyncStatus.NEW, SyncStatus.MODIFIED, SyncStatus.IMPORTING)
        )
        assert not pending.exists(), (model.__name__, list(pending.values("pk", "sync_message")))
    anon = Review.objects.get(review_id=r["anon_shirt"].pk)
    assert anon.sync_status == SyncStatus.SKIPPED and "anonymous" in anon.sync_message


FEED_SUPPRESSED = "GET /v2/contacts/suppressed-since/{date}"
FEED_MODIFIED = "GET /v2/contacts/modified-since/{date}"
"""The only calls a re-sync makes: the unsubscriber's and the resubscriber's change feeds (reads)."""


def test_a_second_sync_all_with_no_store_changes_sends_nothing(shop, sandbox, accounts):
    run_sync()
    before = sandbox.requests()["total"]
    endpoints = sandbox.requests()["by_endpoint"]
    again = run_sync()  # every registered job again: nothing is written
    assert again["api_writes"] == 0, again
    assert again["api_reads"] == again["api_calls"] > 0, again  # the platform feeds read their pages
    assert sandbox.requests()["total"] == before + again["api_calls"]
    called = {k for k, n in sandbox.requests()["by_endpoint"].items() if n != endpoints.get(k, 0)}
    assert called == {FEED_SUPPRESSED, FEED_MODIFIED}, called
    assert sum(again["importer"].get(code, {}).get("started", 0) for code in ("main", "outlet")) == 0
