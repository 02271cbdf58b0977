"""The wishlist fragment: the customer's wishlist products as a product list."""

from __future__ import annotations

from django.http import HttpRequest

from dotsync.storefront import products, rendering, scoping
from dotsync.storefront.edc.sources import wishlist_products
from dotsync.storefront.passcode import EdcContext, edc_view


@edc_view
def wishlist(request: HttpRequest, ctx: EdcContext, customer_id: int) -> str:
    """``edc/<website>/wishlist/<customer_id>/``: the customer's wishlist (204 when empty)."""
    if not scoping.customer_in_website(ctx, customer_id):
        return ""
    ids = wishlist_products(customer_id)[: ctx.cfg.edc_items]
    return rendering.product_list(ctx, products.cards_for(ids))
