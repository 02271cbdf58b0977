"""Oscar's models, resolved through ``oscar.core.loading.get_model`` so forked apps are honoured."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from oscar.core.loading import get_class, get_model


@dataclass(frozen=True)
class OscarModels:
    """The Oscar model classes (and the strategy selector) the adapter reads."""

    User: Any
    UserAddress: Any
    Order: Any
    OrderLine: Any
    OrderDiscount: Any
    OrderStatusChange: Any
    PaymentSource: Any
    Basket: Any
    BasketLine: Any
    WishList: Any
    WishListLine: Any
    ProductReview: Any
    Product: Any
    ProductCategory: Any
    ProductAttributeValue: Any
    Selector: Any


@cache
def oscar_models() -> OscarModels:
    """Resolve the models once (after the app registry is ready)."""
    return OscarModels(
        User=get_user_model(),
        UserAddress=get_model("address", "UserAddress"),
        Order=get_model("order", "Order"),
        OrderLine=get_model("order", "Line"),
        OrderDiscount=get_model("order", "OrderDiscount"),
        OrderStatusChange=get_model("order", "OrderStatusChange"),
        PaymentSource=get_model("payment", "Source"),
        Basket=get_model("basket", "Basket"),
        BasketLine=get_model("basket", "Line"),
        WishList=get_model("wishlists", "WishList"),
        WishListLine=get_model("wishlists", "Line"),
        ProductReview=get_model("reviews", "ProductReview"),
        Product=get_model("catalogue", "Product"),
        ProductCategory=get_model("catalogue", "ProductCategory"),
        ProductAttributeValue=get_model("catalogue", "ProductAttributeValue"),
        Selector=get_class("partner.strategy", "Selector"),
    )
