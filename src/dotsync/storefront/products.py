"""Products for the fragments: loaded by id in a fixed number of queries, priced, salable or not."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
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


def load(ids: Iterable[int]) -> dict[int, Any]:
    """Public products by id with their stock records, images and public children prefetched (3 queries)."""
    id_list = list(dict.fromkeys(int(i) for i in ids))
    if not id_list:
        return {}
    product = _product_model()
    children = product._default_manager.filter(is_public=True).prefetch_related("stockrecords")
    rows = product._default_manager.filter(pk__in=id_list, is_public=True).prefetch_related(
        "stockrecords", "images", Prefetch("children", queryset=children, to_attr="_dotsync_children")
    )
    return {p.pk: p for p in rows}


def cards(products: Sequence[Any], site_strategy: Any = None) -> list[Card]:
    """Cards of ``products`` in order (no query beyond what :func:`load` prefetched)."""
    chosen = site_strategy or strategy()
    out = []
    for product in products:
        price = mapping.pricing(chosen, product)
        salable = price.price is not None and (price.stock is None or price.stock > 0)
        out.append(
            Card(
                product_id=product.pk,
                name=product.get_title(),
                url=mapping.product_url(product),
                image_url=mapping.image_url(product),
                price=price.price_incl_tax if price.price_incl_tax is not None else price.price,
                currency=price.currency,
                salable=salable,
            )
        )
    return out


def cards_for(ids: Sequence[int]) -> list[Card]:
    """Cards of the public products ``ids``, in that order (unknown or hidden ids are left out)."""
    found = load(ids)
    return cards([found[i] for i in ids if i in found])
