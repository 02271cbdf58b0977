"""Contact data fields: which mapping keys each contact stream sends, their platform types and values.

A *mapping key* (``firstname``, ``total_spend``…) is dotsync's name for a value; the website's
``data_field_mapping`` turns it into a dotdigital data-field name (``FIRSTNAME``…). A key mapped to
an empty name is not sent. Values are formatted for the platform's type: dates ISO 8601 UTC,
numbers plain (money to cents), text cut to 1,000 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from dotsync.jobs.payloads.contact_csv import cell
from dotsync.jobs.payloads.sales import ACTIVITY_KEYS, SALES_KEYS, sales_values
from dotsync.jobs.payloads.values import TEXT_LIMIT, iso, money_text, number_problem, text
from dotsync.store.records import Address, Customer, SalesData

NUMERIC = "Numeric"
DATE = "Date"
STRING = "String"

_NUMERIC_KEYS = (
    "customer_id",
    "review_count",
    "number_of_orders",
    "average_order_value",
    "total_spend",
    "last_order_id",
    "last_quote_id",
    "total_refund",
)
_DATE_KEYS = ("dob", "created_at", "last_logged_date", "last_review_date", "last_order_date")


def datafield_type(key: str) -> str:
    """The platform type (``String``, ``Numeric`` or ``Date``) of a mapping key's data field.

    ``last_increment_id`` (the order number) is text: a shop's order numbers need not be numeric.
    """
    if key in _NUMERIC_KEYS:
        return NUMERIC
    if key in _DATE_KEYS:
        return DATE
    return STRING


SUBSCRIBER_STATUS_LABELS: dict[int, str] = {
    1: "Subscribed",
    2: "Not Active",
    3: "Unsubscribed",
    4: "Unconfirmed",
}
"""``SUBSCRIBER_STATUS`` values, by newsletter status."""

_ADDRESS_KEYS = ("address_1", "address_2", "city", "state", "country", "postcode", "telephone")
ADDRESS_KEYS: tuple[str, ...] = tuple(
    f"{kind}_{k}" for kind in ("billing", "delivery") for k in _ADDRESS_KEYS
)
"""Mapping keys of the billing and delivery address."""

SCOPE_KEYS: tuple[str, ...] = ("website_name", "store_name", "subscriber_status")

CUSTOMER_KEYS: tuple[str, ...] = (
    "title",
    "customer_id",
    "firstname",
    "lastname",
    "created_at",
    "last_logged_date",
    "customer_group",
    *ADDRESS_KEYS,
    *SALES_KEYS,
    *ACTIVITY_KEYS,
    *SCOPE_KEYS,
)
"""What a customer sends (the shop has no date of birth or gender, so those are not sent)."""

GUEST_KEYS: tuple[str, ...] = (
    "firstname",
    "lastname",
    *ADDRESS_KEYS,
    *SALES_KEYS,
    "review_count",
    "last_review_date",
    *SCOPE_KEYS,
)
"""What a guest sends: names and addresses from their last order, and their sales data."""

SUBSCRIBER_KEYS: tuple[str, ...] = SCOPE_KEYS
"""What the subscribers address book gets (customer and guest data go to their own books)."""


def columns(keys: Iterable[str], mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(key, data-field name)`` for every key the mapping sends, in ``keys`` order, names unique."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key in keys:
        name = mapping.get(key) or ""
        if name and name.upper() not in seen:
            seen.add(name.upper())
            out.append((key, name))
    return out


def format_value(key: str, value: Any) -> str:
    """A raw value as the CSV cell an import carries for the key's data-field type.

    Text is cleaned (:func:`~dotsync.jobs.payloads.values.text`) and made safe for spreadsheets
    (:func:`~dotsync.jobs.payloads.contact_csv.cell`); a number keeps its sign (``-50.00``).
    """
    if value is None or value == "":
        return ""
    kind = datafield_type(key)
    if kind == DATE and isinstance(value, datetime):
        return iso(value) or ""
    if kind == NUMERIC:
        if isinstance(value, Decimal):
            return cell(money_text(value), numeric=True)
        return cell(text(value), numeric=True)
    if isinstance(value, bool):
        return "True" if value else "False"
    return cell(text(value))[:TEXT_LIMIT]


def _address_values(kind: str, address: Address | None) -> dict[str, Any]:
    a = address or Address()
    return {
        f"{kind}_address_1": a.line1,
        f"{kind}_address_2": a.line2,
        f"{kind}_city": a.city,
        f"{kind}_state": a.state,
        f"{kind}_country": a.country,
        f"{kind}_postcode": a.postcode,
        f"{kind}_telephone": a.telephone,
    }


def _scope_values(website_name: str, store_name: str, subscriber_status: int | None) -> dict[str, Any]:
    return {
        "website_name": website_name,
        "store_name": store_name,
        "subscriber_status": SUBSCRIBER_STATUS_LABELS.get(subscriber_status or 0, ""),
    }


def customer_values(
    customer: Customer,
    *,
    sales: SalesData | None,
    website_name: str,
    store_name: str,
    subscriber_status: int | None,
) -> dict[str, Any]:
    """Raw values of :data:`CUSTOMER_KEYS` for one customer."""
    return {
        "title": customer.title,
        "customer_id": customer.id,
        "firstname": customer.first_name,
        "lastname": customer.last_name,
        "created_at": customer.created_at,
        "last_logged_date": customer.last_login,
        "customer_group": customer.group,
        **_address_values("billing", customer.billing_address),
        **_address_values("delivery", customer.delivery_address),
        **sales_values(sales),
        **_scope_values(website_name, store_name, subscriber_status),
    }


def guest_values(
    *,
    sales: SalesData | None,
    first_name: str,
    last_name: str,
    billing: Address | None,
    delivery: Address | None,
    website_name: str,
    store_name: str,
    subscriber_status: int | None,
) -> dict[str, Any]:
    """Raw values of :data:`GUEST_KEYS` for one guest (names and addresses from their last order)."""
    values = {
        "firstname": first_name,
        "lastname": last_name,
        **_address_values("billing", billing),
        **_address_values("delivery", delivery),
        **sales_values(sales),
        **_scope_values(website_name, store_name, subscriber_status),
    }
    values.pop("last_quote_id", None)
    return values


def subscriber_values(*, website_name: str, store_name: str, subscriber_status: int | None) -> dict[str, Any]:
    """Raw values of :data:`SUBSCRIBER_KEYS` for one subscriber."""
    return _scope_values(website_name, store_name, subscriber_status)


def data_fields(values: Mapping[str, Any], cols: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{data-field name: formatted value}`` for the given columns (see :func:`columns`)."""
    return {name: format_value(key, values.get(key)) for key, name in cols}


def problem(values: Mapping[str, Any], cols: Iterable[tuple[str, str]]) -> str | None:
    """Why the platform could not take these values (a number it cannot hold), or None.

    A contact with such a value is quarantined with this reason instead of being sent rounded.
    """
    for key, name in cols:
        value = values.get(key)
        if datafield_type(key) == NUMERIC and isinstance(value, Decimal | float | int):
            bad = number_problem(value)
            if bad:
                return f"data field {name}: {bad}; correct the amounts in the store"
    return None
