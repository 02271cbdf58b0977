"""The ``contacts`` job on a real Oscar shop: CSV batches per address book, sales data, skips, quarantine."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Max
from oscar.core.loading import get_model

from dotsync.jobs import contacts
from dotsync.jobs.payloads.values import iso
from dotsync.models import Contact, Importer, SyncStatus, WebsiteConfig
from tests.jobs.batch_helpers import BOOKS, batches, contact, csv_rows, enable, settle_all


def _alice_expected(shop):
    o = shop.orders
    Basket = get_model("basket", "Basket")
    total = o["alice_en"].total_incl_tax + o["alice_fr"].total_incl_tax
    return {
        "FIRSTNAME": "Alice",
        "LASTNAME": "Archer",
        "CUSTOMER_ID": str(shop.customers["alice"].pk),
        "NUMBER_OF_ORDERS": "2",
        "TOTAL_SPEND": str(total.quantize(Decimal("0.01"))),
        "AVERAGE_ORDER_VALUE": str((total / 2).quantize(Decimal("0.01"))),
        "TOTAL_REFUND": "10.00",
        "LAST_ORDER_ID": str(o["alice_fr"].pk),
        "LAST_INCREMENT_ID": str(o["alice_fr"].number),
        "LAST_ORDER_DATE": iso(o["alice_fr"].date_placed),
        "MOST_PUR_CATEGORY": "Shirts",  # two shirts outweigh one mug and one hoodie
        "FIRST_CATEGORY_PUR": "Shirts",
        "LAST_CATEGORY_PUR": "Hoodies",  # the hoodie variant counts as its parent
        "REVIEW_COUNT": "1",
        "LAST_QUOTE_ID": str(
            Basket.objects.filter(owner=shop.customers["alice"]).aggregate(m=Max("id"))["m"]
        ),
        "WEBSITE_NAME": "Main Website",
        "STORE_NAME": "Main English",
        "BILLING_COUNTRY": "GB",
        "BILLING_POSTCODE": "SW1 9RE",
    }


def test_customers_guests_and_subscribers_go_to_their_books(shop):
    scope = shop.scope
    enable(scope.main)
    enable(scope.outlet)
    alice = contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"], subscriber_status=1)
    gast = contact(scope.main_fr, "gast@example.com", guest=True)
    contact(scope.main_en, "erin@example.com", subscriber_status=1, subscriber_pending=True)
    fr_sub = contact(scope.main_fr, "fr-sub@example.com", subscriber_status=1, subscriber_pending=True)
    bob = contact(scope.outlet_en, "bob@example.com", customer=shop.customers["bob"])

    result = contacts.run()

    assert result.errors == []
    customers = batches("Customer")
    assert [(r.website_id, e.payload["address_book_id"]) for r, e in customers] == [
        (scope.main.pk, BOOKS["main"][0]),
        (scope.outlet.pk, BOOKS["outlet"][0]),
    ]
    row, env = customers[0]
    assert (row.import_mode, env.table, env.stream) == ("Bulk", "email_contact", "sync")
    assert env.payload["address_book"] == "customers"
    assert env.payload["emails"] == {"alice@example.com": alice.pk}
    header, rows = csv_rows(env.payload)
    assert header[:2] == ["Email", "EmailType"] and "OptInType" not in header
    got = rows["alice@example.com"]
    assert got["EmailType"] == "Html"
    for name, value in _alice_expected(shop).items():
        assert got[name] == value, name
    days = {o.date_placed.strftime("%A") for o in (shop.orders["alice_en"], shop.orders["alice_fr"])}
    assert got["MOST_FREQ_PUR_DAY"] in days
    assert got["SUBSCRIBER_STATUS"] == "Subscribed"
    # Website B's rows never ride in website A's batches.
    assert customers[1][1].payload["emails"] == {"bob@example.com": bob.pk}
    assert "alice@example.com" not in customers[1][1].payload["csv"]

    guests = batches("Guest")
    assert len(guests) == 1 and guests[0][1].payload["address_book_id"] == BOOKS["main"][2]
    _, grows = csv_rows(guests[0][1].payload)
    g = grows["gast@example.com"]
    gast_order = shop.orders["guest_fr"]
    assert g["NUMBER_OF_ORDERS"] == "1"
    assert g["TOTAL_SPEND"] == str(gast_order.total_incl_tax)
    assert g["LAST_INCREMENT_ID"] == str(gast_order.number)
    assert (g["FIRSTNAME"], g["LASTNAME"]) == ("Guest", "Shopper")
    assert g["STORE_NAME"] == "Main French"
    assert "CUSTOMER_ID" not in g

    subs = batches("Subscriber")
    assert len(subs) == 1
    _, senv = subs[0]
    assert senv.stream == "subscriber" and senv.payload["address_book_id"] == BOOKS["main"][1]
    sheader, srows = csv_rows(senv.payload)
    assert sheader[-1] == "OptInType"
    assert srows["fr-sub@example.com"]["OptInType"] == "Double"  # main_fr requires confirmation
    assert srows["erin@example.com"]["OptInType"] == "Single"
    assert srows["fr-sub@example.com"]["STORE_NAME"] == "Main French"

    for pk in (alice.pk, gast.pk, bob.pk):
        assert Contact.objects.get(pk=pk).sync_status == SyncStatus.IMPORTING
    fr_sub.refresh_from_db()
    assert fr_sub.subscriber_sync_status == SyncStatus.IMPORTING
    # A subscriber-only contact has nothing for the customer/guest stream.
    assert fr_sub.sync_status == SyncStatus.SKIPPED
    assert result.counts["main"]["records"] == 4


def test_unchanged_records_are_not_sent_again(shop):
    scope = shop.scope
    enable(scope.main)
    alice = contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    carol = contact(scope.main_en, "carol@example.com", customer=shop.customers["carol"])
    contacts.run()
    settle_all()
    Contact.objects.filter(pk__in=[alice.pk, carol.pk]).update(sync_status=SyncStatus.MODIFIED)
    carol_user = shop.customers["carol"]
    carol_user.first_name = "Caroline"
    carol_user.save()
    before = Importer.objects.count()

    result = contacts.run()

    assert result.counts["main"]["unchanged"] == 1
    new = batches("Customer")[before:]
    assert len(new) == 1 and new[0][1].payload["emails"] == {"carol@example.com": carol.pk}
    alice.refresh_from_db()
    assert alice.sync_status == SyncStatus.IMPORTED


def test_poison_record_is_quarantined_and_the_rest_goes_through(shop):
    scope = shop.scope
    enable(scope.main)
    bad = contact(scope.main_en, "not-an-email", guest=True)
    good = contact(scope.main_fr, "gast@example.com", guest=True)

    result = contacts.run()

    bad.refresh_from_db()
    assert bad.sync_status == SyncStatus.FAILED
    assert "not valid" in bad.sync_message and "correct it" in bad.sync_message
    [(_, env)] = batches("Guest")
    assert env.payload["emails"] == {"gast@example.com": good.pk}
    assert result.counts["main"]["failed"] == 1


def test_disabled_website_or_toggle_off_sends_nothing(shop):
    scope = shop.scope
    enable(scope.main, sync_customers=False)
    contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    contact(scope.outlet_en, "bob@example.com", customer=shop.customers["bob"])  # outlet not enabled

    contacts.run()

    assert batches() == []
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.NEW}


def test_byte_limit_splits_batches(shop):
    scope = shop.scope
    enable(scope.main)
    cfg = WebsiteConfig.objects.get(website=scope.main)
    for name in ("alice", "carol", "dave"):
        contact(scope.main_en, f"{name}@example.com", customer=shop.customers[name])
    contacts.run()
    [(_, env)] = batches("Customer")
    _, rows = csv_rows(env.payload)
    lines = env.payload["csv"].encode().split(b"\r\n")
    head_and_one = len(lines[0]) + 2 + max(len(line) + 2 for line in lines[1:] if line)
    Importer.objects.all().delete()
    Contact.objects.update(sync_status=SyncStatus.NEW, importer_id=None)
    cfg.batch_sizes = {"contacts_bytes": head_and_one + 10}
    cfg.save()

    contacts.run()

    split = batches("Customer")
    assert len(split) == 3
    assert all(len(e.payload["csv"].encode()) <= head_and_one + 10 for _, e in split)
    assert sorted(e for _, env in split for e in env.payload["emails"]) == sorted(rows)


def test_unsubscribed_after_import_queues_an_unsubscribe(shop):
    scope = shop.scope
    enable(scope.main)
    erin = contact(scope.main_en, "erin@example.com", subscriber_status=1, subscriber_pending=True)
    never = contact(scope.main_en, "never@example.com", subscriber_status=3, subscriber_pending=True)
    contacts.run()
    settle_all()
    Contact.objects.filter(pk=erin.pk).update(
        is_subscriber=False, subscriber_status=3, subscriber_sync_status=SyncStatus.MODIFIED
    )

    result = contacts.run()

    [(_, env)] = batches("Subscriber", import_mode="Subscriber_Unsubscribe")
    assert env.payload == {"email": "erin@example.com"} and env.stream == "subscriber"
    assert result.counts["main"]["unsubscribes"] == 1
    never.refresh_from_db()
    assert never.subscriber_sync_status == SyncStatus.SKIPPED
    assert never.sync_message == "not subscribed"


def test_missing_address_book_is_reported_and_rows_wait(shop):
    scope = shop.scope
    enable(scope.main, books=False)
    row = contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])

    result = contacts.run()

    assert batches() == []
    assert any("no customers address book" in e for e in result.errors)
    row.refresh_from_db()
    assert row.sync_status == SyncStatus.NEW


def _queries_for_customers(scope, n, start):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dotsync.testing.shop import make_customer, make_product, place_order

    product = make_product(f"Thing {start}", "3.00", 100, ["Things"])
    for i in range(start, start + n):
        user = make_customer(f"c{i}@example.com", "C", str(i))
        place_order(user, [product], scope.main_en, status="complete")
        contact(scope.main_en, user.email, customer=user)
    with CaptureQueriesContext(connection) as ctx:
        contacts.run()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_page(scope):
    enable(scope.main)
    few = _queries_for_customers(scope, 2, 0)
    Importer.objects.all().delete()
    Contact.objects.all().delete()
    many = _queries_for_customers(scope, 12, 100)
    assert many == few, "the contacts job must read a page with a fixed number of queries"
