"""Recommendations from a set of source products (an order's, a basket's or a wishlist's lines).

The rules, from Oscar's data:

- **related**: the source product's recommended products (Oscar's ``recommended_products``, by ranking).
- **upsell**: products sharing a category with the source product and priced higher, the nearest price
  first (a step up, not the dearest item of the shop).
- **cross-sell**: products bought together with the source product: other products on the order lines
  of orders that hold it, the most often bought together first.

A child product (a variant in a basket) stands for its parent. The algorithm is the reference's
(``Helper/Recommended.php``) with its off-by-one fixed: ``limit`` is ``edc_items``; each source product
contributes at most ``max_per_source`` = 1 when there are more sources than ``limit``, else
``round(limit / sources)`` products (the reference's ``$i <= maxPerChild`` let one more through); only
salable, non-child products that are not themselves sources, each once; when fewer than ``limit`` are
found, the website's ``edc_fallback_product_ids`` top the list up. Fixed query count whatever the sources.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from oscar.core.loading import get_model

from dotsync.storefront import products
from dotsync.storefront.products import Card

CROSS_SELL_ORDERS = 500
"""At most this many order lines holding a source product are read for cross-sell counts (newest first)."""
PER_SOURCE = 3
"""Candidates kept per source product and item to show (so unsalable ones can be skipped), before loading."""
UPSELL_CANDIDATES = 200
"""At most this many products of the source products' categories are priced for the upsell."""


class Kind(enum.StrEnum):
    """Which recommendation."""

    RELATED = "related"
    UPSELL = "upsell"
    CROSSSELL = "crosssell"


def parents(ids: Sequence[int]) -> list[int]:
    """``ids`` with each child product replaced by its parent, in order, without repeats (1 query)."""
    product = get_model("catalogue", "Product")
    parent_of = dict(product._default_manager.filter(pk__in=list(ids)).values_list("pk", "parent_id"))
    out = [parent_of.get(i) or i for i in ids if i in parent_of]
    return list(dict.fromkeys(out))


def _related(sources: list[int]) -> dict[int, list[int]]:
    rec = get_model("catalogue", "ProductRecommendation")
    out: dict[int, list[int]] = defaultdict(list)
    rows = (
        rec._default_manager.filter(primary_id__in=sources)
        .order_by("primary_id", "-ranking", "pk")
        .values_list("primary_id", "recommendation_id")
    )
    for source, target in rows:
        out[source].append(target)
    return out


def _crosssell(sources: list[int]) -> dict[int, list[int]]:
    """Per source, the products on the same orders, the most often bought together first (1 query).

    The newest ``CROSS_SELL_ORDERS`` order lines holding a source pick the orders; the pairs are counted
    in the database, so no order line passes through Python.
    """
    if not sources:
        return {}
    line = connection.ops.quote_name(get_model("order", "Line")._meta.db_table)
    product = connection.ops.quote_name(get_model("catalogue", "Product")._meta.db_table)
    marks = ", ".join(["%s"] * len(sources))
    sql = f"""
        WITH holding AS (
            SELECT l.order_id AS order_id, COALESCE(p.parent_id, l.product_id) AS source
            FROM {line} l JOIN {product} p ON p.id = l.product_id
            WHERE l.product_id IN ({marks}) OR p.parent_id IN ({marks})
            ORDER BY l.order_id DESC LIMIT {CROSS_SELL_ORDERS}
        ), pairs AS (SELECT DISTINCT order_id, source FROM holding)
        SELECT pairs.source, COALESCE(b.parent_id, l.product_id) AS bought, COUNT(*) AS n
        FROM pairs JOIN {line} l ON l.order_id = pairs.order_id JOIN {product} b ON b.id = l.product_id
        WHERE COALESCE(b.parent_id, l.product_id) <> pairs.source
        GROUP BY pairs.source, COALESCE(b.parent_id, l.product_id)
        ORDER BY pairs.source, n DESC, bought
    """  # table names from the models; the values go as parameters
    out: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sources, *sources])
        for source, bought, _count in cursor.fetchall():
            out[source].append(bought)
    return dict(out)


def _upsell_candidates(sources: list[int]) -> tuple[dict[int, list[int]], list[int]]:
    pc = get_model("catalogue", "ProductCategory")
    categories: dict[int, set[int]] = defaultdict(set)
    for product_id, category_id in pc._default_manager.filter(product_id__in=sources).values_list(
        "product_id", "category_id"
    ):
        categories[product_id].add(category_id)
    wanted = {c for cats in categories.values() for c in cats}
    in_category: dict[int, list[int]] = defaultdict(list)
    for category_id, product_id in pc._default_manager.filter(category_id__in=wanted).values_list(
        "category_id", "product_id"
    )[:UPSELL_CANDIDATES]:
        in_category[category_id].append(product_id)
    out = {s: [p for c in sorted(cats) for p in in_category[c]] for s, cats in categories.items()}
    return out, [p for ps in out.values() for p in ps]


def recommend(kind: Kind, source_ids: Sequence[int], limit: int, fallback: Sequence[int]) -> list[Card]:
    """Up to ``limit`` recommended products for ``source_ids`` (see the module docstring)."""
    sources = parents(source_ids) if source_ids else []
    if kind is Kind.RELATED:
        candidates = _related(sources)
        extra: list[int] = []
    elif kind is Kind.CROSSSELL:
        candidates = _crosssell(sources)
        extra = []
    else:
        candidates, extra = _upsell_candidates(sources)
    if kind is not Kind.UPSELL:  # upsell candidates are priced before they are ranked
        candidates = {s: ps[: limit * PER_SOURCE] for s, ps in candidates.items()}
    wanted = [*sources, *extra, *(p for ps in candidates.values() for p in ps), *fallback]
    loaded = products.load(wanted)
    strategy = products.strategy()
    card_of = {c.product_id: c for c in products.cards(list(loaded.values()), strategy)}
    if kind is Kind.UPSELL:
        candidates = _by_higher_price(sources, candidates, card_of)

    def usable(pid: int) -> bool:
        product = loaded.get(pid)
        card = card_of.get(pid)
        return product is not None and card is not None and card.salable and not product.is_child

    chosen: list[int] = []
    taken = set(sources)
    if sources:
        max_per_source = 1 if len(sources) > limit else max(1, round(limit / len(sources)))
        for source in sources:
            added = 0
            for pid in candidates.get(source, []):
                if len(chosen) >= limit or added >= max_per_source:  # the reference allowed one more
                    break
                if pid not in taken and usable(pid):
                    chosen.append(pid)
                    taken.add(pid)
                    added += 1
    for pid in fallback:
        if len(chosen) >= limit:
            break
        if pid not in taken and usable(pid):
            chosen.append(pid)
            taken.add(pid)
    return [card_of[p] for p in chosen]


def _by_higher_price(
    sources: list[int], candidates: dict[int, list[int]], card_of: dict[int, Card]
) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for source in sources:
        base = card_of.get(source)
        if base is None or base.price is None:
            out[source] = []
            continue
        dearer = [
            p
            for p in dict.fromkeys(candidates.get(source, []))
            if (c := card_of.get(p)) is not None and c.price is not None and c.price > base.price
        ]
        out[source] = sorted(dearer, key=lambda p: (card_of[p].price, p))
    return out


def fallback_top_up(cards: list[Card], limit: int, fallback: Sequence[int]) -> list[Card]:
    """``cards`` topped up to ``limit`` from the salable ``fallback`` products (not for recommendations)."""
    if len(cards) >= limit or not fallback:
        return cards[:limit]
    have = {c.product_id for c in cards}
    extra = [c for c in products.cards_for([p for p in fallback if p not in have]) if c.salable]
    return [*cards, *extra][:limit]
