"""The basket fragment: an open basket's lines, its grand total and its signed restore link."""

from __future__ import annotations

from django.http import HttpRequest

from dotsync import links
from dotsync.store.registry import get_adapter
from dotsync.storefront import rendering, scoping
from dotsync.storefront.passcode import EdcContext, edc_view


@edc_view
def basket(request: HttpRequest, ctx: EdcContext, basket_id: int) -> str:
    """``edc/<website>/basket/<basket_id>/``: the open basket (empty, so 204, when it is not open)."""
    if not scoping.basket_in_website(ctx, basket_id):
        return ""
    found = next(iter(get_adapter().quotes([basket_id])), None)  # the process's adapter: its facts cache
    if found is None or not found.is_active or not found.lines:
        return ""
    restore = links.restore_url(found.id, ctx.website.code, ctx.domain or None)
    return rendering.basket_table(ctx, found, restore)
