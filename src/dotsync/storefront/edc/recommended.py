"""Related, upsell and cross-sell fragments from an order, basket or wishlist (rules: :mod:`..recommend`)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from dotsync.storefront import recommend, rendering, scoping
from dotsync.storefront.edc.sources import basket_products, order_products, wishlist_products
from dotsync.storefront.passcode import EdcContext, edc_view

SOURCES = {"order": order_products, "basket": basket_products, "wishlist": wishlist_products}
"""What the source id in the URL names: an order id, a basket id, or a customer id (their wishlist)."""
IN_WEBSITE = {
    "order": scoping.order_in_website,
    "basket": scoping.basket_in_website,
    "wishlist": scoping.customer_in_website,
}
"""Whether the source belongs to the request's website (another website's source answers 204)."""


@edc_view
def recommended(request: HttpRequest, ctx: EdcContext, kind: str, source: str, source_id: str) -> str:
    """``edc/<website>/<related|upsell|crosssell>/<order|basket|wishlist>/<id>/``."""
    try:
        chosen = recommend.Kind(kind)
        read = SOURCES[source]
    except (ValueError, KeyError):
        raise Http404("unknown recommendation") from None
    if not IN_WEBSITE[source](ctx, int(source_id)):
        return ""
    cards = recommend.recommend(
        chosen, read(int(source_id)), ctx.cfg.edc_items, ctx.cfg.edc_fallback_product_ids
    )
    return rendering.product_list(ctx, cards)
