"""Wishlist JSON for the ``Wishlist`` collection (contact scope, type ``wishList``, key = wishlist id)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dotsync.jobs.payloads.insight import contact_record
from dotsync.jobs.payloads.values import iso, money, text
from dotsync.store.records import Wishlist, WishlistItem

COLLECTION = "Wishlist"
COLLECTION_TYPE = "wishList"


def item_json(item: WishlistItem) -> dict[str, Any]:
    """One wishlist item with its line value."""
    return {
        "productId": "" if item.product_id is None else str(item.product_id),
        "sku": item.sku,
        "name": text(item.name, 255),
        "qty": int(item.qty),
        "price": money(item.price),
        "totalValueOfProduct": money(item.price * item.qty),
    }


def wishlist_json(wishlist: Wishlist, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The wishlist as the ``Wishlist`` collection stores it."""
    total = sum((item.price * item.qty for item in wishlist.items), Decimal("0"))
    return {
        "id": wishlist.id,
        "customerId": wishlist.customer_id,
        "email": email,
        "storeName": store_name,
        "websiteName": website_name,
        "createdDate": iso(wishlist.created_at),
        "itemCount": len(wishlist.items),
        "totalWishlistValue": money(total),
        "items": [item_json(item) for item in wishlist.items],
    }


def wishlist_record(wishlist: Wishlist, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The v3 insight record of a wishlist, keyed by wishlist id."""
    body = wishlist_json(wishlist, email=email, store_name=store_name, website_name=website_name)
    return contact_record(str(wishlist.id), email, body)
