"""Prices and stock of a page of products, the same numbers as the shop's pricing strategy.

Records price products (catalogue, wishlist items) and basket lines as Oscar's strategy does for a
guest (``Selector().strategy()``, no request). :func:`price_book` picks how:

* :class:`StockRecordPrices` when the strategy is Oscar's own ``Default`` (first stock record, stock
  required, no tax): that strategy only reads stock-record columns, so one value query per page gives
  the same numbers with no model instances and no strategy call per record.
* :class:`StrategyPrices` for any other strategy (a forked ``partner`` app may price anything): the
  products are loaded once per page with their stock records and public children, and the strategy
  is asked, as before.

Both answer :meth:`PriceBook.price` for a product id and, for a basket line, its own stock record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.db.models import Prefetch, Q
from oscar.apps.partner import strategy as oscar_strategy
from oscar.core.loading import get_model

from dotsync.store.oscar import mapping
from dotsync.store.oscar.catalogue import chunked
from dotsync.store.oscar.mapping import Pricing
from dotsync.store.sql import ids_in

_NO_TAX = Decimal("0.00")
"""The tax Oscar's ``NoTax`` policy adds (``excl_tax + D("0.00")``: the same digits as the strategy)."""


@dataclass(frozen=True, slots=True)
class StockRow:
    """The stock-record columns pricing and SKUs read."""

    id: int
    product_id: int
    partner_sku: str
    price: Decimal | None
    currency: str
    num_in_stock: int | None
    num_allocated: int | None

    @property
    def net_stock_level(self) -> int:
        """Oscar's ``StockRecord.net_stock_level``."""
        if self.num_in_stock is None:
            return 0
        if self.num_allocated is None:
            return self.num_in_stock
        return self.num_in_stock - self.num_allocated


class PriceBook(Protocol):
    """Prices, stock and SKUs of one page's products."""

    def price(self, product_id: int, stockrecord_id: int | None = None) -> Pricing:
        """The strategy's price and stock of a product (with a basket line's own stock record)."""
        ...

    def sku(self, product_id: int, upc: str, stockrecord_id: int | None = None) -> str:
        """``mapping.sku``: the partner SKU of the stock record in use, else the product's UPC."""
        ...


class StockRecordPrices:
    """Oscar's ``Default`` strategy computed from stock-record values (one query per chunk of ids).

    Args:
        products: ``(product id, is parent)`` of the products to price.
        stockrecord_ids: basket lines' own stock records.
    """

    def __init__(self, products: Iterable[tuple[int, bool]], stockrecord_ids: Iterable[int] = ()) -> None:
        StockRecord = get_model("partner", "StockRecord")
        wanted = dict(products)
        parents = [pk for pk, is_parent in wanted.items() if is_parent]
        line_records = sorted({pk for pk in stockrecord_ids if pk})
        self.parents = set(parents)
        self.first: dict[int, StockRow] = {}
        self.by_id: dict[int, StockRow] = {}
        self.children: dict[int, list[StockRow]] = {}
        fields: tuple[str, ...] = ("pk", "product_id", "partner_sku", "price", "price_currency")
        fields += ("num_in_stock", "num_allocated")
        related = ("product__parent_id", "product__is_public", "product__date_created")
        manager = StockRecord._default_manager
        rows: list[tuple[Any, ...]] = []
        for chunk in chunked(wanted):
            rows += ids_in(manager.all(), "product", chunk).values_list(*fields, *related)
        for chunk in chunked(parents):
            rows += manager.filter(product__parent_id__in=chunk, product__is_public=True).values_list(
                *fields, *related
            )
        for chunk in chunked(line_records):
            rows += ids_in(manager.all(), "pk", chunk).values_list(*fields, *related)
        candidates: dict[int, list[tuple[Any, StockRow]]] = defaultdict(list)
        # by id: a product's first stock record is its lowest id (Oscar takes ``stockrecords.all()[0]``)
        for pk, product_id, sku, price, currency, stock, allocated, parent_id, public, created in sorted(
            set(rows), key=lambda r: r[0]
        ):
            row = StockRow(pk, product_id, sku or "", price, currency or "", stock, allocated)
            self.by_id[pk] = row
            if product_id in self.first:
                continue
            self.first[product_id] = row
            if parent_id in self.parents and public:
                candidates[parent_id].append((created, row))
        for parent_id, pairs in candidates.items():
            # a parent's public children newest first (``Product.Meta.ordering``), ties by id
            pairs.sort(key=lambda pair: pair[1].product_id)
            pairs.sort(key=lambda pair: pair[0], reverse=True)
            self.children[parent_id] = [row for _, row in pairs]

    def price(self, product_id: int, stockrecord_id: int | None = None) -> Pricing:
        """``mapping.pricing`` under the ``Default`` strategy."""
        if product_id in self.parents:
            children = self.children.get(product_id, [])
            levels = [row.net_stock_level for row in children]
            stock = sum(levels) if levels else None
            chosen = children[0] if children else None
        else:
            chosen = self.by_id.get(stockrecord_id) if stockrecord_id else self.first.get(product_id)
            stock = chosen.net_stock_level if chosen is not None else None
        if chosen is None or chosen.price is None:
            return Pricing(None, None, "", stock)
        return Pricing(chosen.price, chosen.price + _NO_TAX, chosen.currency, stock)

    def sku(self, product_id: int, upc: str, stockrecord_id: int | None = None) -> str:
        """``mapping.sku`` from the stock-record values."""
        line = self.by_id.get(stockrecord_id) if stockrecord_id else None
        if line is not None and line.partner_sku:
            return line.partner_sku
        first = self.first.get(product_id)
        if first is not None and first.partner_sku:
            return first.partner_sku
        return upc


class StrategyPrices:
    """Any other strategy: each product priced by the strategy itself (``mapping.pricing``).

    The page's products are loaded once, with their stock records and public children prefetched.

    Args:
        strategy: the shop's strategy instance.
        products: ``(product id, is parent)`` of the products to price.
        stockrecord_ids: basket lines' own stock records.
    """

    def __init__(
        self, strategy: Any, products: Iterable[tuple[int, bool]], stockrecord_ids: Iterable[int] = ()
    ) -> None:
        Product = get_model("catalogue", "Product")
        StockRecord = get_model("partner", "StockRecord")
        self.strategy = strategy
        # stock records by id: Oscar's Default takes ``stockrecords.all()[0]``, which an unordered query
        # leaves to the database (PostgreSQL returns a row it updated last); the first by id is the rule
        # here, as in StockRecordPrices
        by_id = Prefetch("stockrecords", queryset=StockRecord._default_manager.order_by("id"))
        children = Product._default_manager.filter(is_public=True).prefetch_related(by_id)
        self.products = {
            p.pk: p
            for p in Product._default_manager.filter(pk__in=[pk for pk, _ in products])
            .select_related("product_class", "parent", "parent__product_class")
            .prefetch_related(by_id, Prefetch("children", queryset=children, to_attr="_dotsync_children"))
        }
        ids = sorted({pk for pk in stockrecord_ids if pk})
        self.stockrecords = {sr.pk: sr for sr in StockRecord._default_manager.filter(Q(pk__in=ids))}

    def price(self, product_id: int, stockrecord_id: int | None = None) -> Pricing:
        """The strategy's answer (``mapping.pricing``)."""
        product = self.products.get(product_id)
        if product is None:
            return Pricing(None, None, "", None)
        stockrecord = self.stockrecords.get(stockrecord_id) if stockrecord_id else None
        return mapping.pricing(self.strategy, product, stockrecord)

    def sku(self, product_id: int, upc: str, stockrecord_id: int | None = None) -> str:
        """``mapping.sku`` over the loaded products."""
        product = self.products.get(product_id)
        stockrecord = self.stockrecords.get(stockrecord_id) if stockrecord_id else None
        if product is None:
            return str(stockrecord.partner_sku) if stockrecord and stockrecord.partner_sku else upc
        return mapping.sku(product, stockrecord)


def is_oscar_default(strategy: Any) -> bool:
    """True for Oscar's own ``Default`` strategy class (whose numbers :class:`StockRecordPrices` gives)."""
    return type(strategy) is oscar_strategy.Default


def price_book(
    strategy: Any, products: Iterable[tuple[int, bool]], stockrecord_ids: Iterable[int] = ()
) -> PriceBook:
    """The cheapest :class:`PriceBook` that gives the strategy's numbers (see the module docstring)."""
    products = list(products)
    if is_oscar_default(strategy):
        return StockRecordPrices(products, stockrecord_ids)
    return StrategyPrices(strategy, products, stockrecord_ids)
