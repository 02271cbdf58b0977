"""Products for the fragments: loaded by id in a fixed number of queries, priced, salable or not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from oscar.core.loading import get_class, get_model

from dotsync.store.oscar import mapping


@dataclass(frozen=True)
class Card:
    """One product as a fragment shows it."""

    product_id: int
    name: str
    url: str
    image_url: str
    price: Decimal | None
    currency: str
    salable: bool


def _product_model() -> Any:
    return get_model("catalogue", "Product")


def strategy() -> Any:
    """The shop's default pricing strategy (no request: prices as a guest sees them)."""
    return get_class("partner.strategy", "Selector")().strategy()


def _cached(template: Any, rows: list[Any]) -> Any:
    """A queryset already holding ``rows``, as Django's prefetch leaves in ``_prefetched_objects_cache``.

    It shares ``template``'s query (never changed in place: a chained queryset copies it), so a
    product's caches cost no new ``Query``.
    """
    qs = type(template)(model=template.model, query=template.query, using=template._db)
    qs._result_cache = rows
    qs._prefetch_done = True
    return qs


def load(ids: Iterable[int]) -> dict[int, Any]:
    """Public standalone and parent products by id, with what pricing and images need.

    Always 3 queries (the products with their public children, the stock records of both, the images),
    whatever the ids: Django's nested prefetches would skip a query when a level is empty. Children are
    left out: map variant ids to their parents first (:func:`dotsync.storefront.recommend.parents`).
    """
    id_list = list(dict.fromkeys(int(i) for i in ids))
    if not id_list:
        return {}
    product = _product_model()
    stockrecord = get_model("partner", "StockRecord")
    image = get_model("catalogue", "ProductImage")
    wanted = set(id_list)
    both = list(  # the products and their public children, in one read
        product._default_manager.filter(Q(pk__in=id_list) | Q(parent_id__in=id_list), is_public=True)
        .select_related("product_class")
        .order_by("pk")
    )
    # a variant is shown as its parent (callers map ids with parents())
    rows = [p for p in both if p.pk in wanted and p.structure != "child"]
    children = [p for p in both if p.parent_id in wanted]
    records: dict[int, list[Any]] = defaultdict(list)
    for record in stockrecord._default_manager.filter(
        Q(product_id__in=id_list) | Q(product__parent_id__in=id_list, product__is_public=True)
    ).order_by("pk"):
        records[record.product_id].append(record)
    images: dict[int, list[Any]] = defaultdict(list)
    for picture in image._default_manager.filter(product_id__in=id_list).order_by("display_order", "pk"):
        images[picture.product_id].append(picture)
    by_parent: dict[int, list[Any]] = defaultdict(list)
    for child in children:
        by_parent[child.parent_id].append(child)
    records_qs, images_qs = stockrecord._default_manager.all(), image._default_manager.all()
    for row in rows:
        row._prefetched_objects_cache = {
            "stockrecords": _cached(records_qs, records[row.pk]),
            "images": _cached(images_qs, images[row.pk]),
        }
        row._dotsync_children = by_parent[row.pk]
        for child in row._dotsync_children:
            child.parent = row
            child._prefetched_objects_cache = {"stockrecords": _cached(records_qs, records[child.pk])}
    return {p.pk: p for p in rows}


def card(product: Any, site_strategy: Any, price: mapping.Pricing | None = None) -> Card:
    """The card of one loaded product (``price``: its :func:`.mapping.pricing`, when already known)."""
    price = price if price is not None else mapping.pricing(site_strategy, product)
    return Card(
        product_id=product.pk,
        name=product.get_title(),
        url=mapping.product_url(product),
        image_url=mapping.image_url(product),
        price=shown(price),
        currency=price.currency,
        salable=salable(price),
    )


def shown(price: mapping.Pricing) -> Decimal | None:
    """The price a card shows: including tax when the strategy knows the tax, else excluding it."""
    return price.price_incl_tax if price.price_incl_tax is not None else price.price


def salable(price: mapping.Pricing) -> bool:
    """Priced, and in stock when the stock is tracked."""
    return price.price is not None and (price.stock is None or price.stock > 0)


def cards(products: Sequence[Any], site_strategy: Any = None) -> list[Card]:
    """Cards of ``products`` in order (no query beyond what :func:`load` prefetched)."""
    chosen = site_strategy or strategy()
    return [card(product, chosen) for product in products]


def cards_for(ids: Sequence[int]) -> list[Card]:
    """Cards of the public products ``ids``, in that order (unknown or hidden ids are left out)."""
    found = load(ids)
    return cards([found[i] for i in ids if i in found])


class Cards(dict[int, Card]):
    """Loaded products' prices and cards, each worked out when first asked for (no query).

    A card (price, URL, image) is made only for a product looked at, so a long ranking or a list of
    candidates costs no more than the products the fragment considers.
    """

    def __init__(self, loaded: dict[int, Any]) -> None:
        super().__init__()
        self.loaded = loaded
        self.strategy = strategy()
        self.prices: dict[int, mapping.Pricing] = {}

    def price(self, pid: int) -> mapping.Pricing | None:
        """The product's price and stock (None when it was not loaded: hidden, unknown, a variant)."""
        if pid not in self.loaded:
            return None
        found = self.prices.get(pid)
        if found is None:
            found = self.prices[pid] = mapping.pricing(self.strategy, self.loaded[pid])
        return found

    def __missing__(self, pid: int) -> Card:
        made = self[pid] = card(self.loaded[pid], self.strategy, self.price(pid))
        return made


def salable_cards(ids: Sequence[int], limit: int) -> list[Card]:
    """The first ``limit`` salable cards of the products ``ids``, in that order (:class:`Cards`)."""
    cards_of = Cards(load(ids))
    out: list[Card] = []
    for product_id in ids:
        if len(out) >= limit:
            break
        price = cards_of.price(product_id)
        if price is not None and salable(price):
            out.append(cards_of[product_id])
    return out
