"""The adapter's set-based reads: a fixed number of value queries per page, the strategy's numbers
without a strategy call per record, and the product cache's staleness rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.apps.partner import strategy as oscar_strategy
from oscar.core.loading import get_model

from dotsync.store.oscar import OscarAdapter, pricing
from dotsync.store.oscar.catalogue import ProductCache
from dotsync.store.protocol import ENTITIES
from dotsync.testing.shop import make_basket, make_customer, make_product, make_wishlist, place_order

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Partner = get_model("partner", "Partner")

QUERIES = {
    # entity: (queries with an empty product cache, queries with the products cached)
    "customers": (2, 2),  # users; their addresses
    "orders": (10, 7),  # store map (2); orders with user and addresses; lines; discounts; sources;
    # status changes; + products, their categories, their images when not cached
    "quotes": (11, 8),  # store map; baskets; lines; vouchers; stock records (own, line's); owners' stores (2)
    "wishlists": (9, 6),  # store map; wishlists; lines; stock records; owners' stores (2)
    "reviews": (8, 5),  # store map; reviews; stock records (SKU); users' stores (2)
    # always fresh: products, categories, images; stock records (own, children's); attributes
    "products": (6, 6),
}


class CopiedDefault(oscar_strategy.Default):
    """Oscar's ``Default`` under another class: the adapter must ask it (not compute it from values)."""


class Taxed(oscar_strategy.UK):
    """A strategy whose numbers differ from the stock records' (20% tax)."""


def priced_shop(scope):
    """Products at the edges of Oscar's ``Default`` pricing, in baskets, wishlists and orders."""
    other = Partner._default_manager.create(name="Second partner")
    two_records = make_product("Two records", "5.00", 4)
    StockRecord._default_manager.create(
        product=two_records, partner=other, partner_sku="SECOND", price=Decimal("4.00"), num_in_stock=9
    )
    unpriced = make_product("Unpriced", "1.00", 3)
    no_record = make_product("No record", None)
    blank_sku = make_product("Blank SKU", "2.00", 1, sku="")
    Product._default_manager.filter(pk=blank_sku.pk).update(upc="UPC-1")
    parent = make_product("Jacket", None, structure="parent", categories=["Coats"], image="jacket.jpg")
    make_product("", "30.00", 2, parent=parent)  # untitled child: the parent's title
    make_product("Jacket (L)", "35.00", 5, parent=parent)
    make_product("Jacket (hidden)", "1.00", 5, parent=parent, is_public=False)
    empty_parent = make_product("Empty parent", None, structure="parent")
    customer = make_customer("priced@example.com")
    products = [two_records, unpriced, no_record, blank_sku, parent, empty_parent]
    basket = make_basket(customer, [(two_records, 2), unpriced, blank_sku], scope.main_en)
    # a line fulfilled by the product's second stock record (not the one the strategy would pick)
    basket.lines.filter(product=two_records).update(
        stockrecord=StockRecord._default_manager.get(partner_sku="SECOND")
    )
    wishlist = make_wishlist(customer, products)
    order = place_order(customer, [(two_records, 2), blank_sku], scope.main_en)
    StockRecord._default_manager.filter(product=unpriced).update(price=None)  # after it went in the basket
    StockRecord._default_manager.filter(product=blank_sku).update(partner_sku="", num_allocated=None)
    return products, basket, wishlist, order


@pytest.fixture
def priced(scope):
    return priced_shop(scope)


def read_all(adapter, entity):
    return sorted(getattr(adapter, entity)(adapter.ids(entity, limit=10_000)), key=lambda r: r.id)


def test_every_read_runs_the_same_few_queries_whatever_the_page(shop):
    """The whole shop costs what one record costs: a query per record (or per product) would add up."""
    adapter = OscarAdapter()
    for entity in ENTITIES:
        cold, warm = QUERIES[entity]
        ids = adapter.ids(entity, limit=10_000)
        assert len(ids) >= 3, entity
        counts = []
        for page in (ids[:1], ids):
            adapter.product_cache.clear()
            with CaptureQueriesContext(connection) as first:
                records = list(getattr(adapter, entity)(page))
            with CaptureQueriesContext(connection) as second:
                assert list(getattr(adapter, entity)(page)) == records
            assert len(records) == len(page)
            counts.append((len(first.captured_queries), len(second.captured_queries)))
        # the whole shop reads with exactly the documented number (no slack hides a query per row)
        assert counts[1] == (cold, warm), (entity, counts)
        assert counts[0][0] <= cold and counts[0][1] <= warm, (entity, counts)


def test_stock_record_values_give_the_default_strategys_numbers(priced):
    products, basket, _, _ = priced
    Default = oscar_strategy.Default
    ids = [p.pk for p in Product._default_manager.all()]
    line_records = list(basket.lines.values_list("stockrecord_id", flat=True))
    shape = [(p.pk, p.is_parent) for p in Product._default_manager.filter(pk__in=ids)]
    values = pricing.price_book(Default(), shape, line_records)
    asked = pricing.StrategyPrices(Default(), shape, line_records)
    assert isinstance(values, pricing.StockRecordPrices)
    for pk in ids:
        upc = Product._default_manager.get(pk=pk).upc or ""
        assert values.price(pk) == asked.price(pk), pk
        assert values.sku(pk, upc) == asked.sku(pk, upc), pk
        for record in line_records:
            assert values.price(pk, record) == asked.price(pk, record), (pk, record)
            assert values.sku(pk, upc, record) == asked.sku(pk, upc, record), (pk, record)
    two_records, unpriced, no_record, blank_sku, parent, empty_parent = (p.pk for p in products)
    second = StockRecord._default_manager.get(partner_sku="SECOND").pk
    assert values.price(two_records) == pricing.Pricing(Decimal("5.00"), Decimal("5.00"), "GBP", 2)
    assert values.price(two_records, second) == pricing.Pricing(Decimal("4.00"), Decimal("4.00"), "GBP", 9)
    assert values.sku(two_records, "", second) == "SECOND"
    assert values.price(unpriced) == pricing.Pricing(None, None, "", 3)
    assert values.price(no_record) == pricing.Pricing(None, None, "", None)
    assert values.sku(blank_sku, "UPC-1") == "UPC-1"
    assert values.price(blank_sku).stock == 1  # no allocations recorded: the stock in hand
    # the newest public child's price; the stock of every public child
    assert values.price(parent) == pricing.Pricing(Decimal("35.00"), Decimal("35.00"), "GBP", 7)
    assert values.price(empty_parent) == pricing.Pricing(None, None, "", None)


@pytest.mark.parametrize("entity", ["quotes", "wishlists", "products"])
def test_records_are_the_same_whichever_way_prices_are_read(priced, entity, monkeypatch):
    """Values under Oscar's ``Default`` equal the strategy's own answers, record for record."""
    fast = read_all(OscarAdapter(), entity)
    asked = OscarAdapter()
    monkeypatch.setattr(asked, "_strategy", CopiedDefault)
    assert read_all(asked, entity) == fast
    assert fast


def test_another_strategy_prices_the_records(priced, monkeypatch):
    products, basket, wishlist, _ = priced
    adapter = OscarAdapter()
    monkeypatch.setattr(adapter, "_strategy", Taxed)
    (quote,) = adapter.quotes([basket.pk])
    line = next(line for line in quote.lines if line.name == "Two records")
    assert (line.price, line.price_inc_tax, line.sku) == (Decimal("4.00"), Decimal("4.80"), "SECOND")
    (record,) = adapter.products([products[0].pk])
    assert (record.price, record.price_incl_tax) == (Decimal("5.00"), Decimal("6.00"))
    (items,) = adapter.wishlists([wishlist.pk])
    assert {i.name: i.price for i in items.items}["Jacket"] == Decimal("35.00")


def test_lines_take_titles_categories_and_images_from_the_product(priced):
    products, _, wishlist, _ = priced
    adapter = OscarAdapter()
    (items,) = adapter.wishlists([wishlist.pk])
    assert [i.name for i in items.items] == [
        "Two records",
        "Unpriced",
        "No record",
        "Blank SKU",
        "Jacket",
        "Empty parent",
    ]
    (jacket,) = adapter.products([products[4].pk])
    untitled = Product._default_manager.get(parent=products[4], title="")
    (child,) = adapter.products([untitled.pk])
    assert (child.name, child.categories, child.image_url) == ("Jacket", ("Coats",), jacket.image_url)
    assert jacket.image_url.endswith("jacket.jpg")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_product_cache_serves_an_entry_until_it_is_stale_or_changed(shop):
    shirt = shop.products["shirt"]
    clock = Clock()
    cache = ProductCache(max_age=60, clock=clock)
    assert cache.facts([shirt.pk])[shirt.pk].title == "Oxford Shirt"
    with CaptureQueriesContext(connection) as cached:
        assert cache.facts([shirt.pk, None])[shirt.pk].title == "Oxford Shirt"
    assert cached.captured_queries == [] and cache.reads == 1
    # a change another process makes (no signal here): served until the entry is a minute old
    Product._default_manager.filter(pk=shirt.pk).update(title="Linen Shirt")
    clock.now = 59.9
    assert cache.facts([shirt.pk])[shirt.pk].title == "Oxford Shirt"
    clock.now = 60.0
    assert cache.facts([shirt.pk])[shirt.pk].title == "Linen Shirt"
    # a save in this process empties the cache at once
    shirt.refresh_from_db()
    shirt.title = "Silk Shirt"
    shirt.save()
    assert cache.facts([shirt.pk])[shirt.pk].title == "Silk Shirt"
    # so does a change of categories
    mug = shop.products["mug"]
    before = cache.facts([shirt.pk])[shirt.pk].categories
    shirt.categories.add(*mug.categories.all())
    assert cache.facts([shirt.pk])[shirt.pk].categories == tuple(
        sorted(before + tuple(c.name for c in mug.categories.all()))
    )
    assert cache.reads == 4
    # memory stays bounded: a cache that would pass its size starts again empty
    small = ProductCache(max_entries=2, clock=clock)
    small.facts([shirt.pk, mug.pk])
    small.facts([shop.products["hoodie"].pk])
    assert len(small._entries) == 1 and small.reads == 3


def test_the_catalogue_read_is_always_fresh_and_refreshes_the_cache(shop):
    shirt = shop.products["shirt"]
    adapter = OscarAdapter()
    adapter.product_cache.facts([shirt.pk])
    Product._default_manager.filter(pk=shirt.pk).update(title="Linen Shirt")  # no signal
    (record,) = adapter.products([shirt.pk])
    assert record.name == "Linen Shirt"
    reads = adapter.product_cache.reads
    assert adapter.product_cache.facts([shirt.pk])[shirt.pk].title == "Linen Shirt"
    assert adapter.product_cache.reads == reads
