"""The django-oscar store adapter: canonical records from a real Oscar shop.

Batch reads run a fixed number of value queries per call (``values_list`` with joins), whatever the
number of ids; product facts come from a per-adapter cache (:mod:`dotsync.store.oscar.catalogue`),
prices and stock from the page's stock records (:mod:`dotsync.store.oscar.pricing`). Scope (which
dotsync store an entity belongs to) follows the rules in :mod:`dotsync.store.oscar.scope`; history
is SQL (:mod:`dotsync.store.oscar.history`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import CharField, Max, Min, QuerySet
from django.db.models.functions import Cast, Lower

from dotsync.store import newsletter
from dotsync.store.oscar import catalogue, decimals, mapping, pricing
from dotsync.store.oscar.catalogue import ProductCache, ProductFacts
from dotsync.store.oscar.history import history_sources
from dotsync.store.oscar.models import oscar_models
from dotsync.store.oscar.sales import sales_data
from dotsync.store.oscar.scope import StoreMap
from dotsync.store.protocol import ENTITIES, HistorySource
from dotsync.store.records import (
    Address,
    Customer,
    Guest,
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteLine,
    Review,
    SalesData,
    StatusChange,
    Wishlist,
    WishlistItem,
)
from dotsync.store.sql import ids_in

ACTIVE_BASKET_STATUSES: tuple[str, ...] = ("Open", "Saved", "Frozen")
"""Basket statuses that count as an active quote (not merged into another basket, not ordered)."""

ADDRESS_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "line1",
    "line2",
    "line3",
    "line4",
    "state",
    "postcode",
    "country_id",
)
"""The address columns :func:`_address` reads (after the address id, before the phone)."""


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows grouped by their first column (the owner id), in row order."""
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def _address_columns(prefix: str, *, phone: bool) -> tuple[list[str], dict[str, Any]]:
    """Value columns of an address (``prefix`` names the relation) and the raw-phone annotation.

    The phone is read as text (``Cast``): its field's converter parses every number (slow), and
    records keep the number as stored (``mapping.address`` reads ``raw_input``).
    """
    columns = [f"{prefix}id", *(f"{prefix}{name}" for name in ADDRESS_FIELDS)]
    annotations: dict[str, Any] = {}
    if phone:
        alias = f"_phone_{prefix.rstrip('_') or 'own'}"
        annotations[alias] = Cast(f"{prefix}phone_number", CharField())
        columns.append(alias)
    return columns, annotations


def _address(values: Sequence[Any], *, phone: bool) -> Address | None:
    """An :class:`Address` from :func:`_address_columns`' values (as ``mapping.address``); None if no id."""
    if values[0] is None:
        return None
    first, last, line1, line2, line3, line4, state, postcode, country = values[1:10]
    return Address(
        first_name=first or "",
        last_name=last or "",
        line1=line1 or "",
        line2=" ".join(x for x in (line2, line3) if x),
        city=line4 or "",
        state=state or "",
        postcode=postcode or "",
        country=country or "",
        telephone=(values[10] or "") if phone else "",
    )


ADDRESS_WIDTH = 1 + len(ADDRESS_FIELDS)
"""Values per address without the phone."""


class OscarAdapter:
    """Reads a django-oscar shop (Oscar 4.2) for dotsync.

    Cheap to build; safe to share (one per process through the registry). Each batch read runs a
    fixed number of value queries (``values_list`` with joins), whatever the number of ids; no model
    instances are built except for product attributes and a non-default pricing strategy. Product
    facts (title, parent, categories, URL, image) are cached in :attr:`product_cache` under the rule of
    :mod:`dotsync.store.oscar.catalogue`; prices and stock are read with each page
    (:mod:`dotsync.store.oscar.pricing`: the stock records' values under Oscar's ``Default`` strategy,
    else the strategy itself, ``Selector().strategy()`` without a request or user).
    """

    name = "oscar"

    def __init__(self) -> None:
        self.product_cache = ProductCache()

    # --- helpers ---------------------------------------------------------------------------------------
    @property
    def m(self) -> Any:
        """The resolved Oscar models."""
        return oscar_models()

    def _strategy(self) -> Any:
        return self.m.Selector().strategy()

    def _prices(
        self, facts: Mapping[int, ProductFacts], stockrecord_ids: Iterable[int] = ()
    ) -> pricing.PriceBook:
        return pricing.price_book(
            self._strategy(), ((f.id, f.is_parent) for f in facts.values()), stockrecord_ids
        )

    # --- entities by id ---------------------------------------------------------------------------------
    def customers(self, ids: Iterable[int]) -> Iterator[Customer]:
        """Customers with default addresses (the default billing/shipping ``UserAddress``; two queries)."""
        m = self.m
        joined = "date_joined" if any(f.name == "date_joined" for f in m.User._meta.concrete_fields) else None
        fields = ["pk", "email", "first_name", "last_name", "is_active", "last_login"]
        users = ids_in(m.User._default_manager.order_by("pk"), "pk", ids)
        rows = list(users.values_list(*fields, *([joined] if joined else [])))
        columns, annotations = _address_columns("", phone=True)
        addresses = _grouped(
            ids_in(m.UserAddress._default_manager.all(), "user", (row[0] for row in rows))
            .annotate(**annotations)
            .order_by("pk")
            .values_list("user_id", "is_default_for_billing", "is_default_for_shipping", "title", *columns)
        )
        for pk, email, first_name, last_name, active, last_login, *rest in rows:
            own = addresses.get(pk, [])
            billing = next((a for a in own if a[1]), own[0] if own else None)
            shipping = next((a for a in own if a[2]), billing)
            yield Customer(
                id=pk,
                email=email or "",
                first_name=first_name or "",
                last_name=last_name or "",
                title=(billing[3] if billing is not None else "") or "",
                is_active=bool(active),
                created_at=rest[0] if rest else None,
                last_login=last_login,
                billing_address=_address(billing[4:], phone=True) if billing is not None else None,
                delivery_address=_address(shipping[4:], phone=True) if shipping is not None else None,
            )

    def orders(self, ids: Iterable[int]) -> Iterator[Order]:
        """Orders with lines, addresses, discounts, payment sources and status history.

        Seven value queries (orders with their user and addresses, lines, discounts, payment
        sources, status changes, the store map's two) plus three for products not in the cache.
        """
        stores = StoreMap.load()
        m = self.m
        billing, billing_phone = _address_columns("billing_address__", phone=False)
        shipping, shipping_phone = _address_columns("shipping_address__", phone=True)
        fields = (
            "pk", "number", "user_id", "user__email", "guest_email", "status", "site_id", "date_placed",
            "currency", "shipping_incl_tax", "total_incl_tax", "basket_id", "shipping_method",
        )  # fmt: skip
        orders, bad = decimals.read(
            ids_in(m.Order._default_manager.all(), "pk", ids)
            .annotate(**billing_phone, **shipping_phone)
            .order_by("pk")
            .values_list(*fields, *billing, *shipping)
        )
        found = [row[0] for row in orders]

        def children_of(qs: QuerySet[Any], *columns: str) -> dict[int, list[tuple[Any, ...]]]:
            rows, unreadable = decimals.read(qs.values_list("order_id", *columns), owner="order_id")
            for order_id, reason in unreadable.items():
                bad.setdefault(order_id, reason)
            return _grouped(rows)

        lines = children_of(
            ids_in(m.OrderLine._default_manager.order_by("pk"), "order", found),
            "product_id", "partner_sku", "upc", "title", "quantity", "unit_price_excl_tax",
            "unit_price_incl_tax", "line_price_excl_tax", "line_price_incl_tax",
            "line_price_before_discounts_incl_tax",
        )  # fmt: skip
        discounts = children_of(
            ids_in(m.OrderDiscount._default_manager.order_by("pk"), "order", found),
            "amount",
            "voucher_code",
        )
        sources = children_of(
            ids_in(m.PaymentSource._default_manager.order_by("pk"), "order", found),
            "amount_refunded",
            "source_type__name",
        )
        changes = _grouped(
            ids_in(m.OrderStatusChange._default_manager.all(), "order", found)
            .order_by("date_created", "pk")
            .values_list("order_id", "old_status", "new_status", "date_created")
        )
        products = self.product_cache.facts(line[1] for group in lines.values() for line in group)
        split = len(fields) + ADDRESS_WIDTH
        for row in orders:
            pk = row[0]
            if pk in bad:
                continue
            number, user_id, user_email, guest_email, status, site_id, placed = row[1:8]
            currency, shipping_total, total, basket_id, shipping_method = row[8 : len(fields)]
            own_lines = lines.get(pk, [])
            own_changes = changes.get(pk, [])
            own_sources = sources.get(pk, [])
            own_discounts = discounts.get(pk, [])
            yield Order(
                id=pk,
                number=str(number),
                email=(user_email if user_id else guest_email) or "",
                store_id=stores.order_store(site_id),
                status=status or "",
                placed_at=placed,
                currency=currency,
                subtotal=mapping.total(line[10] for line in own_lines),
                discount=mapping.total(d[1] for d in own_discounts),
                shipping_total=shipping_total or mapping.ZERO,
                total=total,
                customer_id=user_id,
                quote_id=basket_id,
                total_refunded=mapping.total(s[1] for s in own_sources),
                shipping_method=shipping_method or "",
                payment_method=own_sources[0][2] if own_sources else "",
                coupon_codes=tuple(sorted({d[2] for d in own_discounts if d[2]})),
                billing_address=_address(row[len(fields) : split], phone=False),
                delivery_address=_address(row[split:], phone=True),
                lines=tuple(self._order_line(line, products.get(line[1])) for line in own_lines),
                status_history=tuple(StatusChange(old, new, at) for _, old, new, at in own_changes),
                updated_at=own_changes[-1][3] if own_changes else placed,
            )
        if bad:
            yield from self._unreadable_orders(bad, stores)

    def _unreadable_orders(self, bad: Mapping[int, str], stores: StoreMap) -> Iterator[Order]:
        """Orders whose amounts cannot be read: what identifies them, and the reason (no amounts)."""
        qs = self.m.Order._default_manager.filter(pk__in=sorted(bad)).order_by("pk")
        fields = ("pk", "number", "user_id", "user__email", "guest_email", "status", "site_id")
        for pk, number, user_id, user_email, guest_email, status, site_id, placed, currency in qs.values_list(
            *fields, "date_placed", "currency"
        ):
            yield Order(
                id=pk,
                number=str(number),
                email=(user_email if user_id else guest_email) or "",
                store_id=stores.order_store(site_id),
                status=status or "",
                placed_at=placed,
                currency=currency or "",
                subtotal=mapping.ZERO,
                discount=mapping.ZERO,
                shipping_total=mapping.ZERO,
                total=mapping.ZERO,
                customer_id=user_id,
                problem=bad[pk],
            )

    @staticmethod
    def _order_line(line: Sequence[Any], product: ProductFacts | None) -> OrderLine:
        """An order line from its values; prices are the line's own (no strategy)."""
        _, product_id, partner_sku, upc, title, quantity, price, price_incl, line_excl, line_incl, _ = line
        if price is None:
            price = line_excl / (quantity or 1)
        if price_incl is None:
            price_incl = line_incl / (quantity or 1)
        return OrderLine(
            product_id=product_id,
            sku=partner_sku or upc or "",
            name=title,
            qty=quantity,
            price=price,
            price_inc_tax=price_incl,
            parent_id=product.parent_id if product is not None else None,
            parent_name=product.parent_title if product is not None else "",
            categories=product.categories if product is not None else (),
        )

    def quotes(self, ids: Iterable[int]) -> Iterator[Quote]:
        """Baskets with their lines priced as the strategy prices them now (offers are not applied)."""
        m = self.m
        stores = StoreMap.load()
        baskets = list(
            ids_in(m.Basket._default_manager.all(), "pk", ids)
            .order_by("pk")
            .values_list("pk", "status", "owner_id", "owner__email", "date_created")
        )
        found = [row[0] for row in baskets]
        lines = _grouped(
            ids_in(m.BasketLine._default_manager.all(), "basket", found)
            .order_by("pk")
            .values_list(
                "basket_id", "product_id", "stockrecord_id", "quantity", "price_currency", "price_excl_tax",
                "date_updated",
            )
        )  # fmt: skip
        # Basket.vouchers in Oscar's order (Voucher.Meta.ordering: newest first)
        vouchers = _grouped(
            ids_in(m.Basket.vouchers.through._default_manager.all(), "basket", found)
            .order_by("-voucher__date_created", "voucher_id")
            .values_list("basket_id", "voucher__code")
        )
        products = self.product_cache.facts(line[1] for group in lines.values() for line in group)
        book = self._prices(products, (line[2] for group in lines.values() for line in group))
        owner_stores = stores.customer_stores({row[2] for row in baskets if row[2]})
        for pk, status, owner_id, owner_email, created in baskets:
            own = lines.get(pk, [])
            quote_lines = []
            currency = ""
            for _, product_id, stockrecord_id, quantity, line_currency, line_price, _ in own:
                product = products.get(product_id)
                price = book.price(product_id, stockrecord_id) if product is not None else None
                currency = currency or (price.currency if price else "") or line_currency or ""
                unit = price.price if price and price.price is not None else line_price
                unit_incl = price.price_incl_tax if price and price.price_incl_tax is not None else unit
                quote_lines.append(
                    QuoteLine(
                        product_id=product_id,
                        sku=book.sku(product_id, product.upc, stockrecord_id) if product is not None else "",
                        name=product.title if product is not None else "",
                        qty=quantity,
                        price=unit if unit is not None else mapping.ZERO,
                        price_inc_tax=unit_incl if unit_incl is not None else mapping.ZERO,
                        url=product.url if product is not None else "",
                        image_url=product.image_url if product is not None else "",
                    )
                )
            dates = [line[6] for line in own if line[6]]
            yield Quote(
                id=pk,
                store_id=owner_stores.get(owner_id, stores.default_store_id),
                status=status,
                is_active=status in ACTIVE_BASKET_STATUSES,
                currency=currency,
                subtotal=mapping.total(q.price * q.qty for q in quote_lines),
                total=mapping.total(q.price_inc_tax * q.qty for q in quote_lines),
                customer_id=owner_id,
                email=(owner_email if owner_id else "") or "",
                created_at=created,
                updated_at=max(dates) if dates else created,
                lines=tuple(quote_lines),
                coupon_codes=tuple(code for _, code in vouchers.get(pk, [])),
            )

    def wishlists(self, ids: Iterable[int]) -> Iterator[Wishlist]:
        """Wishlists with their items priced as the strategy prices them now."""
        m = self.m
        stores = StoreMap.load()
        wishlists = list(
            ids_in(m.WishList._default_manager.all(), "pk", ids)
            .order_by("pk")
            .values_list("pk", "owner_id", "owner__email", "date_created")
        )
        lines = _grouped(
            ids_in(m.WishListLine._default_manager.all(), "wishlist", (row[0] for row in wishlists))
            .order_by("pk")
            .values_list("wishlist_id", "product_id", "title", "quantity")
        )
        products = self.product_cache.facts(line[1] for group in lines.values() for line in group)
        book = self._prices(products)
        owner_stores = stores.customer_stores({row[1] for row in wishlists})
        for pk, owner_id, owner_email, created in wishlists:
            items = []
            for _, product_id, title, quantity in lines.get(pk, []):
                product = products.get(product_id) if product_id else None
                price = book.price(product_id).price if product is not None else None
                items.append(
                    WishlistItem(
                        product_id=product_id,
                        sku=book.sku(product_id, product.upc) if product is not None else "",
                        name=product.title if product is not None else title,
                        qty=quantity,
                        price=price if price is not None else mapping.ZERO,
                    )
                )
            yield Wishlist(
                id=pk,
                customer_id=owner_id,
                email=owner_email or "",
                store_id=owner_stores.get(owner_id),
                created_at=created,
                items=tuple(items),
            )

    def reviews(self, ids: Iterable[int]) -> Iterator[Review]:
        """Reviews (any moderation status; ``approved`` tells which are published)."""
        m = self.m
        stores = StoreMap.load()
        reviews = list(
            ids_in(m.ProductReview._default_manager.all(), "pk", ids)
            .order_by("pk")
            .values_list(
                "pk", "product_id", "score", "title", "body", "status", "date_created", "user_id",
                "user__email", "email",
            )
        )  # fmt: skip
        products = self.product_cache.facts(row[1] for row in reviews)
        # the SKU is the first stock record's whatever the strategy (``mapping.sku``)
        skus = pricing.StockRecordPrices((f.id, False) for f in products.values())
        user_stores = stores.customer_stores({row[7] for row in reviews if row[7]})
        approved = m.ProductReview.APPROVED
        for pk, product_id, score, title, body, status, created, user_id, user_email, email in reviews:
            product = products.get(product_id) if product_id else None
            yield Review(
                id=pk,
                product_id=product_id,
                product_name=product.title if product is not None else "",
                product_sku=skus.sku(product_id, product.upc) if product is not None else "",
                score=score,
                title=title or "",
                body=body or "",
                approved=status == approved,
                created_at=created,
                store_id=user_stores.get(user_id, stores.default_store_id),
                customer_id=user_id,
                email=(user_email if user_id else email) or "",
            )

    def products(self, ids: Iterable[int]) -> Iterator[Product]:
        """Products with strategy price, stock, categories, url, image and attributes.

        Read fresh (never from the cache, whose entries they refresh): three queries for the facts,
        one or two for prices and stock, one for attribute values.
        """
        facts = catalogue.read_facts(_ids(ids))
        self.product_cache.put(facts.values())
        book = self._prices(facts)
        attributes: dict[int, dict[str, str]] = defaultdict(dict)
        values = (
            self.m.ProductAttributeValue._default_manager.filter(product_id__in=sorted(facts))
            .select_related("attribute", "value_option")
            .order_by("pk")
        )
        for value in values:
            attributes[value.product_id][value.attribute.code] = str(value.value_as_text)
        for pk in sorted(facts):
            product = facts[pk]
            price = book.price(pk)
            attrs = attributes.get(pk, {})
            yield Product(
                id=pk,
                sku=book.sku(pk, product.upc),
                name=product.title,
                type=product.structure,
                is_public=product.is_public,
                price=price.price,
                price_incl_tax=price.price_incl_tax,
                currency=price.currency,
                stock=price.stock,
                parent_id=product.parent_id,
                categories=product.categories,
                url=product.url,
                image_url=product.image_url,
                description=product.description,
                brand=attrs.get("brand", ""),
                created_at=product.date_created,
                updated_at=product.date_updated,
                attributes=dict(attrs),
            )

    def guests(self, emails: Iterable[str], store_ids: Sequence[int]) -> Iterator[Guest]:
        """Guests among ``emails``: orders without a user in ``store_ids`` (three queries).

        The guest's store is the store of their last such order; names and addresses come from
        that order.
        """
        stores = StoreMap.load()
        # case-insensitive, as on the platform: one guest for Foo@Example.com and foo@example.com
        wanted = sorted({e.lower() for e in emails if e})
        orders = (
            self.m.Order._default_manager.filter(user__isnull=True)
            .annotate(_guest=Lower("guest_email"))
            .filter(_guest__in=wanted)
            .filter(stores.order_filter(store_ids))
        )
        spans = {
            row["_guest"].lower(): (row["first"], row["last"])
            for row in orders.values("_guest").annotate(first=Min("id"), last=Max("id"))
        }
        # amounts are not needed, and one a column cannot hold would fail the whole read (decimals)
        last_orders = self.m.Order._default_manager.filter(pk__in=[last for _, last in spans.values()]).defer(
            *decimals.decimal_fields(self.m.Order)
        )
        for order in last_orders.select_related("shipping_address", "billing_address").order_by(
            "guest_email"
        ):
            store_id = stores.order_store(order.site_id)
            billing = mapping.address(order.billing_address)
            delivery = mapping.address(order.shipping_address)
            name_from = billing or delivery
            yield Guest(
                email=order.guest_email,
                website_id=stores.website_of(store_id) or 0,
                store_id=store_id or 0,
                first_order_id=spans[order.guest_email.lower()][0],
                last_order_id=order.pk,
                first_name=name_from.first_name if name_from else "",
                last_name=name_from.last_name if name_from else "",
                billing_address=billing,
                delivery_address=delivery,
            )

    def sales_data(
        self, emails: Iterable[str], store_ids: Sequence[int], statuses: Sequence[str]
    ) -> Iterator[SalesData]:
        """Per-email aggregates (see :func:`dotsync.store.oscar.sales.sales_data`)."""
        return iter(sales_data(list(emails), store_ids, statuses).values())

    def orders_reaching_status(
        self, status: str, after: datetime, until: datetime
    ) -> list[tuple[int, datetime]]:
        """Orders now in ``status`` that reached it in ``(after, until]``, with when (two aggregate queries).

        The moment is the order's latest ``OrderStatusChange`` to ``status``; an order with no such change
        (placed in that status) counts from ``date_placed``.
        """
        m = self.m
        changed = (
            m.OrderStatusChange._default_manager.filter(new_status=status, order__status=status)
            .values("order_id")
            .annotate(at=Max("date_created"))
            .filter(at__gt=after, at__lte=until)
            .values_list("order_id", "at")
        )
        placed = (
            m.Order._default_manager.filter(status=status, date_placed__gt=after, date_placed__lte=until)
            .exclude(status_changes__new_status=status)
            .values_list("pk", "date_placed")
        )
        return [(int(pk), at) for pk, at in (*changed, *placed)]

    # --- keyset pages (not part of the port: :func:`stream`, for tools and tests) ------------------------
    def _entity_queryset(self, entity: str) -> QuerySet[Any]:
        m = self.m
        models = {
            "customers": m.User,
            "orders": m.Order,
            "quotes": m.Basket,
            "wishlists": m.WishList,
            "reviews": m.ProductReview,
            "products": m.Product,
        }
        if entity not in models:
            raise ValueError(f"Unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}.")
        return models[entity]._default_manager.all()  # type: ignore[no-any-return]

    def ids(self, entity: str, *, after: int = 0, limit: int = 500) -> list[int]:
        """The next keyset page of ids (``pk > after``, ascending, at most ``limit``)."""
        qs = self._entity_queryset(entity)
        return list(qs.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:limit])

    # --- history, scope, write-back --------------------------------------------------------------------
    def history(self, table: str) -> tuple[HistorySource, ...]:
        """SQL sources for a sync table (see :mod:`dotsync.store.oscar.history`)."""
        return history_sources(table)

    def unsubscribe(
        self, emails: Sequence[str], store_ids: Sequence[int], at: datetime, *, unless_changed_after: datetime
    ) -> Mapping[str, bool]:
        """Bulk-unsubscribe in ``newsletter_subscriber`` (:func:`dotsync.store.newsletter.unsubscribe`)."""
        return newsletter.unsubscribe(emails, store_ids, at, unless_changed_after=unless_changed_after)


def stream(adapter: OscarAdapter, entity: str, *, page_size: int = 500) -> Iterator[Any]:
    """Every record of an :data:`~dotsync.store.protocol.ENTITIES` kind, read in keyset pages of ids.

    Memory stays bounded by one page whatever the table size (tools and tests; dotsync's jobs read by id).

    Raises:
        ValueError: for an unknown entity kind.
    """
    if entity not in ENTITIES:
        raise ValueError(f"Unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}.")
    read: Callable[[Iterable[int]], Iterator[Any]] = getattr(adapter, entity)
    after = 0
    while True:
        page = adapter.ids(entity, after=after, limit=page_size)
        if not page:
            return
        yield from read(page)
        after = page[-1]
