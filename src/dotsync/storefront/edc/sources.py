"""The product ids an order, a basket or a wishlist holds (one query each), for the fragments."""

from __future__ import annotations

from oscar.core.loading import get_model

OPEN = "Open"
"""Oscar's open-basket status: the only baskets the fragments show (the reference: active quotes only)."""


def order_products(order_id: int) -> list[int]:
    """The product ids on the order's lines, in line order."""
    line = get_model("order", "Line")
    ids = line._default_manager.filter(order_id=order_id).order_by("pk").values_list("product_id", flat=True)
    return list(dict.fromkeys(i for i in ids if i is not None))


def basket_products(basket_id: int) -> list[int]:
    """The product ids on an open basket's lines, in line order."""
    line = get_model("basket", "Line")
    ids = (
        line._default_manager.filter(basket_id=basket_id, basket__status=OPEN)
        .order_by("pk")
        .values_list("product_id", flat=True)
    )
    return list(dict.fromkeys(i for i in ids if i is not None))


def wishlist_products(customer_id: int) -> list[int]:
    """The product ids on the customer's wishlists, oldest line first."""
    line = get_model("wishlists", "Line")
    ids = (
        line._default_manager.filter(wishlist__owner_id=customer_id)
        .order_by("wishlist_id", "pk")
        .values_list("product_id", flat=True)
    )
    return list(dict.fromkeys(i for i in ids if i is not None))
