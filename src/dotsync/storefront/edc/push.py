"""The manual product push: the website's ``edc_push_product_ids``, in that order."""

from __future__ import annotations

from django.http import HttpRequest

from dotsync.storefront import products, recommend, rendering
from dotsync.storefront.passcode import EdcContext, edc_view


@edc_view
def push(request: HttpRequest, ctx: EdcContext) -> str:
    """``edc/<website>/push/``: the configured products (204 when none is set)."""
    ids = recommend.parents(list(ctx.cfg.edc_push_product_ids))[: ctx.cfg.edc_items]
    return rendering.product_list(ctx, products.cards_for(ids))
