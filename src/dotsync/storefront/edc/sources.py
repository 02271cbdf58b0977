"""The products an order, a basket or a wishlist holds (one query each), for the fragments.

Each variant (a child product) stands for its parent, as the fragments show products: the ids are
the lines' products with children replaced by their parents, in line order, without repeats.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce
from oscar.core.loading import get_model

OPEN = "Open"
"""Oscar's open-basket status: the only baskets the fragments show (the reference: active quotes only)."""


def _shown(lines: Any) -> list[int]:
    ids = lines.annotate(shown=Coalesce(F("product__parent_id"), F("product_id"))).values_list(
        "shown", flat=True
    )
    return list(dict.fromkeys(i for i in ids if i is not None))


def order_products(order_id: int) -> list[int]:
    """The products on the order's lines, in line order."""
    line = get_model("order", "Line")
    return _shown(line._default_manager.filter(order_id=order_id).order_by("pk"))


def basket_products(basket_id: int) -> list[int]:
    """The products on an open basket's lines, in line order."""
    line = get_model("basket", "Line")
    return _shown(line._default_manager.filter(basket_id=basket_id, basket__status=OPEN).order_by("pk"))


def wishlist_products(customer_id: int) -> list[int]:
    """The products on the customer's wishlists, oldest line first."""
    line = get_model("wishlists", "Line")
    return _shown(line._default_manager.filter(wishlist__owner_id=customer_id).order_by("wishlist_id", "pk"))
