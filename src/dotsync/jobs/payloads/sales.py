"""Sales data fields: a :class:`~dotsync.store.records.SalesData` as mapping key -> raw value."""

from __future__ import annotations

from typing import Any

from dotsync.store.records import SalesData

SALES_KEYS: tuple[str, ...] = (
    "number_of_orders",
    "average_order_value",
    "total_spend",
    "last_order_date",
    "last_order_id",
    "last_increment_id",
    "total_refund",
    "most_freq_pur_day",
    "most_freq_pur_mon",
    "most_pur_category",
    "most_pur_brand",
    "first_category_pur",
    "last_category_pur",
    "first_brand_pur",
    "last_brand_pur",
)
"""Mapping keys filled from orders (in the website's stores, in the sales-data statuses)."""

ACTIVITY_KEYS: tuple[str, ...] = ("review_count", "last_review_date", "last_quote_id")
"""Mapping keys filled from reviews and baskets."""


def sales_values(sales: SalesData | None) -> dict[str, Any]:
    """Raw values of :data:`SALES_KEYS` and :data:`ACTIVITY_KEYS`; an email with no orders gets zeros.

    Args:
        sales: the email's aggregates, or None when it has no orders, reviews or baskets.
    """
    s = sales or SalesData(email="")
    return {
        "number_of_orders": s.number_of_orders,
        "average_order_value": s.average_order_value,
        "total_spend": s.total_spend,
        "last_order_date": s.last_order_date,
        "last_order_id": s.last_order_id,
        "last_increment_id": s.last_increment_id,
        "total_refund": s.total_refund,
        "most_freq_pur_day": s.most_freq_pur_day,
        "most_freq_pur_mon": s.most_freq_pur_mon,
        "most_pur_category": s.most_pur_category,
        "most_pur_brand": s.most_pur_brand,
        "first_category_pur": s.first_category_pur,
        "last_category_pur": s.last_category_pur,
        "first_brand_pur": s.first_brand_pur,
        "last_brand_pur": s.last_brand_pur,
        "review_count": s.review_count,
        "last_review_date": s.last_review_date,
        "last_quote_id": s.last_quote_id,
    }
