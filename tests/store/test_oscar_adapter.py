"""Oscar-specific behaviour of the store adapter, beyond the contract: what the records contain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync.exceptions import ConfigurationError
from dotsync.models import NewsletterSubscriber, Website
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store import newsletter
from dotsync.store.oscar.scope import StoreMap
from dotsync.store.records import SalesData
from dotsync.testing.contract import apply_history, history_rows
from dotsync.testing.shop import make_basket, make_customer, make_product, place_order

StockRecord = get_model("partner", "StockRecord")


def one(iterator):
    (record,) = list(iterator)
    return record


def test_order_record_has_totals_payment_coupon_and_history(shop, oscar_adapter):
    order = one(oscar_adapter.orders([shop.orders["alice_en"].pk]))
    assert (order.subtotal, order.discount, order.shipping_total, order.total) == (
        Decimal("58.50"),
        Decimal("5.85"),
        Decimal("4.95"),
        Decimal("57.60"),
    )
    assert order.coupon_codes == ("SAVE10",)
    assert order.payment_method == "Credit card"
    assert order.shipping_method == "Standard delivery"
    assert order.quote_id == shop.orders["alice_en"].basket_id
    assert [(c.old_status, c.new_status) for c in order.status_history] == [
        ("pending", "processing"),
        ("processing", "complete"),
    ]
    assert order.updated_at == order.status_history[-1].at
    assert order.delivery_address.city == "London" and order.delivery_address.country == "GB"
    shirt = next(line for line in order.lines if line.name == "Oxford Shirt")
    assert (shirt.qty, shirt.price, shirt.categories) == (2, Decimal("25.00"), ("Shirts",))


def test_variant_lines_carry_parent_and_inherited_categories_and_refunds(shop, oscar_adapter):
    order = one(oscar_adapter.orders([shop.orders["alice_fr"].pk]))
    (line,) = order.lines
    assert line.parent_id == shop.products["hoodie"].pk
    assert line.parent_name == "Hoodie"
    assert line.categories == ("Hoodies",)
    assert order.total_refunded == Decimal("10.00")
    assert order.payment_method == "PayPal"


def test_guest_order_uses_the_checkout_email(shop, oscar_adapter):
    order = one(oscar_adapter.orders([shop.orders["guest_outlet"].pk]))
    assert order.email == "guest@example.com"
    assert order.is_guest and order.customer_id is None
    assert order.store_id == shop.scope.outlet_en.pk


def test_product_price_and_stock_come_from_the_strategy(shop, oscar_adapter):
    shirt = shop.products["shirt"]
    record = one(oscar_adapter.products([shirt.pk]))
    # 50 in stock, 2 + 1 allocated by the orders that bought it
    assert (record.price, record.stock, record.currency) == (Decimal("25.00"), 47, "GBP")
    assert record.url == f"/catalogue/{shirt.slug}_{shirt.pk}/"
    assert record.image_url.endswith("products/shirt.jpg")
    StockRecord.objects.filter(product=shirt).update(price=Decimal("19.99"))
    assert one(oscar_adapter.products([shirt.pk])).price == Decimal("19.99")


def test_parent_product_is_priced_through_its_children(shop, oscar_adapter):
    parent = one(oscar_adapter.products([shop.products["hoodie"].pk]))
    child = one(oscar_adapter.products([shop.products["hoodie_m"].pk]))
    assert parent.type == "parent" and child.type == "child"
    assert parent.price == Decimal("40.00")
    assert parent.stock == child.stock == 9  # 10 in stock, one allocated by alice_fr
    assert child.parent_id == parent.id
    assert child.categories == parent.categories == ("Hoodies",)


def test_quote_lines_are_priced_at_read_time_and_flag_activity(shop, oscar_adapter):
    abandoned = shop.baskets["bob_abandoned"]
    StockRecord.objects.filter(product=shop.products["mug"]).update(price=Decimal("9.00"))
    quote = one(oscar_adapter.quotes([abandoned.pk]))
    (line,) = quote.lines
    assert (line.qty, line.price) == (3, Decimal("9.00"))  # the basket line says 8.50
    assert quote.subtotal == Decimal("27.00")
    assert quote.is_active and quote.email == "bob@example.com"
    assert quote.store_id == shop.scope.outlet_en.pk
    assert timezone.now() - quote.updated_at > timedelta(days=1)
    submitted = one(oscar_adapter.quotes([shop.orders["alice_en"].basket_id]))
    assert not submitted.is_active
    anonymous = one(oscar_adapter.quotes([shop.baskets["anonymous"].pk]))
    assert anonymous.email == "" and anonymous.customer_id is None


def test_wishlists_and_reviews(shop, oscar_adapter):
    alice = one(oscar_adapter.wishlists([shop.wishlists["alice"].pk]))
    assert [(i.name, i.price) for i in alice.items] == [
        ("Coffee Mug", Decimal("8.50")),
        ("Hoodie (M)", Decimal("40.00")),
    ]
    assert alice.store_id == shop.scope.main_fr.pk  # alice's last order
    assert one(oscar_adapter.wishlists([shop.wishlists["bob_empty"].pk])).items == ()
    reviews = {r.id: r for r in oscar_adapter.reviews([r.pk for r in shop.reviews.values()])}
    assert not reviews[shop.reviews["carol_pending"].pk].approved
    anonymous = reviews[shop.reviews["anon_shirt"].pk]
    assert (anonymous.email, anonymous.customer_id, anonymous.store_id) == (
        "anon@example.com",
        None,
        shop.scope.main_en.pk,
    )
    assert (
        reviews[shop.reviews["bob_mug"].pk].product_sku == shop.products["mug"].stockrecords.get().partner_sku
    )


def test_customer_addresses(shop, oscar_adapter):
    bob = one(oscar_adapter.customers([shop.customers["bob"].pk]))
    assert bob.billing_address.city == "Paris" and bob.delivery_address.country == "FR"
    dave = one(oscar_adapter.customers([shop.customers["dave"].pk]))
    assert dave.billing_address is None and dave.delivery_address is None


def test_guests_take_names_and_addresses_from_their_last_order(shop, oscar_adapter):
    place_order("guest@example.com", [shop.products["mug"]], shop.scope.main_fr, guest_name=("Gus", "Guest"))
    main = [shop.scope.main_en.pk, shop.scope.main_fr.pk]
    guest = next(g for g in oscar_adapter.guests(["guest@example.com"], main))
    assert (guest.first_name, guest.last_name, guest.store_id) == ("Gus", "Guest", shop.scope.main_fr.pk)
    assert guest.first_order_id == shop.orders["guest_main"].pk
    assert guest.billing_address.last_name == "Guest"


def test_sales_data_is_a_stream_of_records(shop, oscar_adapter):
    stores = [shop.scope.main_en.pk, shop.scope.main_fr.pk]
    (alice,) = oscar_adapter.sales_data(["alice@example.com"], stores, ["processing", "complete"])
    assert isinstance(alice, SalesData)
    assert alice.number_of_orders == 2


def test_default_store_without_a_configured_default(scope):
    Website.objects.filter(pk=scope.main.pk).update(default_store=None)
    stores = StoreMap.load()
    assert stores.default_website_id == scope.main.pk
    assert stores.default_store_id == scope.main_en.pk  # the website's lowest-id store


def test_history_needs_a_website_for_its_default_scope(db, oscar_adapter):
    with pytest.raises(ConfigurationError, match="No dotsync website"):
        oscar_adapter.history("email_order")
    assert oscar_adapter.history("email_catalog")  # the catalogue has no scope


def test_history_source_statement_shape(scope, oscar_adapter):
    customers, guests, subscribers = oscar_adapter.history("email_contact")
    assert (customers.name, guests.name, subscribers.name) == ("customers", "guests", "subscribers")
    assert "DO NOTHING" in customers.insert_sql()
    assert 'DO UPDATE SET "is_guest" = excluded."is_guest"' in guests.insert_sql()
    assert subscribers.update_columns == (
        "is_subscriber",
        "subscriber_status",
        "subscriber_sync_status",
        "last_subscribed_at",
    )
    # model defaults are supplied, since Django's defaults are not database defaults
    assert {"payload_hash", "sync_message", "suppressed", "contact_id"} <= set(customers.columns)
    assert customers.bind(1, 5) == {**customers.params, "lo": 1, "hi": 5}


def test_customer_whose_email_also_ordered_as_guest_is_flagged_guest(scope, oscar_adapter):
    mug = make_product("Mug", "5.00", 10)
    customer = make_customer("both@example.com", "Bo", "Th")
    place_order(customer, [mug], scope.outlet_en)
    place_order("both@example.com", [mug], scope.outlet_en)
    apply_history(oscar_adapter, "email_contact", chunk=1)
    rows = history_rows("email_contact", ["customer_id", "is_guest"])
    assert rows[("both@example.com", scope.outlet.pk)] == {"customer_id": customer.pk, "is_guest": True}


def test_basket_with_several_lines_counts_lines(scope, oscar_adapter):
    a, b = make_product("A", "1.00", 10), make_product("B", "2.00", 10)
    customer = make_customer("lines@example.com")
    basket = make_basket(customer, [(a, 2), b])
    apply_history(oscar_adapter, "email_quote")
    assert history_rows("email_quote", ["item_count", "is_active"])[basket.pk] == {
        "item_count": 2,
        "is_active": True,
    }


def test_unsubscribe_only_touches_the_given_stores_across_chunks(scope, oscar_adapter, monkeypatch):
    monkeypatch.setattr(newsletter, "CHUNK", 7)  # exercise several chunks with a small table
    before = timezone.now() - timedelta(days=1)
    emails = [f"s{i}@example.com" for i in range(20)]
    NewsletterSubscriber.objects.bulk_create(
        [
            NewsletterSubscriber(store=store, subscriber_email=e, change_status_at=before)
            for e in emails
            for store in scope.stores
        ]
    )
    at = timezone.now()
    result = oscar_adapter.unsubscribe(
        emails, [scope.main_en.pk, scope.main_fr.pk], at, unless_changed_after=at
    )
    assert result == dict.fromkeys(emails, True)
    statuses = dict(
        NewsletterSubscriber.objects.values_list("store_id")
        .values_list("store_id", "subscriber_status")
        .distinct()
    )
    assert statuses == {
        scope.main_en.pk: SubscriberStatus.UNSUBSCRIBED,
        scope.main_fr.pk: SubscriberStatus.UNSUBSCRIBED,
        scope.outlet_en.pk: SubscriberStatus.SUBSCRIBED,
    }
