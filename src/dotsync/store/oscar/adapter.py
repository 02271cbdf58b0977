"""The django-oscar store adapter: canonical records from a real Oscar shop.

Batch reads run a fixed number of queries per call (``select_related`` / ``prefetch_related``),
whatever the number of ids. Scope (which dotsync store an entity belongs to) follows the rules in
:mod:`dotsync.store.oscar.scope`; history is SQL (:mod:`dotsync.store.oscar.history`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, Min, Prefetch, QuerySet
from django.db.models.functions import Lower

from dotsync.store import newsletter
from dotsync.store.oscar import decimals, mapping
from dotsync.store.oscar.history import history_sources
from dotsync.store.oscar.models import oscar_models
from dotsync.store.oscar.sales import product_categories, sales_data
from dotsync.store.oscar.scope import StoreMap
from dotsync.store.protocol import ENTITIES, HistorySource
from dotsync.store.records import (
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

ACTIVE_BASKET_STATUSES: tuple[str, ...] = ("Open", "Saved", "Frozen")
"""Basket statuses that count as an active quote (not merged into another basket, not ordered)."""


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})


def _by_order(rows: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.order_id].append(row)
    return grouped


@dataclass(frozen=True)
class _LineProduct:
    """What an order line needs of its product: the parent variant and the categories."""

    parent_id: int | None
    parent_name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class _Children:
    """An order batch's lines (and their products), discounts, payment sources and status changes."""

    lines: dict[int, list[Any]]
    products: dict[int, _LineProduct]
    discounts: dict[int, list[Any]]
    sources: dict[int, list[Any]]
    changes: dict[int, list[Any]]


class OscarAdapter:
    """Reads a django-oscar shop (Oscar 4.2) for dotsync.

    Stateless and cheap to build; safe to share. Models are resolved with Oscar's ``get_model``, so
    forked apps work. Prices are computed with ``Selector().strategy()`` without a request or user
    (the shop's default strategy).
    """

    name = "oscar"

    # --- helpers ---------------------------------------------------------------------------------------
    @property
    def m(self) -> Any:
        """The resolved Oscar models."""
        return oscar_models()

    def _strategy(self) -> Any:
        return self.m.Selector().strategy()

    def _product_prefetch(self, prefix: str) -> list[Any]:
        """Prefetches that let :func:`mapping.pricing`, categories and images run without queries."""
        children = self.m.Product._default_manager.filter(is_public=True).prefetch_related("stockrecords")
        return [
            f"{prefix}stockrecords",
            f"{prefix}categories",
            f"{prefix}images",
            f"{prefix}parent__categories",
            f"{prefix}parent__images",
            Prefetch(f"{prefix}children", queryset=children, to_attr="_dotsync_children"),
        ]

    def _product_related(self, prefix: str) -> list[str]:
        return [f"{prefix}product_class", f"{prefix}parent", f"{prefix}parent__product_class"]

    def _attach_products(self, lines: Iterable[Any]) -> None:
        """Load the lines' distinct products once, fully prefetched, and attach them to the lines.

        Prefetching through each line would build querysets per line; a batch of baskets or
        orders usually repeats a few hundred products across thousands of lines.
        """
        lines = list(lines)
        wanted = {line.product_id for line in lines if line.product_id}
        products = {
            p.pk: p
            for p in self.m.Product._default_manager.filter(pk__in=wanted)
            .select_related(*self._product_related(""))
            .prefetch_related(*self._product_prefetch(""))
        }
        for line in lines:
            if line.product_id in products:
                line.product = products[line.product_id]

    # --- entities by id ---------------------------------------------------------------------------------
    def customers(self, ids: Iterable[int]) -> Iterator[Customer]:
        """Customers with default addresses (the default billing/shipping ``UserAddress``)."""
        users = (
            self.m.User._default_manager.filter(pk__in=_ids(ids)).prefetch_related("addresses").order_by("pk")
        )
        for user in users:
            addresses = sorted(user.addresses.all(), key=lambda a: a.pk)
            billing = next(
                (a for a in addresses if a.is_default_for_billing), addresses[0] if addresses else None
            )
            shipping = next((a for a in addresses if a.is_default_for_shipping), billing)
            yield Customer(
                id=user.pk,
                email=user.email or "",
                first_name=user.first_name or "",
                last_name=user.last_name or "",
                title=(billing.title if billing is not None else "") or "",
                is_active=bool(user.is_active),
                created_at=getattr(user, "date_joined", None),
                last_login=user.last_login,
                billing_address=mapping.address(billing),
                delivery_address=mapping.address(shipping),
            )

    def orders(self, ids: Iterable[int]) -> Iterator[Order]:
        """Orders with lines, addresses, discounts, payment sources and status history."""
        stores = StoreMap.load()
        m = self.m
        id_list = _ids(ids)
        orders, bad = decimals.read(
            m.Order._default_manager.filter(pk__in=id_list)
            .select_related("user", "shipping_address", "billing_address")
            .order_by("pk")
        )
        # children fetched once per table and grouped here: Django's prefetch_related clones a
        # queryset per order, which costs more than the queries themselves
        found = [o.pk for o in orders]

        def children_of(qs: QuerySet[Any]) -> dict[int, list[Any]]:
            rows, unreadable = decimals.read(qs, owner="order_id")
            for order_id, reason in unreadable.items():
                bad.setdefault(order_id, reason)
            return _by_order(rows)

        lines = children_of(m.OrderLine._default_manager.filter(order_id__in=found).order_by("pk"))
        children = _Children(
            lines=lines,
            products=self._line_products({line.product_id for group in lines.values() for line in group}),
            discounts=children_of(m.OrderDiscount._default_manager.filter(order_id__in=found).order_by("pk")),
            sources=children_of(
                m.PaymentSource._default_manager.filter(order_id__in=found)
                .select_related("source_type")
                .order_by("pk")
            ),
            changes=_by_order(
                m.OrderStatusChange._default_manager.filter(order_id__in=found).order_by("date_created", "pk")
            ),
        )
        for order in orders:
            if order.pk not in bad:
                yield self._order(order, stores, children)
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

    def _order(self, order: Any, stores: StoreMap, children: _Children) -> Order:
        lines = children.lines.get(order.pk, [])
        changes = children.changes.get(order.pk, [])
        sources = children.sources.get(order.pk, [])
        discounts = children.discounts.get(order.pk, [])
        email = (order.user.email if order.user_id else order.guest_email) or ""
        return Order(
            id=order.pk,
            number=str(order.number),
            email=email,
            store_id=stores.order_store(order.site_id),
            status=order.status or "",
            placed_at=order.date_placed,
            currency=order.currency,
            subtotal=mapping.total(line.line_price_before_discounts_incl_tax for line in lines),
            discount=mapping.total(d.amount for d in discounts),
            shipping_total=order.shipping_incl_tax or mapping.ZERO,
            total=order.total_incl_tax,
            customer_id=order.user_id,
            quote_id=order.basket_id,
            total_refunded=mapping.total(s.amount_refunded for s in sources),
            shipping_method=order.shipping_method or "",
            payment_method=sources[0].source_type.name if sources else "",
            coupon_codes=tuple(sorted({d.voucher_code for d in discounts if d.voucher_code})),
            billing_address=mapping.address(order.billing_address),
            delivery_address=mapping.address(order.shipping_address),
            lines=tuple(self._order_line(line, children.products.get(line.product_id)) for line in lines),
            status_history=tuple(StatusChange(c.old_status, c.new_status, c.date_created) for c in changes),
            updated_at=changes[-1].date_created if changes else order.date_placed,
        )

    def _line_products(self, product_ids: Iterable[int | None]) -> dict[int, _LineProduct]:
        """Parent and category names of order lines' products, in two value queries.

        Order lines carry their own title, SKU and prices, so the product model (with the stock,
        image and child prefetches quotes and the catalogue need) is not built: per product that
        costs several querysets, which was most of an order page's read time.
        """
        m = self.m
        wanted = [pk for pk in product_ids if pk]
        if not wanted:
            return {}
        rows = list(
            m.Product._default_manager.filter(pk__in=wanted).values_list("pk", "parent_id", "parent__title")
        )
        owners = {pk: parent_id or pk for pk, parent_id, _ in rows}
        names = product_categories(owners.values())
        return {
            pk: _LineProduct(
                parent_id, (title or "") if parent_id else "", tuple(sorted(names.get(owners[pk], ())))
            )
            for pk, parent_id, title in rows
        }

    def _order_line(self, line: Any, product: _LineProduct | None) -> OrderLine:
        quantity = line.quantity or 1
        price = line.unit_price_excl_tax
        price_incl = line.unit_price_incl_tax
        if price is None:
            price = line.line_price_excl_tax / quantity
        if price_incl is None:
            price_incl = line.line_price_incl_tax / quantity
        return OrderLine(
            product_id=line.product_id,
            sku=line.partner_sku or line.upc or "",
            name=line.title,
            qty=line.quantity,
            price=price,
            price_inc_tax=price_incl,
            parent_id=product.parent_id if product is not None else None,
            parent_name=product.parent_name if product is not None else "",
            categories=product.categories if product is not None else (),
        )

    def quotes(self, ids: Iterable[int]) -> Iterator[Quote]:
        """Baskets with their lines priced through the strategy (offers are not applied)."""
        id_list = _ids(ids)
        stores = StoreMap.load()
        line_qs = self.m.BasketLine._default_manager.select_related("stockrecord")
        baskets = list(
            self.m.Basket._default_manager.filter(pk__in=id_list)
            .select_related("owner")
            .prefetch_related(Prefetch("lines", queryset=line_qs), "vouchers")
            .order_by("pk")
        )
        self._attach_products(line for basket in baskets for line in basket.lines.all())
        owner_stores = stores.customer_stores({b.owner_id for b in baskets if b.owner_id})
        strategy = self._strategy()
        for basket in baskets:
            lines = sorted(basket.lines.all(), key=lambda line: line.pk)
            quote_lines = []
            currency = ""
            for line in lines:
                price = mapping.pricing(strategy, line.product, line.stockrecord) if line.product else None
                currency = currency or (price.currency if price else "") or line.price_currency or ""
                unit = price.price if price and price.price is not None else line.price_excl_tax
                unit_incl = price.price_incl_tax if price and price.price_incl_tax is not None else unit
                quote_lines.append(
                    QuoteLine(
                        product_id=line.product_id,
                        sku=mapping.sku(line.product, line.stockrecord),
                        name=line.product.get_title() if line.product else "",
                        qty=line.quantity,
                        price=unit if unit is not None else mapping.ZERO,
                        price_inc_tax=unit_incl if unit_incl is not None else mapping.ZERO,
                        url=mapping.product_url(line.product) if line.product else "",
                        image_url=mapping.image_url(line.product) if line.product else "",
                    )
                )
            dates = [line.date_updated for line in lines if line.date_updated]
            yield Quote(
                id=basket.pk,
                store_id=owner_stores.get(basket.owner_id, stores.default_store_id),
                status=basket.status,
                is_active=basket.status in ACTIVE_BASKET_STATUSES,
                currency=currency,
                subtotal=mapping.total(q.price * q.qty for q in quote_lines),
                total=mapping.total(q.price_inc_tax * q.qty for q in quote_lines),
                customer_id=basket.owner_id,
                email=(basket.owner.email if basket.owner_id else "") or "",
                created_at=basket.date_created,
                updated_at=max(dates) if dates else basket.date_created,
                lines=tuple(quote_lines),
                coupon_codes=tuple(v.code for v in basket.vouchers.all()),
            )

    def wishlists(self, ids: Iterable[int]) -> Iterator[Wishlist]:
        """Wishlists with their items priced through the strategy."""
        stores = StoreMap.load()
        wishlists = list(
            self.m.WishList._default_manager.filter(pk__in=_ids(ids))
            .select_related("owner")
            .prefetch_related("lines")
            .order_by("pk")
        )
        self._attach_products(line for wishlist in wishlists for line in wishlist.lines.all())
        owner_stores = stores.customer_stores({w.owner_id for w in wishlists})
        strategy = self._strategy()
        for wishlist in wishlists:
            items = []
            for line in sorted(wishlist.lines.all(), key=lambda line: line.pk):
                price = mapping.pricing(strategy, line.product) if line.product else None
                items.append(
                    WishlistItem(
                        product_id=line.product_id,
                        sku=mapping.sku(line.product),
                        name=line.get_title(),
                        qty=line.quantity,
                        price=price.price if price and price.price is not None else mapping.ZERO,
                    )
                )
            yield Wishlist(
                id=wishlist.pk,
                customer_id=wishlist.owner_id,
                email=wishlist.owner.email or "",
                store_id=owner_stores.get(wishlist.owner_id),
                created_at=wishlist.date_created,
                items=tuple(items),
            )

    def reviews(self, ids: Iterable[int]) -> Iterator[Review]:
        """Reviews (any moderation status; ``approved`` tells which are published)."""
        stores = StoreMap.load()
        reviews = list(
            self.m.ProductReview._default_manager.filter(pk__in=_ids(ids))
            .select_related("user")
            .order_by("pk")
        )
        self._attach_products(reviews)
        user_stores = stores.customer_stores({r.user_id for r in reviews if r.user_id})
        approved = self.m.ProductReview.APPROVED
        for review in reviews:
            product = review.product
            yield Review(
                id=review.pk,
                product_id=review.product_id,
                product_name=product.get_title() if product is not None else "",
                product_sku=mapping.sku(product),
                score=review.score,
                title=review.title or "",
                body=review.body or "",
                approved=review.status == approved,
                created_at=review.date_created,
                store_id=user_stores.get(review.user_id, stores.default_store_id),
                customer_id=review.user_id,
                email=(review.user.email if review.user_id else review.email) or "",
            )

    def products(self, ids: Iterable[int]) -> Iterator[Product]:
        """Products with strategy price, stock, categories, url, image and attributes."""
        qs = (
            self.m.Product._default_manager.filter(pk__in=_ids(ids))
            .select_related(*self._product_related(""))
            .prefetch_related(*self._product_prefetch(""), "attribute_values__attribute")
            .order_by("pk")
        )
        strategy = self._strategy()
        for product in qs:
            price = mapping.pricing(strategy, product)
            attrs = mapping.attributes(product)
            yield Product(
                id=product.pk,
                sku=mapping.sku(product),
                name=product.get_title(),
                type=product.structure,
                is_public=bool(product.is_public),
                price=price.price,
                price_incl_tax=price.price_incl_tax,
                currency=price.currency,
                stock=price.stock,
                parent_id=product.parent_id,
                categories=mapping.category_names(product),
                url=mapping.product_url(product),
                image_url=mapping.image_url(product),
                description=product.description or "",
                brand=attrs.get("brand", ""),
                created_at=product.date_created,
                updated_at=product.date_updated,
                attributes=attrs,
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
