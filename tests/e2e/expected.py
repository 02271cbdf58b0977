"""What the platform must hold for the small shop (``dotsync.testing.shop.build_shop`` plus zoe), by website.

Written from the shop's documented contents, so a test can check that everything landed without
re-deriving it from the sync tables.
"""

from __future__ import annotations

from typing import Any

from dotsync.testing.shop import Shop
from tests.e2e.platform_view import AccountView

BOOKS: dict[str, dict[str, set[str]]] = {
    "main": {
        "customers": {"alice@example.com", "carol@example.com", "dave@example.com"},
        "guests": {"guest@example.com", "gast@example.com"},
        "subscribers": {"alice@example.com", "erin@example.com", "zoe@example.com"},
    },
    "outlet": {
        "customers": {"bob@example.com"},
        "guests": {"guest@example.com"},
        "subscribers": {"frank@example.com"},
    },
}


def collections(shop: Shop) -> dict[str, dict[str, set[str]]]:
    """Record keys per website and collection."""
    o, b, r, w = shop.orders, shop.baskets, shop.reviews, shop.wishlists
    public = {str(p.pk) for name, p in shop.products.items() if name != "poster"}

    def keys(*objs: Any) -> set[str]:
        return {str(getattr(x, "number", None) or x.pk) for x in objs}

    def submitted(*names: str) -> set[str]:  # the baskets the orders were placed from
        return {str(o[n].basket_id) for n in names}

    return {
        "main": {
            "Orders": keys(o["alice_en"], o["alice_fr"], o["guest_fr"], o["dave_storeless"]),
            "Quote": keys(b["alice_open"], b["carol_open"])
            | submitted("alice_en", "alice_fr", "dave_storeless"),
            "Reviews": keys(r["alice_shirt"]),
            "Wishlist": keys(w["alice"], w["carol"]),
            "Catalog_Default": public,
        },
        "outlet": {
            "Orders": keys(o["bob_outlet"], o["guest_outlet"]),
            "Quote": keys(b["bob_abandoned"]) | submitted("bob_outlet"),
            "Reviews": keys(r["bob_mug"]),
            "Wishlist": set(),
            "Catalog_Default": public,
        },
    }


def assert_landed(shop: Shop, views: dict[str, AccountView]) -> None:
    """Every account holds exactly the shop's contacts per book and records per collection."""
    expected = collections(shop)
    for code, acc in views.items():
        for book, emails in BOOKS[code].items():
            assert acc.books[book] == emails, (code, book)
        for collection, keys in expected[code].items():
            assert acc.keys(collection) == keys, (code, collection)
            assert acc.record_counts.get(collection, 0) == len(keys), (code, collection)
