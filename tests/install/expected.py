"""What the sync tables must hold after install, computed independently from Oscar's models.

This re-derives every row from the store with the ORM and plain Python, following the scope rules
of :mod:`dotsync.store.oscar.scope`, so a test can compare it with what the SQL backfill wrote.
Small shops only (it loads everything).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from dotsync.models import (
    Catalog,
    Contact,
    NewsletterSubscriber,
    Order,
    Quote,
    Review,
    Store,
    Website,
    Wishlist,
)
from dotsync.store.oscar.history import ACTIVE_BASKET_STATUSES

SUBSCRIBED = int(NewsletterSubscriber.Status.SUBSCRIBED)
NEW, IMPORTED = 0, 3


class Scopes:
    def __init__(self) -> None:
        self.site_store = dict(Store.objects.exclude(site=None).values_list("site_id", "id"))
        self.store_website = dict(Store.objects.values_list("id", "website_id"))
        website_id, default_store = (
            Website.objects.order_by("id").values_list("id", "default_store_id").first()
        )
        self.default = (website_id, default_store)
        oscar_order = get_model("order", "Order")
        self.last_order_site: dict[int, Any] = {}
        for user_id, site_id in (
            oscar_order.objects.exclude(user=None).order_by("id").values_list("user_id", "site_id")
        ):
            self.last_order_site[user_id] = site_id

    def for_site(self, site_id: Any) -> tuple[int, int]:
        store = self.site_store.get(site_id)
        return (self.store_website[store], store) if store else self.default

    def for_owner(self, user_id: Any) -> tuple[int, int]:
        if user_id in self.last_order_site:
            return self.for_site(self.last_order_site[user_id])
        return self.default


def expected_rows() -> dict[str, dict[Any, tuple]]:
    """Table -> key -> the scoped values install must write."""
    sc = Scopes()
    OscarOrder = get_model("order", "Order")
    contacts: dict[tuple[str, int], dict[str, Any]] = {}
    for user in get_user_model().objects.exclude(email=""):
        website, store = sc.for_owner(user.pk)
        contacts[(user.email, website)] = {"store": store, "customer_id": user.pk, "is_guest": False}
    guest_orders = OscarOrder.objects.filter(user=None).exclude(guest_email="").order_by("id")
    for order in guest_orders:
        website, store = sc.for_site(order.site_id)
        row = contacts.get((order.guest_email, website))
        if row is None:
            contacts[(order.guest_email, website)] = {"store": store, "customer_id": None, "is_guest": True}
        else:
            row["is_guest"] = True
            if row["customer_id"] is None:
                row["store"] = min(row["store"], store)
    chosen: dict[tuple[str, int], NewsletterSubscriber] = {}
    for sub in NewsletterSubscriber.objects.order_by("subscriber_id"):
        key = (sub.subscriber_email, sc.store_website[sub.store_id])
        best = chosen.get(key)
        rank = (sub.subscriber_status == SUBSCRIBED, sub.subscriber_id)
        if best is None or rank > (best.subscriber_status == SUBSCRIBED, best.subscriber_id):
            chosen[key] = sub
    for key, sub in chosen.items():
        row = contacts.setdefault(
            key, {"store": sub.store_id, "customer_id": sub.customer_id, "is_guest": False}
        )
        subscribed = sub.subscriber_status == SUBSCRIBED
        row.update(
            is_subscriber=subscribed,
            subscriber_status=sub.subscriber_status,
            subscriber_sync_status=NEW if subscribed else IMPORTED,
        )
    out: dict[str, dict[Any, tuple]] = {
        "email_contact": {
            k: (
                v["store"],
                v["customer_id"],
                v["is_guest"],
                v.get("is_subscriber", False),
                v.get("subscriber_status"),
                v.get("subscriber_sync_status", IMPORTED),
            )
            for k, v in contacts.items()
        }
    }
    out["email_order"] = {}
    for o in OscarOrder.objects.select_related("user"):
        website, store = sc.for_site(o.site_id)
        email = o.user.email if o.user_id else o.guest_email
        out["email_order"][o.pk] = (website, store, str(o.number), o.status, o.user_id, email, o.basket_id)
    Basket = get_model("basket", "Basket")
    out["email_quote"] = {}
    for basket in Basket.objects.exclude(owner=None).select_related("owner"):
        count = basket.all_lines().count()
        if count:
            website, store = sc.for_owner(basket.owner_id)
            active = basket.status in ACTIVE_BASKET_STATUSES
            out["email_quote"][basket.pk] = (
                website,
                store,
                basket.owner_id,
                basket.owner.email,
                count,
                active,
            )
    out["email_wishlist"] = {
        w.pk: (*sc.for_owner(w.owner_id), w.owner_id, w.lines.count())
        for w in get_model("wishlists", "WishList").objects.all()
    }
    ProductReview = get_model("reviews", "ProductReview")
    out["email_review"] = {
        r.pk: (*sc.for_owner(r.user_id), r.user_id)
        for r in ProductReview.objects.filter(status=ProductReview.APPROVED)
    }
    out["email_catalog"] = {
        pk: () for pk in get_model("catalogue", "Product").objects.values_list("pk", flat=True)
    }
    return out


def actual_rows() -> dict[str, dict[Any, tuple]]:
    """The same shape, read from the sync tables."""
    return {
        "email_contact": {
            (c.email, c.website_id): (
                c.store_id,
                c.customer_id,
                c.is_guest,
                c.is_subscriber,
                c.subscriber_status,
                c.subscriber_sync_status,
            )
            for c in Contact.objects.all()
        },
        "email_order": {
            o.order_id: (
                o.website_id,
                o.store_id,
                o.order_number,
                o.order_status,
                o.customer_id,
                o.email,
                o.quote_id,
            )
            for o in Order.objects.all()
        },
        "email_quote": {
            q.quote_id: (q.website_id, q.store_id, q.customer_id, q.email, q.item_count, q.is_active)
            for q in Quote.objects.all()
        },
        "email_wishlist": {
            w.wishlist_id: (w.website_id, w.store_id, w.customer_id, w.item_count)
            for w in Wishlist.objects.all()
        },
        "email_review": {
            r.review_id: (r.website_id, r.store_id, r.customer_id) for r in Review.objects.all()
        },
        "email_catalog": {c.product_id: () for c in Catalog.objects.all()},
    }


def snapshot() -> dict[str, list[tuple]]:
    """Every sync-table row, all columns but the surrogate key and the row timestamps, sorted."""
    out = {}
    for model in (Contact, Order, Quote, Wishlist, Review, Catalog):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in ("created_at", "updated_at")
        ]
        out[model._meta.db_table] = sorted(
            (tuple(map(repr, row)) for row in model.objects.values_list(*fields)), key=str
        )
    return out
