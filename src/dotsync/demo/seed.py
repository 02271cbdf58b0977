"""Seed a realistic Oscar shop for the demo, deterministically from a seed.

:func:`seed_shop` builds the standard scope (two websites, three stores, see
:func:`dotsync.demo.scope.make_scope`), a catalogue with categories, variants and brands,
customers with addresses, guests, newsletter subscribers in every status, orders across every
status and store, open and abandoned baskets, wishlists and reviews.

How it stays fast without faking Oscar: the catalogue and the first ``real_orders`` orders go
through Oscar's own code (``create_product``, ``Basket.add_product``, ``Applicator``,
``OrderCreator.place_order``, ``set_status``), so every order shape, voucher discount and status
history is Oscar's. The remaining orders are written with ``bulk_create`` in exactly the shape
``OrderCreator`` writes (submitted basket with lines, shipping and billing address, order, lines,
status changes, payment source), and so are the other bulk entities; that keeps the default
sizes well under a minute and the cost linear in the sizes. Bulk orders do not allocate stock.

The same seed gives the same shop: names, emails, addresses, products, which customer ordered
what, statuses and amounts. Timestamps are placed relative to the hour the seeder runs, so
abandoned baskets are always recent.
"""

from __future__ import annotations

import itertools
import logging
import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync.demo import names
from dotsync.demo import shop as builders
from dotsync.demo.scope import Scope, make_scope
from dotsync.models import NewsletterSubscriber, Store
from dotsync.models.newsletter import SubscriberStatus

logger = logging.getLogger(__name__)

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 300
DEFAULT_ORDERS = 800
REAL_ORDERS = 30
"""Orders placed through Oscar's ``OrderCreator``; the rest are bulk-written in the same shape."""

REAL_BASKETS = 10
"""Open baskets filled through ``Basket.add_product``; the rest are bulk-written."""

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as each step starts and as orders are written."""

ORDER_STATUSES: dict[str, float] = {
    "pending": 0.12,
    "processing": 0.18,
    "complete": 0.50,
    "closed": 0.05,
    "cancelled": 0.10,
    "holded": 0.05,
}
"""Final order statuses and their share (the settings' Magento-like pipeline)."""

SHIPPING = Decimal("4.95")
CURRENCY = "GBP"


@dataclass
class Person:
    """A customer or guest identity."""

    email: str
    first_name: str
    last_name: str
    address: dict[str, str]
    store: Store
    user: Any = None


@dataclass
class _Plan:
    """One order to write: who, where, what, when and how it ends."""

    person: Person
    store: Store
    lines: list[tuple[Any, int]]
    placed_at: datetime
    status: str
    payment: str
    refunded: Decimal = Decimal("0")
    voucher: Any = None


@dataclass
class _Catalogue:
    products: list[Any] = field(default_factory=list)
    """Purchasable products (standalone and variants)."""
    all_products: list[Any] = field(default_factory=list)
    categories: int = 0
    stockrecord: dict[int, Any] = field(default_factory=dict)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


@contextmanager
def _explicit_dates(*fields: tuple[Any, str]) -> Iterator[None]:
    """Let ``bulk_create`` keep given ``auto_now``/``auto_now_add`` values (seeding back-dates rows)."""
    saved = []
    for model, name in fields:
        f = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Seeder:
    """Builds the shop step by step; see :func:`seed_shop`."""

    def __init__(self, seed: int, progress: Progress | None) -> None:
        self.rng = random.Random(seed)
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.report: Progress = progress or (lambda _step, _done, _total: None)
        self.counts: Counter[str] = Counter()
        self.scope: Scope = make_scope()
        self.store_weights = [
            (self.scope.main_en, 0.5, ("GB", "DE")),
            (self.scope.main_fr, 0.25, ("FR",)),
            (self.scope.outlet_en, 0.25, ("GB", "US")),
        ]
        self._email_seen: set[str] = set()
        self.countries = {code: builders.country(code) for code in names.CITIES}

    # --- people ----------------------------------------------------------------------------------------
    def person(self, index: int, kind: str) -> Person:
        """A new identity with a unique, seed-derived email."""
        rng = self.rng
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        store, _, countries = rng.choices(self.store_weights, weights=[w for _, w, _ in self.store_weights])[
            0
        ]
        country = rng.choice(countries)
        email = f"{_ascii(first)}.{_ascii(last)}.{kind}{index}@{rng.choice(names.EMAIL_DOMAINS)}"
        assert email not in self._email_seen
        self._email_seen.add(email)
        address = {
            "line1": f"{rng.randint(1, 240)} {rng.choice(names.STREETS)}",
            "line4": rng.choice(names.CITIES[country]),
            "state": "",
            "postcode": f"{rng.randint(10000, 99999)}",
            "country": country,
            "phone_number": f"+44 7700 9{rng.randint(10000, 99999)}",
        }
        return Person(email, first, last, address, store)

    def customers(self, count: int) -> list[Person]:
        """Registered customers with a default address (bulk-written users and addresses)."""
        self.report("customers", 0, count)
        User = builders.user_model()
        UserAddress = get_model("address", "UserAddress")
        people = [self.person(i, "c") for i in range(count)]
        has_username = any(f.name == "username" for f in User._meta.get_fields())
        users = []
        for p in people:
            user = User(email=p.email, first_name=p.first_name, last_name=p.last_name)
            if has_username:
                user.username = p.email[:150]
            user.date_joined = self.now - timedelta(
                days=self.rng.randint(30, 900), hours=self.rng.randint(0, 23)
            )
            user.set_unusable_password()
            users.append(user)
        users = User._default_manager.bulk_create(users)
        addresses = []
        for p, user in zip(people, users, strict=True):
            p.user = user
            a = p.address
            addr = UserAddress(
                user=user,
                first_name=p.first_name,
                last_name=p.last_name,
                line1=a["line1"],
                line4=a["line4"],
                postcode=a["postcode"],
                country=self.countries[a["country"]],
                phone_number=a["phone_number"],
                is_default_for_shipping=True,
                is_default_for_billing=True,
                date_created=user.date_joined,
            )
            addr._update_search_text()
            addr.hash = addr.generate_hash()
            addresses.append(addr)
        with _explicit_dates((UserAddress, "date_created")):
            UserAddress._default_manager.bulk_create(addresses)
        self.counts["customers"] = count
        return people

    # --- catalogue -------------------------------------------------------------------------------------
    def catalogue(self) -> _Catalogue:
        """Products through Oscar's ``create_product``: standalone ones, and parents with variants."""
        rng = self.rng
        cat = _Catalogue()
        total = sum(len(v) for v in names.CATALOGUE.values()) + len(names.VARIANT_PRODUCTS)
        self.report("catalogue", 0, total)
        for path, titles in names.CATALOGUE.items():
            for title in titles:
                price = Decimal(rng.randint(300, 12000)) / 100
                product = builders.make_product(
                    title,
                    price,
                    rng.randint(0, 400),
                    [path],
                    image=f"products/{_ascii(title)}.jpg" if rng.random() < 0.7 else None,
                    sku=f"DS-{len(cat.products) + 1:05d}",
                )
                self._brand(product)
                cat.products.append(product)
                cat.all_products.append(product)
        for title, (path, sizes) in names.VARIANT_PRODUCTS.items():
            parent = builders.make_product(title, None, None, [path], structure="parent")
            self._brand(parent)
            cat.all_products.append(parent)
            price = Decimal(rng.randint(2000, 15000)) / 100
            for size in sizes:
                child = builders.make_product(
                    f"{title} ({size})",
                    price,
                    rng.randint(0, 60),
                    parent=parent,
                    sku=f"DS-{len(cat.products) + 1:05d}",
                )
                cat.products.append(child)
                cat.all_products.append(child)
        cat.categories = get_model("catalogue", "Category")._default_manager.count()
        for record in get_model("partner", "StockRecord")._default_manager.select_related("partner"):
            cat.stockrecord[record.product_id] = record
        self.counts["products"] = len(cat.all_products)
        self.counts["categories"] = cat.categories
        return cat

    def _brand(self, product: Any) -> None:
        product.attr.brand = self.rng.choice(names.BRANDS)
        product.attr.save()

    # --- newsletter ------------------------------------------------------------------------------------
    def subscribers(self, customers: list[Person], guests: list[Person], extra: int) -> None:
        """Subscriptions in every status; stores that require confirmation get unconfirmed ones."""
        rng = self.rng
        self.report("subscribers", 0, len(customers) + len(guests) + extra)
        rows = []
        candidates = [(p, 0.45) for p in customers] + [(p, 0.2) for p in guests]
        candidates += [(self.person(i, "n"), 1.0) for i in range(extra)]
        for person, chance in candidates:
            if rng.random() >= chance:
                continue
            store = person.store
            roll = rng.random()
            if store.requires_confirmation and roll < 0.3:
                status = SubscriberStatus.UNCONFIRMED
            elif roll < 0.12:
                status = SubscriberStatus.UNSUBSCRIBED
            elif roll < 0.15:
                status = SubscriberStatus.NOT_ACTIVE
            else:
                status = SubscriberStatus.SUBSCRIBED
            rows.append(
                NewsletterSubscriber(
                    store=store,
                    customer_id=person.user.pk if person.user is not None else None,
                    subscriber_email=person.email,
                    subscriber_status=int(status),
                    change_status_at=self.now
                    - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1439)),
                    subscriber_confirm_code=f"{rng.getrandbits(128):032x}",
                )
            )
            self.counts[f"subscribers_{SubscriberStatus(status).name.lower()}"] += 1
        NewsletterSubscriber.objects.bulk_create(rows)
        self.counts["subscribers"] = len(rows)

    # --- orders ----------------------------------------------------------------------------------------
    def plan_orders(
        self, count: int, customers: list[Person], guests: list[Person], cat: _Catalogue
    ) -> list[_Plan]:
        """Who orders what, where, when, and how each order ends (all decided by the seed)."""
        rng = self.rng
        statuses, weights = list(ORDER_STATUSES), list(ORDER_STATUSES.values())
        # a few loyal customers order a lot, most order once or twice
        loyalty = list(itertools.accumulate(rng.paretovariate(1.5) for _ in customers))
        plans = []
        for _ in range(count):
            if guests and (not customers or rng.random() < 0.25):
                person = rng.choice(guests)
            else:
                person = rng.choices(customers, cum_weights=loyalty)[0]
            store = person.store
            if rng.random() < 0.1:
                store = rng.choice(self.scope.stores)
            lines = [
                (p, rng.choices((1, 2, 3), weights=(7, 2, 1))[0])
                for p in rng.sample(cat.products, rng.randint(1, 4))
            ]
            status = rng.choices(statuses, weights=weights)[0]
            refunded = Decimal("0")
            plans.append(
                _Plan(
                    person=person,
                    store=store,
                    lines=lines,
                    placed_at=self.now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 1439)),
                    status=status,
                    payment=rng.choices(builders.PAYMENT_METHODS, weights=(6, 3, 1))[0],
                    refunded=refunded,
                )
            )
        plans.sort(key=lambda p: p.placed_at)
        for plan in plans:
            if plan.status in ("closed", "complete") and rng.random() < 0.06:
                first_line_price = cat.stockrecord[plan.lines[0][0].pk].price
                plan.refunded = first_line_price if plan.status == "complete" else self._total(plan, cat)
        return plans

    def _total(self, plan: _Plan, cat: _Catalogue) -> Decimal:
        return sum((cat.stockrecord[p.pk].price * q for p, q in plan.lines), Decimal("0")) + SHIPPING

    @staticmethod
    def _pick_real(plans: list[_Plan], real: int) -> tuple[list[_Plan], list[_Plan]]:
        """Up to ``real`` plans for ``OrderCreator``: every status, store and guest-ness first."""
        chosen: list[int] = []
        seen: set[tuple[str, object]] = set()
        for i, plan in enumerate(plans):
            traits = {("status", plan.status), ("store", plan.store.pk), ("guest", plan.person.user is None)}
            if len(chosen) < real and not traits <= seen:
                chosen.append(i)
                seen |= traits
        taken = set(chosen)
        for i in range(len(plans)):
            if len(chosen) >= real:
                break
            if i not in taken:
                chosen.append(i)
                taken.add(i)
        picked = [plans[i] for i in sorted(chosen)]
        return picked, [p for i, p in enumerate(plans) if i not in taken]

    def orders(self, plans: list[_Plan], cat: _Catalogue, real: int) -> None:
        """Up to ``real`` plans through ``OrderCreator`` (every status and store), the rest in bulk."""
        total = len(plans)
        self.report("orders", 0, total)
        voucher = builders.make_voucher("WELCOME10", 10, name="Welcome 10%")
        placed, rest = self._pick_real(plans, real)
        for i, plan in enumerate(placed):
            builders.place_order(
                plan.person.user if plan.person.user is not None else plan.person.email,
                plan.lines,
                plan.store,
                status=plan.status,
                voucher=voucher if i % 7 == 3 else None,
                payment_method=plan.payment,
                refunded=plan.refunded,
                placed_at=plan.placed_at,
                status_at=plan.placed_at + timedelta(hours=len(builders.status_path(plan.status))),
                address=plan.person.address,
                guest_name=(plan.person.first_name, plan.person.last_name),
                shipping_charge=SHIPPING,
            )
            if i % 20 == 0:
                self.report("orders", i, total)
        for start in range(0, len(rest), 500):
            self._bulk_orders(rest[start : start + 500], cat)
            self.report("orders", len(placed) + min(start + 500, len(rest)), total)
        self.counts["orders"] = total
        self.counts["orders_via_order_creator"] = len(placed)
        for plan in plans:
            self.counts[f"orders_{plan.status}"] += 1
        self.counts["guests"] = len(
            {(p.person.email, p.store.website.pk) for p in plans if p.person.user is None}
        )

    def _bulk_orders(self, plans: Sequence[_Plan], cat: _Catalogue) -> None:
        """Write orders in the shape ``OrderCreator`` writes them, a few statements per table."""
        m = _models()
        with _explicit_dates(
            (m.Basket, "date_created"), (m.BasketLine, "date_created"), (m.BasketLine, "date_updated")
        ):
            baskets = m.Basket._default_manager.bulk_create(
                [
                    m.Basket(
                        owner=p.person.user,
                        status=m.Basket.SUBMITTED,
                        date_created=p.placed_at,
                        date_submitted=p.placed_at,
                    )
                    for p in plans
                ]
            )
            m.BasketLine._default_manager.bulk_create(
                [
                    _basket_line(m, cat, basket, product, qty, plan.placed_at)
                    for plan, basket in zip(plans, baskets, strict=True)
                    for product, qty in plan.lines
                ]
            )
        shipping = m.ShippingAddress._default_manager.bulk_create(
            [self._address(m.ShippingAddress, p) for p in plans]
        )
        billing = m.BillingAddress._default_manager.bulk_create(
            [self._address(m.BillingAddress, p) for p in plans]
        )
        orders = []
        for plan, basket, ship, bill in zip(plans, baskets, shipping, billing, strict=True):
            total = self._total(plan, cat)
            orders.append(
                m.Order(
                    number=str(100000 + basket.pk),
                    site_id=plan.store.site_id,  # type: ignore[attr-defined]
                    basket=basket,
                    user=plan.person.user,
                    guest_email="" if plan.person.user is not None else plan.person.email,
                    billing_address=bill,
                    shipping_address=ship,
                    currency=CURRENCY,
                    total_incl_tax=total,
                    total_excl_tax=total,
                    shipping_incl_tax=SHIPPING,
                    shipping_excl_tax=SHIPPING,
                    shipping_method="Standard delivery",
                    shipping_code="standard",
                    status=plan.status,
                    date_placed=plan.placed_at,
                )
            )
        orders = m.Order._default_manager.bulk_create(orders)
        lines, changes, sources = [], [], []
        source_types = {name: self._source_type(name) for name in builders.PAYMENT_METHODS}
        for plan, order in zip(plans, orders, strict=True):
            for product, qty in plan.lines:
                record = cat.stockrecord[product.pk]
                line_total = record.price * qty
                lines.append(
                    m.OrderLine(
                        order=order,
                        partner=record.partner,
                        partner_name=record.partner.name,
                        partner_sku=record.partner_sku,
                        stockrecord=record,
                        product=product,
                        title=product.get_title(),
                        upc=product.upc,
                        quantity=qty,
                        line_price_incl_tax=line_total,
                        line_price_excl_tax=line_total,
                        line_price_before_discounts_incl_tax=line_total,
                        line_price_before_discounts_excl_tax=line_total,
                        unit_price_incl_tax=record.price,
                        unit_price_excl_tax=record.price,
                        num_allocated=qty,
                        status="pending",
                    )
                )
            old = "pending"
            for hours, new in enumerate(builders.status_path(plan.status), start=1):
                changes.append(
                    m.OrderStatusChange(
                        order=order,
                        old_status=old,
                        new_status=new,
                        date_created=plan.placed_at + timedelta(hours=hours),
                    )
                )
                old = new
            sources.append(
                m.PaymentSource(
                    order=order,
                    source_type=source_types[plan.payment],
                    currency=CURRENCY,
                    amount_allocated=order.total_incl_tax,
                    amount_debited=order.total_incl_tax,
                    amount_refunded=plan.refunded,
                    reference=order.number,
                )
            )
        m.OrderLine._default_manager.bulk_create(lines)
        with _explicit_dates((m.OrderStatusChange, "date_created")):
            m.OrderStatusChange._default_manager.bulk_create(changes)
        m.PaymentSource._default_manager.bulk_create(sources)

    def _address(self, model: Any, plan: _Plan) -> Any:
        a, p = plan.person.address, plan.person
        fields: dict[str, Any] = {
            "first_name": p.first_name,
            "last_name": p.last_name,
            "line1": a["line1"],
            "line4": a["line4"],
            "postcode": a["postcode"],
            "country": self.countries[a["country"]],
        }
        if hasattr(model, "phone_number"):
            fields["phone_number"] = a["phone_number"]
        address = model(**fields)
        address._update_search_text()
        return address

    def _source_type(self, name: str) -> Any:
        return get_model("payment", "SourceType")._default_manager.get_or_create(name=name)[0]

    # --- baskets, wishlists, reviews -------------------------------------------------------------------
    def baskets(self, customers: list[Person], cat: _Catalogue, count: int) -> None:
        """Open baskets (fresh or abandoned) of distinct customers, plus a few anonymous ones."""
        rng = self.rng
        m = _models()
        owners = rng.sample(customers, min(count, len(customers)))
        self.report("baskets", 0, len(owners))
        plans = []
        for person in owners:
            abandoned = rng.random() < 0.6
            age = (
                timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 23))
                if abandoned
                else timedelta(minutes=rng.randint(5, 180))
            )
            lines = [(p, rng.randint(1, 2)) for p in rng.sample(cat.products, rng.randint(1, 3))]
            plans.append((person.user, lines, self.now - age, abandoned))
        for _ in range(max(1, count // 10)):
            lines = [(rng.choice(cat.products), 1)]
            plans.append((None, lines, self.now - timedelta(hours=rng.randint(1, 72)), False))
        for owner, lines, at, _ in plans[:REAL_BASKETS]:
            builders.make_basket(owner, lines, updated_at=at)
        bulk = plans[REAL_BASKETS:]
        with _explicit_dates(
            (m.Basket, "date_created"), (m.BasketLine, "date_created"), (m.BasketLine, "date_updated")
        ):
            baskets = m.Basket._default_manager.bulk_create(
                [m.Basket(owner=o, date_created=at) for o, _, at, _ in bulk]
            )
            m.BasketLine._default_manager.bulk_create(
                [
                    _basket_line(m, cat, basket, product, qty, at)
                    for (_, lines, at, _), basket in zip(bulk, baskets, strict=True)
                    for product, qty in lines
                ]
            )
        self.counts["baskets_abandoned"] = sum(1 for *_, abandoned in plans if abandoned)
        self.counts["baskets_anonymous"] = sum(1 for owner, *_ in plans if owner is None)
        self.counts["baskets_open"] = len(plans) - self.counts["baskets_abandoned"]

    def wishlists(self, customers: list[Person], cat: _Catalogue, count: int) -> None:
        """Wishlists of distinct customers with one to four products (Oscar's line shape)."""
        rng = self.rng
        m = _models()
        owners = rng.sample(customers, min(count, len(customers)))
        self.report("wishlists", 0, len(owners))
        keys: set[str] = set()
        wishlists = []
        for person in owners:
            key = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
            while key in keys:
                key = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
            keys.add(key)
            wishlists.append(m.WishList(owner=person.user, name="Default", key=key))
        with _explicit_dates((m.WishList, "date_created")):
            for w in wishlists:
                w.date_created = self.now - timedelta(days=rng.randint(0, 200))
            wishlists = m.WishList._default_manager.bulk_create(wishlists)
        lines = [
            m.WishListLine(wishlist=w, product=p, title=p.get_title(), quantity=1)
            for w in wishlists
            for p in rng.sample(cat.products, rng.randint(1, 4))
        ]
        m.WishListLine._default_manager.bulk_create(lines)
        self.counts["wishlists"] = len(wishlists)

    def reviews(self, customers: list[Person], cat: _Catalogue, count: int) -> None:
        """Reviews by customers (one per product each) and a few anonymous ones; ratings updated."""
        rng = self.rng
        m = _models()
        self.report("reviews", 0, count)
        pairs: set[tuple[int, int]] = set()
        reviews = []
        statuses = (m.ProductReview.APPROVED, m.ProductReview.FOR_MODERATION, m.ProductReview.REJECTED)
        for i in range(count):
            product = rng.choice(cat.all_products)
            anonymous = rng.random() < 0.1 or not customers
            person = self.person(i, "r") if anonymous else rng.choice(customers)
            if not anonymous:
                if (product.pk, person.user.pk) in pairs:
                    continue
                pairs.add((product.pk, person.user.pk))
            score = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 5, 6))[0]
            reviews.append(
                m.ProductReview(
                    product=product,
                    user=None if anonymous else person.user,
                    name=f"{person.first_name} {person.last_name[0]}." if anonymous else "",
                    email=person.email if anonymous else "",
                    score=score,
                    title=rng.choice(
                        ("Love it", "Does the job", "Great value", "Not for me", "Superb quality")
                    ),
                    body="Seeded review text.",
                    status=rng.choices(statuses, weights=(85, 10, 5))[0],
                    date_created=self.now - timedelta(days=rng.randint(0, 300)),
                )
            )
        with _explicit_dates((m.ProductReview, "date_created")):
            m.ProductReview._default_manager.bulk_create(reviews)
        for product in {r.product for r in reviews}:
            product.update_rating()
        self.counts["reviews"] = len(reviews)


@dataclass(frozen=True)
class _M:
    Basket: Any
    BasketLine: Any
    Order: Any
    OrderLine: Any
    OrderStatusChange: Any
    ShippingAddress: Any
    BillingAddress: Any
    PaymentSource: Any
    WishList: Any
    WishListLine: Any
    ProductReview: Any


def _basket_line(m: Any, cat: _Catalogue, basket: Any, product: Any, qty: int, at: datetime) -> Any:
    """An unsaved basket line priced from the product's stock record, created and updated at ``at``."""
    record = cat.stockrecord[product.pk]
    return m.BasketLine(
        basket=basket,
        line_reference=f"{product.pk}_{record.pk}",
        product=product,
        stockrecord=record,
        quantity=qty,
        price_currency=CURRENCY,
        price_excl_tax=record.price,
        price_incl_tax=record.price,
        date_created=at,
        date_updated=at,
    )


def _models() -> _M:
    return _M(
        Basket=get_model("basket", "Basket"),
        BasketLine=get_model("basket", "Line"),
        Order=get_model("order", "Order"),
        OrderLine=get_model("order", "Line"),
        OrderStatusChange=get_model("order", "OrderStatusChange"),
        ShippingAddress=get_model("order", "ShippingAddress"),
        BillingAddress=get_model("order", "BillingAddress"),
        PaymentSource=get_model("payment", "Source"),
        WishList=get_model("wishlists", "WishList"),
        WishListLine=get_model("wishlists", "Line"),
        ProductReview=get_model("reviews", "ProductReview"),
    )


def seed_shop(
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    orders: int = DEFAULT_ORDERS,
    progress: Progress | None = None,
    *,
    real_orders: int = REAL_ORDERS,
) -> dict[str, int]:
    """Seed a realistic Oscar shop into the current (empty) database, in one transaction.

    Args:
        seed: the random seed; the same seed gives the same shop, emails included.
        customers: registered customers to create (guests are a third of that again).
        orders: orders to place across all stores and statuses.
        progress: ``progress(step, done, total)`` callback.
        real_orders: how many orders go through Oscar's ``OrderCreator`` (the rest are
            bulk-written in the same shape).

    Returns:
        Counts of what was created: ``websites``, ``stores``, ``products``, ``categories``,
        ``customers``, ``guests``, ``subscribers`` (and per status), ``orders`` (and per status,
        and ``orders_via_order_creator``), ``baskets_open``, ``baskets_abandoned``,
        ``baskets_anonymous``, ``wishlists``, ``reviews``.
    """
    with transaction.atomic():
        seeder = Seeder(seed, progress)
        cat = seeder.catalogue()
        people = seeder.customers(customers)
        guests = [seeder.person(i, "g") for i in range(max(1, customers // 3))]
        plans = seeder.plan_orders(orders, people, guests, cat)
        seeder.orders(plans, cat, real_orders)
        seeder.subscribers(people, guests, max(1, customers // 5))
        seeder.baskets(people, cat, max(1, customers * 15 // 100))
        seeder.wishlists(people, cat, max(1, customers // 10))
        seeder.reviews(people, cat, max(1, customers // 4))
        seeder.counts["websites"] = len(seeder.scope.websites)
        seeder.counts["stores"] = len(seeder.scope.stores)
    seeder.report("done", 1, 1)
    logger.info("demo seed %d: %s", seed, dict(seeder.counts))
    return dict(seeder.counts)
