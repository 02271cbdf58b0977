"""The shop builders go through Oscar's real code: OrderCreator, set_status, Applicator, WishList.add."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from dotsync.models import NewsletterSubscriber
from dotsync.testing.shop import make_customer, make_product, place_order, status_path, subscribe


def test_small_shop_places_orders_on_each_store_site(shop):
    orders = shop.orders
    assert orders["alice_en"].site_id == shop.scope.main_en.site_id
    assert orders["alice_fr"].site_id == shop.scope.main_fr.site_id
    assert orders["bob_outlet"].site_id == shop.scope.outlet_en.site_id
    assert orders["guest_outlet"].user_id is None
    assert orders["guest_outlet"].guest_email == "guest@example.com"
    # the pipeline was walked with set_status, so the history is recorded
    changes = orders["alice_en"].status_changes.order_by("id").values_list("old_status", "new_status")
    assert list(changes) == [("pending", "processing"), ("processing", "complete")]
    # the voucher went through Oscar's offer machinery
    discount = orders["alice_en"].discounts.get()
    assert discount.voucher_code == "SAVE10"
    assert discount.amount == Decimal("5.85")  # 10% of 2 x 25.00 + 8.50


def test_baskets_wishlists_reviews_and_subscribers(shop):
    assert shop.baskets["bob_abandoned"].lines.get().quantity == 3
    assert shop.baskets["anonymous"].owner_id is None
    assert shop.wishlists["alice"].lines.count() == 2
    assert shop.reviews["carol_pending"].status == 0
    assert shop.reviews["alice_shirt"].status == 1
    statuses = dict(NewsletterSubscriber.objects.values_list("subscriber_email", "subscriber_status"))
    assert statuses["bob@example.com"] == NewsletterSubscriber.Status.UNSUBSCRIBED


def test_status_path_follows_the_pipeline():
    assert status_path("complete") == ["processing", "complete"]
    assert status_path("closed", "complete") == ["closed"]
    with pytest.raises(ValueError, match="not reachable"):
        status_path("pending", "closed")


def test_subscribe_updates_the_existing_row(scope):
    user = make_customer("zoe@example.com", "Zoe")
    subscribe("zoe@example.com", scope.main_en, customer=user)
    subscribe("zoe@example.com", scope.main_en, NewsletterSubscriber.Status.UNSUBSCRIBED, customer=user)
    row = NewsletterSubscriber.objects.get(subscriber_email="zoe@example.com")
    assert row.subscriber_status == NewsletterSubscriber.Status.UNSUBSCRIBED
    assert row.customer_id == user.pk


def test_place_order_allocates_stock(scope):
    product = make_product("Lamp", "30.00", 5, ["Home > Lighting"])
    place_order("walk-in@example.com", [(product, 2)], scope.outlet_en)
    record = get_model("partner", "StockRecord").objects.get(product=product)
    assert record.num_allocated == 2
