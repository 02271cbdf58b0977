"""Recently viewed: the customer's latest product views (``email_product_view``), newest first."""

from __future__ import annotations

from django.http import HttpRequest

from dotsync.models import ProductView
from dotsync.storefront import products, recommend, rendering, scoping
from dotsync.storefront.passcode import EdcContext, edc_view

READ = 50
"""Latest view rows read per request (repeat views of one product collapse into one)."""


@edc_view
def recently_viewed(request: HttpRequest, ctx: EdcContext, customer_id: int) -> str:
    """``edc/<website>/recentlyviewed/<customer_id>/``: what the customer viewed last (no session login)."""
    if not scoping.customer_in_website(ctx, customer_id):
        return ""
    ids = list(
        ProductView.objects.filter(user_id=customer_id)
        .order_by("-viewed_at", "-pk")
        .values_list("product_id", flat=True)[:READ]
    )
    shown = recommend.parents(list(dict.fromkeys(ids)))[: ctx.cfg.edc_items]
    return rendering.product_list(ctx, products.cards_for(shown))
