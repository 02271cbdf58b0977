"""The demo seeder: a realistic Oscar shop, the same for the same seed, readable by the adapter."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from oscar.core.loading import get_model

from dotsync.demo.seed import seed_shop
from dotsync.models import NewsletterSubscriber, Store
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store.oscar import OscarAdapter
from dotsync.store.oscar.adapter import stream
from dotsync.testing.contract import apply_history, history_rows

Order = get_model("order", "Order")
SIZES = {"customers": 40, "orders": 120, "real_orders": 12}


def snapshot() -> dict:
    User = get_model("auth", "User")
    return {
        "customers": sorted(User.objects.values_list("email", "first_name", "last_name")),
        "subscribers": sorted(
            NewsletterSubscriber.objects.values_list("subscriber_email", "store__code", "subscriber_status")
        ),
        "orders": sorted(
            (
                o.email,
                o.site.domain,
                o.status,
                str(o.total_incl_tax),
                tuple(o.lines.values_list("partner_sku", "quantity")),
            )
            for o in Order.objects.select_related("user", "site").prefetch_related("lines")
        ),
        "reviews": sorted(
            get_model("reviews", "ProductReview").objects.values_list("product__title", "score", "status")
        ),
    }


def seeded_snapshot(seed: int) -> tuple[dict, dict]:
    with transaction.atomic():
        counts = seed_shop(seed, SIZES["customers"], SIZES["orders"], real_orders=SIZES["real_orders"])
        snap = snapshot()
        transaction.set_rollback(True)
    return counts, snap


@pytest.mark.django_db
def test_same_seed_same_shop_emails_included():
    counts_a, a = seeded_snapshot(11)
    counts_b, b = seeded_snapshot(11)
    _, c = seeded_snapshot(12)
    assert counts_a == counts_b
    assert a == b
    assert a["customers"] != c["customers"]
    assert len(a["customers"]) == SIZES["customers"]
    assert all("@" in email for email, *_ in a["customers"])


@pytest.mark.django_db
def test_seeded_shop_is_varied_and_readable():
    progress = []
    counts = seed_shop(5, progress=lambda step, done, total: progress.append(step), **SIZES)
    assert {
        "catalogue",
        "customers",
        "orders",
        "subscribers",
        "baskets",
        "wishlists",
        "reviews",
        "done",
    } <= set(progress)
    assert counts["orders"] == Order.objects.count() == SIZES["orders"]
    assert counts["orders_via_order_creator"] == SIZES["real_orders"]
    # every status, on every store's site, guests included
    assert set(Order.objects.values_list("status", flat=True)) == {
        "pending",
        "processing",
        "complete",
        "closed",
        "cancelled",
        "holded",
    }
    assert set(Order.objects.values_list("site_id", flat=True)) == set(
        Store.objects.values_list("site_id", flat=True)
    )
    assert Order.objects.filter(user__isnull=True).exclude(guest_email="").exists()
    # Oscar's pipeline history: a closed order went pending -> processing -> closed
    closed = Order.objects.filter(status="closed").first()
    assert (
        list(closed.status_changes.order_by("date_created").values_list("new_status", flat=True))[-1]
        == "closed"
    )
    # subscribers in every status; unconfirmed ones only where confirmation is required
    statuses = Counter(NewsletterSubscriber.objects.values_list("subscriber_status", flat=True))
    assert set(statuses) == {s.value for s in SubscriberStatus}
    unconfirmed = NewsletterSubscriber.objects.filter(subscriber_status=SubscriberStatus.UNCONFIRMED)
    assert set(unconfirmed.values_list("store__requires_confirmation", flat=True)) == {True}
    # open and abandoned baskets
    assert counts["baskets_abandoned"] > 0 and counts["baskets_open"] > 0
    # the adapter reads every order, bulk-written or placed by OrderCreator, with lines and history
    adapter = OscarAdapter()
    orders = list(stream(adapter, "orders", page_size=50))
    assert len(orders) == SIZES["orders"]
    assert all(o.lines and o.email and o.store_id for o in orders)
    assert any(o.coupon_codes for o in orders)
    # history selects every order once
    apply_history(adapter, "email_order", chunk=37)
    assert len(history_rows("email_order", ["store_id"])) == SIZES["orders"]
