"""Bestsellers (from order lines) and most viewed (from ``email_product_view``), by day, week or month.

``?period=D|W|M`` overrides the website's ``edc_period`` (1, 7 or 30 days back from now);
``?category_id=<id>`` keeps the products of one category. A child product counts for its parent. Only the
website's orders and views count (its stores' sites, by the scope rule of
:class:`~dotsync.store.oscar.scope.StoreMap`: the default store also takes those of unbound sites).

A ranking is the same for every recipient of a send, so it is kept :data:`RANKING_TTL` in Django's cache
(per website, period, category and length): a sale or a view shows within that time. The products'
prices and stock are read on every request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync.models import ProductView
from dotsync.store.oscar.scope import StoreMap
from dotsync.storefront import products, recommend, rendering
from dotsync.storefront.passcode import EdcContext, edc_view

PERIODS = {"D": timedelta(days=1), "W": timedelta(days=7), "M": timedelta(days=30)}
"""The periods of the reference (``bestsellers_time_period``, ``most_viewed_time_period``)."""
CANDIDATES = 3
"""Ranked products read per item to show, so unsalable ones can be skipped."""
RANKING_TTL = 60
"""Seconds a ranking (product ids, not prices or stock) is kept in Django's cache."""


def _period(request: HttpRequest, ctx: EdcContext) -> str:
    period = request.GET.get("period", "").upper()
    return period if period in PERIODS else str(ctx.cfg.edc_period)


def _since(request: HttpRequest, ctx: EdcContext) -> datetime:
    return timezone.now() - PERIODS[_period(request, ctx)]


def _ranking(kind: str, request: HttpRequest, ctx: EdcContext, rank: Callable[[int], list[int]]) -> list[int]:
    """``rank(limit)`` (product ids), from the cache when the same parameters were ranked lately."""
    limit = ctx.cfg.edc_items * CANDIDATES
    key = f"dotsync:edc:{kind}:{ctx.website.pk}:{_period(request, ctx)}:{_category(request)}:{limit}"
    ranked: list[int] | None = cache.get(key)
    if ranked is None:
        ranked = rank(limit)
        cache.set(key, ranked, RANKING_TTL)
    return ranked


def _in_website(ctx: EdcContext, prefix: str = "") -> Q:
    """Rows (orders, or views with ``prefix`` "") placed on the website's stores' sites (2 queries)."""
    stores = StoreMap.load()
    mine = [store for store, website in stores.store_website.items() if website == ctx.website.pk]
    return stores.order_filter(mine, prefix=prefix)


def _category(request: HttpRequest) -> int | None:
    raw = request.GET.get("category_id", "")
    return int(raw) if raw.isdigit() else None


def _show(ctx: EdcContext, ranked: list[int]) -> str:
    cards = products.salable_cards(list(dict.fromkeys(ranked)), ctx.cfg.edc_items)
    cards = recommend.fallback_top_up(cards, ctx.cfg.edc_items, ctx.cfg.edc_fallback_product_ids)
    return rendering.product_list(ctx, cards)


@edc_view
def bestsellers(request: HttpRequest, ctx: EdcContext) -> str:
    """``edc/<website>/bestsellers/``: the most sold products (quantity on order lines) in the period."""

    def rank(limit: int) -> list[int]:
        line = get_model("order", "Line")
        rows = line._default_manager.filter(
            _in_website(ctx, "order__"), order__date_placed__gte=_since(request, ctx), product__isnull=False
        )
        category = _category(request)
        shown = Coalesce(F("product__parent_id"), F("product_id"))
        ranked = rows.annotate(shown=shown).values("shown").annotate(sold=Sum("quantity"))
        ranked = ranked.order_by("-sold", "shown")
        if category is not None:
            pc = get_model("catalogue", "ProductCategory")
            ranked = ranked.filter(
                shown__in=pc._default_manager.filter(category_id=category).values("product_id")
            )
        return [r["shown"] for r in ranked[:limit]]

    return _show(ctx, _ranking("bestsellers", request, ctx, rank))


@edc_view
def most_viewed(request: HttpRequest, ctx: EdcContext) -> str:
    """``edc/<website>/mostviewed/``: the most viewed products in the period."""

    def rank(limit: int) -> list[int]:
        rows = ProductView.objects.filter(_in_website(ctx), viewed_at__gte=_since(request, ctx))
        category = _category(request)
        if category is not None:
            pc = get_model("catalogue", "ProductCategory")
            rows = rows.filter(
                product_id__in=list(
                    pc._default_manager.filter(category_id=category).values_list("product_id", flat=True)
                )
            )
        ranked = rows.values("product_id").annotate(views=Count("id")).order_by("-views", "product_id")
        return recommend.parents([r["product_id"] for r in ranked[:limit]])

    return _show(ctx, _ranking("mostviewed", request, ctx, rank))
