"""Turn prefetched Oscar model instances into canonical records.

Every function here reads only what the adapter's querysets already fetched (``select_related``
and ``prefetch_related``), so converting a batch never runs a query per row. Prices come from the
shop's pricing strategy (``Selector().strategy()``), never from raw stock-record columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch

from dotsync.store.records import Address

ZERO = Decimal("0")


def address(addr: Any) -> Address | None:
    """An Oscar address (user, shipping or billing) as an :class:`Address`."""
    if addr is None:
        return None
    return Address(
        first_name=addr.first_name or "",
        last_name=addr.last_name or "",
        line1=addr.line1 or "",
        line2=" ".join(x for x in (addr.line2, addr.line3) if x),
        city=addr.line4 or "",
        state=addr.state or "",
        postcode=addr.postcode or "",
        country=addr.country_id or "",
        telephone=_phone(getattr(addr, "phone_number", None)),
    )


def _phone(number: Any) -> str:
    """A phone number as stored (``str()`` of a ``PhoneNumber`` re-validates it, which is slow)."""
    if not number:
        return ""
    return str(getattr(number, "raw_input", "") or number)


def category_names(product: Any) -> tuple[str, ...]:
    """Category names of a product; a child variant has its parent's (as in Oscar)."""
    if product is None:
        return ()
    owner = product.parent if product.parent_id else product
    return tuple(sorted(c.name for c in owner.categories.all()))


def sku(product: Any, stockrecord: Any = None) -> str:
    """The partner SKU of the stock record in use, else the product's UPC."""
    if stockrecord is not None and stockrecord.partner_sku:
        return str(stockrecord.partner_sku)
    if product is None:
        return ""
    records = list(product.stockrecords.all())
    if records and records[0].partner_sku:
        return str(records[0].partner_sku)
    return str(product.upc or "")


def product_url(product: Any) -> str:
    """The product page path (Oscar's URL pattern when the host project does not route Oscar)."""
    try:
        return str(product.get_absolute_url())
    except NoReverseMatch:
        return f"/catalogue/{product.slug}_{product.pk}/"


def image_url(product: Any) -> str:
    """The primary image URL (the parent's images for a child without its own); empty when none."""
    images = sorted(product.images.all(), key=lambda i: (i.display_order, i.pk))
    if not images and product.parent_id:
        images = sorted(product.parent.images.all(), key=lambda i: (i.display_order, i.pk))
    if not images or not images[0].original:
        return ""
    try:
        return str(images[0].original.url)
    except ValueError:
        return ""


@dataclass(frozen=True)
class Pricing:
    """A product's price and stock as the strategy sees them."""

    price: Decimal | None
    price_incl_tax: Decimal | None
    currency: str
    stock: int | None


def pricing(strategy: Any, product: Any, stockrecord: Any = None) -> Pricing:
    """Price and stock through the strategy, using only prefetched stock records.

    A parent product is priced by the strategy's parent policy over its prefetched public children
    (``product._dotsync_children``); its stock is the children's total.
    """
    if product.is_parent:
        children = getattr(product, "_dotsync_children", None)
        if children is not None and hasattr(strategy, "parent_pricing_policy"):
            children_stock = [(child, strategy.select_stockrecord(child)) for child in children]
            price = strategy.parent_pricing_policy(product, children_stock)
            levels = [sr.net_stock_level for _, sr in children_stock if sr is not None]
            stock = sum(levels) if levels else None
        else:
            price, stock = strategy.fetch_for_parent(product).price, None
    else:
        info = strategy.fetch_for_product(product, stockrecord)
        price = info.price
        stock = info.stockrecord.net_stock_level if info.stockrecord is not None else None
    if not price.exists:
        return Pricing(None, None, getattr(price, "currency", "") or "", stock)
    incl = price.incl_tax if price.is_tax_known else None
    return Pricing(price.excl_tax, incl, price.currency or "", stock)


def attributes(product: Any) -> dict[str, str]:
    """Product attribute values (prefetched ``attribute_values``) as code -> text."""
    values: dict[str, str] = {}
    for value in product.attribute_values.all():
        values[value.attribute.code] = str(value.value_as_text)
    return values


def total(values: Iterable[Decimal | None]) -> Decimal:
    """Sum, treating None as zero."""
    return sum((v or ZERO for v in values), ZERO)
