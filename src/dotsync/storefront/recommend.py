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
from decimal import Decimal

from django.db import connection
from oscar.core.loading import get_model

from dotsync.storefront import products
from dotsync.storefront.products import Card

CROSS_SELL_ORDERS = 500
"""At most this many order lines holding a source product are read for cross-sell counts (newest first)."""
PER_SOURCE = 3
"""Candidates kept per product a source may contribute (so unsalable ones can be skipped), before loading."""
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
    in the database, so no order line passes through Python. The lines are found through their product
    ids (the sources and their variants), so the order line's product index serves the read (an ``OR``
    on the joined product's parent made SQLite scan every order line: 3x slower on the demo shop).
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
            WHERE l.product_id IN (SELECT id FROM {product} WHERE id IN ({marks}) OR parent_id IN ({marks}))
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
    """Up to ``limit`` recommended products for ``source_ids`` (see the module docstring).

    ``source_ids`` are parent or standalone products, variants already mapped to their parents
    (:mod:`dotsync.storefront.edc.sources` reads them so; :func:`parents` maps other ids).

    Each source keeps :data:`PER_SOURCE` candidates per product it may contribute, and a card (price,
    URL, image) is made only for a product looked at: the sources, the upsell's candidates (ranked by
    price) and the candidates in order until ``limit`` are chosen.
    """
    sources = list(dict.fromkeys(source_ids))
    max_per_source = 1 if len(sources) > limit else max(1, round(limit / max(len(sources), 1)))
    if kind is Kind.RELATED:
        candidates = _related(sources)
        extra: list[int] = []
    elif kind is Kind.CROSSSELL:
        candidates = _crosssell(sources)
        extra = []
    else:
        candidates, extra = _upsell_candidates(sources)
    if kind is not Kind.UPSELL:  # upsell candidates are priced before they are ranked
        candidates = {s: ps[: max_per_source * PER_SOURCE] for s, ps in candidates.items()}
    wanted = [*sources, *extra, *(p for ps in candidates.values() for p in ps), *fallback]
    loaded = products.load(wanted)
    card_of = products.Cards(loaded)
    if kind is Kind.UPSELL:
        candidates = _by_higher_price(sources, candidates, card_of)

    def usable(pid: int) -> bool:
        product = loaded.get(pid)
        price = card_of.price(pid)
        return product is not None and not product.is_child and price is not None and products.salable(price)

    chosen: list[int] = []
    taken = set(sources)
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
    sources: list[int], candidates: dict[int, list[int]], card_of: products.Cards
) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}

    def shown(pid: int) -> Decimal | None:
        price = card_of.price(pid)
        return products.shown(price) if price is not None else None

    for source in sources:
        base = shown(source)
        if base is None:
            out[source] = []
            continue
        unique = dict.fromkeys(candidates.get(source, []))
        dearer = [p for p in unique if (c := shown(p)) is not None and c > base]
        out[source] = sorted(dearer, key=lambda p: (shown(p), p))
    return out


def fallback_top_up(cards: list[Card], limit: int, fallback: Sequence[int]) -> list[Card]:
    """``cards`` topped up to ``limit`` from the salable ``fallback`` products (not for recommendations)."""
    if len(cards) >= limit or not fallback:
        return cards[:limit]
    have = {c.product_id for c in cards}
    extra = [c for c in products.cards_for([p for p in fallback if p not in have]) if c.salable]
    return [*cards, *extra][:limit]
