"""Sales data for contact data fields, read from Oscar's tables with a few set-based queries per page.

:func:`sales_data` takes a page of emails (up to the contact page size) and answers every email in
about eight queries whatever the page size: users by email, the orders of those users and guest
emails in the website's sites and sales statuses, their refunds, lines, product categories and
brands, approved reviews, and the latest basket of each user. Aggregation over the fetched rows is
plain Python, so the SQL stays portable between SQLite and PostgreSQL.

Rules (after the Magento connector's ``SalesDataManager``): orders count by the email that placed
them (a customer's account email or a guest's checkout email), within the website's sites, in the
configured statuses (orders on a site bound to no store count for the default store, as everywhere
in the adapter). ``TOTAL_SPEND`` sums ``total_incl_tax``; ``TOTAL_REFUND`` sums the payment
sources' ``amount_refunded``; first/last order by placement time; the most purchased product is the
one with the largest quantity (variants count as their parent, which holds the categories), and its
first category and brand give ``MOST_PUR_CATEGORY``/``MOST_PUR_BRAND``; day and month names are
in UTC. Reviews are global in Oscar, so ``REVIEW_COUNT`` counts the email's approved reviews in
every store. ``LAST_QUOTE_ID`` is the customer's newest basket (guests' baskets carry no email).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.db.models.functions import Lower
from oscar.core.loading import get_model

from dotsync.store.oscar import decimals
from dotsync.store.oscar.scope import StoreMap
from dotsync.store.records import SalesData
from dotsync.store.sql import ids_in

BRAND_ATTRIBUTE = "brand"
"""Code of the product attribute that holds the brand (Oscar has no brand field)."""

_ZERO = Decimal("0")


@dataclass
class _OrderRow:
    id: int
    number: str
    total: Decimal
    placed_at: datetime
    refunded: Decimal = _ZERO
    products: list[tuple[int, int]] = field(default_factory=list)  # (product id, quantity), line order


def _chunked(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def product_categories(product_ids: Iterable[int]) -> dict[int, list[str]]:
    """Category names of each product, in the order they were assigned (no parent lookup)."""
    ProductCategory = get_model("catalogue", "ProductCategory")
    names: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunked(sorted(set(product_ids))):
        rows = ids_in(ProductCategory._default_manager.all(), "product", chunk).order_by("id")
        for product_id, name in rows.values_list("product_id", "category__name"):
            names[product_id].append(name)
    return names


def _product_info(product_ids: set[int], brand_attribute: str) -> tuple[dict[int, str], dict[int, str]]:
    """First category name and brand of each product (variants resolved to their parent)."""
    category = {product_id: names[0] for product_id, names in product_categories(product_ids).items()}
    brand: dict[int, str] = {}
    AttributeValue = get_model("catalogue", "ProductAttributeValue")
    for chunk in _chunked(sorted(product_ids)):
        values = ids_in(
            AttributeValue._default_manager.filter(attribute__code=brand_attribute), "product", chunk
        )
        for product_id, text, option in values.values_list(
            "product_id", "value_text", "value_option__option"
        ):
            brand[product_id] = str(option or text or "")
    return category, brand


def sales_data(
    emails: Sequence[str],
    store_ids: Sequence[int],
    statuses: Sequence[str],
    *,
    brand_attribute: str = BRAND_ATTRIBUTE,
) -> dict[str, SalesData]:
    """Sales, review and basket aggregates per email (lower-cased key) for one website.

    Args:
        emails: a page of contact emails.
        store_ids: the website's dotsync store ids (their Django sites scope the orders).
        statuses: order statuses that count as sales.
        brand_attribute: the product attribute code holding the brand.

    Emails with nothing to report are absent from the result.
    """
    # emails match case-insensitively, as on the platform: Foo@Example.com's orders are foo@example.com's
    emails = list(dict.fromkeys(e.lower() for e in emails if e))
    if not emails:
        return {}
    User = get_user_model()
    OscarOrder = get_model("order", "Order")
    Line = get_model("order", "Line")
    Source = get_model("payment", "Source")
    Review = get_model("reviews", "ProductReview")
    Basket = get_model("basket", "Basket")

    email_of_user: dict[int, str] = {}
    for chunk in _chunked(emails):
        users = User._default_manager.annotate(_email=Lower("email")).filter(_email__in=chunk)
        for user_id, email in users.values_list("pk", "email"):
            email_of_user[user_id] = email
    user_ids = list(email_of_user)

    orders: dict[int, _OrderRow] = {}
    orders_of: dict[str, list[_OrderRow]] = defaultdict(list)
    if store_ids and statuses:
        in_stores = StoreMap.load().order_filter(store_ids)
        base = OscarOrder._default_manager.filter(in_stores, status__in=list(statuses)).annotate(
            _guest=Lower("guest_email")
        )
        selections = [Q(user_id__in=c) for c in _chunked(user_ids)]
        selections += [Q(user__isnull=True, _guest__in=c) for c in _chunked(emails)]
        fields = ("pk", "number", "user_id", "guest_email", "total_incl_tax", "date_placed")
        for selection in selections:
            # an order whose total the column cannot hold is left out (the orders job quarantines it)
            found, _unreadable = decimals.read(base.filter(selection).values_list(*fields))
            for pk, number, user_id, guest_email, total, placed in found:
                if pk in orders:
                    continue
                row = _OrderRow(pk, number, total or _ZERO, placed)
                orders[pk] = row
                email = email_of_user.get(user_id, "") if user_id is not None else guest_email
                orders_of[email.lower()].append(row)
    order_ids = sorted(orders)
    for chunk in _chunked(order_ids):
        # summed here, not in SQL: a SUM past the column's digits would not read back on SQLite
        refunds, _unreadable = decimals.read(
            ids_in(Source._default_manager.all(), "order", chunk).values_list("order_id", "amount_refunded"),
            owner="order_id",
        )
        for order_id, refunded in refunds:
            orders[order_id].refunded += refunded or _ZERO
        # by order, then line: the same order within each order, and SQLite walks the order_id index
        lines = ids_in(Line._default_manager.filter(product_id__isnull=False), "order", chunk).order_by(
            "order_id", "id"
        )
        for order_id, product_id, parent_id, qty in lines.values_list(
            "order_id", "product_id", "product__parent_id", "quantity"
        ):
            orders[order_id].products.append((parent_id or product_id, qty or 0))
    product_ids = {pid for row in orders.values() for pid, _ in row.products}
    category, brand = _product_info(product_ids, brand_attribute)

    reviews: dict[str, tuple[int, datetime | None]] = {}
    approved = Review._default_manager.filter(status=Review.APPROVED)
    review_sets = [approved.filter(user_id__in=c) for c in _chunked(user_ids)]
    by_email = approved.annotate(_email=Lower("email"))
    review_sets += [by_email.filter(user__isnull=True, _email__in=c) for c in _chunked(emails)]
    for qs in review_sets:
        grouped = qs.values("user_id", "email").annotate(n=Count("id"), last=Max("date_created"))
        for item in grouped:
            uid = item["user_id"]
            email = (email_of_user.get(uid, "") if uid is not None else item["email"]).lower()
            n, last = reviews.get(email, (0, None))
            newest = max((d for d in (last, item["last"]) if d is not None), default=None)
            reviews[email] = (n + item["n"], newest)

    last_quote: dict[str, int] = {}
    for chunk in _chunked(user_ids):
        newest = (
            ids_in(Basket._default_manager.all(), "owner", chunk).values("owner_id").annotate(last=Max("id"))
        )
        for item in newest:
            last_quote[email_of_user[item["owner_id"]].lower()] = item["last"]

    out: dict[str, SalesData] = {}
    for email in emails:
        key = email.lower()
        if key in out:
            continue
        rows = sorted(orders_of.get(key, []), key=lambda r: (r.placed_at, r.id))
        review_count, last_review = reviews.get(key, (0, None))
        quote_id = last_quote.get(key)
        if not rows and not review_count and quote_id is None:
            continue
        out[key] = _aggregate(email, rows, category, brand, review_count, last_review, quote_id)
    return out


def _mode(values: Iterable[str]) -> str:
    counts = Counter(values)
    if not counts:
        return ""
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)


def _first_with(products: list[tuple[int, int]], info: dict[int, str]) -> str:
    return next((info[pid] for pid, _ in products if info.get(pid)), "")


def _aggregate(
    email: str,
    rows: list[_OrderRow],
    category: dict[int, str],
    brand: dict[int, str],
    review_count: int,
    last_review: datetime | None,
    quote_id: int | None,
) -> SalesData:
    if not rows:
        return SalesData(
            email=email, review_count=review_count, last_review_date=last_review, last_quote_id=quote_id
        )
    first, last = rows[0], rows[-1]
    total = sum((r.total for r in rows), _ZERO)
    qty: Counter[int] = Counter()
    for row in rows:
        for pid, n in row.products:
            qty[pid] += n
    most = qty.most_common(1)[0][0] if qty else None
    # Day and month modes favour the most recent order's value on a tie (rows are oldest first).
    days = [r.placed_at.strftime("%A") for r in reversed(rows)]
    months = [r.placed_at.strftime("%B") for r in reversed(rows)]
    return SalesData(
        email=email,
        number_of_orders=len(rows),
        total_spend=total,
        average_order_value=(total / len(rows)).quantize(Decimal("0.01")),
        total_refund=sum((r.refunded for r in rows), _ZERO),
        first_order_id=first.id,
        last_order_id=last.id,
        last_increment_id=last.number,
        last_order_date=last.placed_at,
        most_freq_pur_day=_mode(days),
        most_freq_pur_mon=_mode(months),
        most_pur_category=category.get(most, "") if most is not None else "",
        most_pur_brand=brand.get(most, "") if most is not None else "",
        first_category_pur=_first_with(first.products, category),
        last_category_pur=_first_with(last.products, category),
        first_brand_pur=_first_with(first.products, brand),
        last_brand_pur=_first_with(last.products, brand),
        review_count=review_count,
        last_review_date=last_review,
        last_quote_id=quote_id,
    )
