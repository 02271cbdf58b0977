"""The ``orders`` job on a real Oscar shop: Orders and Quote batches, waiting for contacts, deletes."""

from __future__ import annotations

import json

from django.utils import timezone

from dotsync.jobs import contacts, orders
from dotsync.jobs.payloads import insight
from dotsync.jobs.queue import payload_hash
from dotsync.models import Contact, Importer, Order, Quote, SyncStatus, WebsiteConfig
from tests.jobs.batch_helpers import batches, enable, imported_contact, order_row, quote_row, settle_all


def test_orders_in_synced_statuses_go_to_the_orders_collection(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main)
    enable(scope.outlet)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    imported_contact(scope.outlet_en, "bob@example.com", customer=shop.customers["bob"])
    en = order_row(o["alice_en"], scope.main_en)
    fr = order_row(o["alice_fr"], scope.main_fr)
    bob = order_row(o["bob_outlet"], scope.outlet_en)

    result = orders.run()

    assert result.errors == []
    found = batches("Orders")
    assert [r.website_id for r, _ in found] == [scope.main.pk, scope.outlet.pk]
    row, env = found[0]
    assert row.import_mode == "Bulk_JSON" and env.table == "email_order"
    assert {k: env.payload[k] for k in ("collection", "scope", "type")} == {
        "collection": "Orders",
        "scope": "contact",
        "type": "orders",
    }
    assert [pk for pk, _ in env.rows] == [en.pk, fr.pk]
    by_key = {r["key"]: r for r in env.payload["records"]}
    rec = by_key[str(o["alice_en"].number)]
    assert rec["contactIdentity"] == {"identifier": "email", "value": "alice@example.com"}
    body = rec["json"]
    assert body["orderStatus"] == "complete"
    assert body["orderTotal"] == float(o["alice_en"].total_incl_tax)
    assert body["couponCode"] == "SAVE10"
    assert body["storeName"] == "Main English" and body["websiteName"] == "Main Website"
    assert {p["sku"]: p["qty"] for p in body["products"]} == {
        line.partner_sku: line.quantity for line in o["alice_en"].lines.all()
    }
    assert body["billingAddress"]["billing_postcode"] == "SW1 9RE"
    fr_body = by_key[str(o["alice_fr"].number)]["json"]
    assert fr_body["orderTotal"] == float(o["alice_fr"].total_incl_tax - 10)  # less the refund
    assert fr_body["storeName"] == "Main French"
    # Website B's orders ride only in website B's batch.
    assert [pk for pk, _ in found[1][1].rows] == [bob.pk]
    assert Order.objects.get(pk=en.pk).sync_status == SyncStatus.IMPORTING


def test_order_waits_for_its_contact_then_goes(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main)
    row = order_row(o["guest_fr"], scope.main_fr)

    result = orders.run()

    row.refresh_from_db()
    assert row.sync_status == SyncStatus.NEW
    assert row.sync_message == "waiting for contact import"
    assert result.counts["main"]["waiting"] == 1
    assert batches("Orders") == []
    guest = Contact.objects.get(email="gast@example.com", website=scope.main)
    assert guest.is_guest and guest.customer_id is None and guest.sync_status == SyncStatus.NEW

    contacts.run()
    [(_, genv)] = batches("Guest")
    assert "gast@example.com" in genv.payload["emails"]
    orders.run()
    assert batches("Orders") == []  # the guest's import is registered, not confirmed yet
    settle_all()

    orders.run()

    [(_, env)] = batches("Orders")
    assert env.rows[0][0] == row.pk
    assert env.payload["records"][0]["contactIdentity"]["value"] == "gast@example.com"


def test_subscriber_only_contact_is_flagged_guest_by_a_guest_order(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main)
    sub = Contact.objects.create(
        website=scope.main, store=scope.main_fr, email="gast@example.com", sync_status=SyncStatus.SKIPPED
    )
    order_row(o["guest_fr"], scope.main_fr)

    orders.run()

    sub.refresh_from_db()
    assert sub.is_guest and sub.sync_status == SyncStatus.MODIFIED


def test_cancelled_order_is_deleted_if_imported_else_skipped(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main)
    imported_contact(scope.main_en, "guest@example.com", guest=True)
    cancelled = order_row(o["guest_main"], scope.main_en)

    orders.run()

    cancelled.refresh_from_db()
    assert cancelled.sync_status == SyncStatus.SKIPPED
    assert "'cancelled' is not synced" in cancelled.sync_message
    assert batches() == []

    Order.objects.filter(pk=cancelled.pk).update(
        sync_status=SyncStatus.MODIFIED, last_imported_at=timezone.now(), payload_hash="f" * 64
    )
    result = orders.run()

    [(row, env)] = batches("Orders")
    assert row.import_mode == "Single_Delete"
    assert env.payload == {
        "collection": "Orders",
        "scope": "contact",
        "key": str(o["guest_main"].number),
        "email": "guest@example.com",
    }
    assert env.rows == [(cancelled.pk, payload_hash(env.payload))]
    assert result.counts["main"]["deletes"] == 1
    settle_all()
    Order.objects.filter(pk=cancelled.pk).update(sync_status=SyncStatus.MODIFIED)
    orders.run()  # the delete was confirmed: it is not sent twice
    assert Importer.objects.count() == 1
    assert Order.objects.get(pk=cancelled.pk).sync_status == SyncStatus.IMPORTED


def test_toggle_off_sends_nothing(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main, sync_orders=False, sync_quotes=False)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    order_row(o["alice_en"], scope.main_en)

    orders.run()

    assert batches() == []


def test_byte_limit_splits_order_batches(shop):
    scope, o = shop.scope, shop.orders
    enable(scope.main)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    order_row(o["alice_en"], scope.main_en)
    order_row(o["alice_fr"], scope.main_fr)
    orders.run()
    [(_, env)] = batches("Orders")
    sizes = [insight.size(r) for r in env.payload["records"]]
    empty = len(json.dumps({**env.payload, "records": []}))
    Importer.objects.all().delete()
    Order.objects.update(sync_status=SyncStatus.NEW, importer_id=None)
    limit = empty + max(sizes) + 1  # room for either record, not both
    WebsiteConfig.objects.filter(website=scope.main).update(batch_sizes={"insight_bytes": limit})

    orders.run()

    found = batches("Orders")
    assert len(found) == 2 and all(len(e.payload["records"]) == 1 for _, e in found)


def test_baskets_with_items_go_to_quote_and_empty_ones_are_skipped(shop):
    scope, b = shop.scope, shop.baskets
    enable(scope.main, sync_orders=False)
    imported_contact(scope.main_en, "carol@example.com", customer=shop.customers["carol"])
    carol = quote_row(b["carol_open"], scope.main_en)
    empty = quote_row(b["empty"], scope.main_en)
    anonymous = quote_row(b["anonymous"], scope.main_en)

    orders.run()

    [(row, env)] = batches("Quote")
    assert env.payload["collection"] == "Quote" and env.payload["scope"] == "contact"
    [rec] = env.payload["records"]
    assert rec["key"] == str(b["carol_open"].pk)
    assert rec["json"]["itemCount"] == 2 and len(rec["json"]["lineItems"]) == 2
    assert env.rows[0][0] == carol.pk
    empty.refresh_from_db()
    anonymous.refresh_from_db()
    assert (empty.sync_status, empty.sync_message) == (SyncStatus.SKIPPED, "the basket is empty")
    assert anonymous.sync_status == SyncStatus.SKIPPED and "anonymous" in anonymous.sync_message
    assert Quote.objects.get(pk=carol.pk).sync_status == SyncStatus.IMPORTING
    assert row.website_id == scope.main.pk


def _queries_for_orders(scope, n, email):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dotsync.testing.shop import make_customer, make_product, place_order

    user = make_customer(email, "Q", "Count")
    imported_contact(scope.main_en, email, customer=user)
    product = make_product(f"Thing {email}", "3.00", 100, ["Things"])
    for _ in range(n):
        order_row(place_order(user, [product, product], scope.main_en, status="complete"), scope.main_en)
    with CaptureQueriesContext(connection) as ctx:
        orders.run()
    return len(ctx.captured_queries)


def test_order_query_count_does_not_grow_with_the_page(scope):
    enable(scope.main)
    few = _queries_for_orders(scope, 2, "few@example.com")
    Importer.objects.all().delete()
    many = _queries_for_orders(scope, 10, "many@example.com")
    assert many == few, "the orders job must read a page with a fixed number of queries"
