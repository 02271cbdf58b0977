"""The shop builders, for tests: re-exported from :mod:`dotsync.demo.shop`, where the demo uses them.

They live with the demo so production code never imports the test kit; tests keep importing them here.
"""

from __future__ import annotations

from dotsync.demo.shop import (
    COUNTRIES,
    DEFAULT_ADDRESS,
    PAYMENT_METHODS,
    ProductLike,
    ProductLines,
    Shop,
    add_address,
    backdate_basket,
    build_shop,
    country,
    make_basket,
    make_category,
    make_customer,
    make_product,
    make_review,
    make_voucher,
    make_wishlist,
    place_order,
    set_order_status,
    status_path,
    store_request,
    subscribe,
    user_model,
)

__all__ = [
    "COUNTRIES",
    "DEFAULT_ADDRESS",
    "PAYMENT_METHODS",
    "ProductLike",
    "ProductLines",
    "Shop",
    "add_address",
    "backdate_basket",
    "build_shop",
    "country",
    "make_basket",
    "make_category",
    "make_customer",
    "make_product",
    "make_review",
    "make_voucher",
    "make_wishlist",
    "place_order",
    "set_order_status",
    "status_path",
    "store_request",
    "subscribe",
    "user_model",
]
