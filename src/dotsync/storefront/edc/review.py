"""The review fragment: the order's products the customer has not reviewed yet.

The reference ignores its own "new products only" filter and lists every product of the order; here a
product the order's customer already reviewed is left out (a guest order lists every product).
"""

from __future__ import annotations

from django.http import HttpRequest
from oscar.core.loading import get_model

from dotsync.storefront import products, rendering, scoping
from dotsync.storefront.edc.sources import order_products
from dotsync.storefront.passcode import EdcContext, edc_view


@edc_view
def review(request: HttpRequest, ctx: EdcContext, order_id: int) -> str:
    """``edc/<website>/review/<order_id>/``: products to review (204 when none is left)."""
    if not scoping.order_in_website(ctx, order_id):
        return ""
    order = get_model("order", "Order")
    user_id = order._default_manager.filter(pk=order_id).values_list("user_id", flat=True).first()
    ids = order_products(order_id)
    if user_id is not None and ids:
        review_model = get_model("reviews", "ProductReview")
        done = set(
            review_model._default_manager.filter(user_id=user_id, product_id__in=ids).values_list(
                "product_id", flat=True
            )
        )
        ids = [i for i in ids if i not in done]
    return rendering.product_list(ctx, products.cards_for(ids[: ctx.cfg.edc_items]))
