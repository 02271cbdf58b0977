"""Canonical records: what every store adapter returns, whatever the shop's own models look like.

Money is :class:`~decimal.Decimal`; times are aware datetimes (UTC); ``store_id`` is always a
dotsync :class:`~dotsync.models.Store` id, never the shop's own site id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address snapshot."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    telephone: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    """A registered customer."""

    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    group: str = ""
    is_active: bool = True
    created_at: datetime | None = None
    last_login: datetime | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A newsletter subscription of one email in one store (the ``newsletter_subscriber`` row)."""

    id: int
    email: str
    store_id: int
    status: int
    customer_id: int | None = None
    change_status_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Guest:
    """Someone who ordered without an account, identified by email within a website.

    Names and addresses come from their most recent guest order in the website.
    """

    email: str
    website_id: int
    store_id: int
    first_order_id: int
    last_order_id: int
    first_name: str = ""
    last_name: str = ""
    billing_address: Address | None = None
    delivery_address: Address | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of an order."""

    product_id: int | None
    sku: str
    name: str
    qty: int
    price: Decimal
    price_inc_tax: Decimal
    parent_id: int | None = None
    parent_name: str = ""
    categories: tuple[str, ...] = ()
    brand: str = ""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of an order's status history."""

    old_status: str
    new_status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Order:
    """A placed order with its lines, addresses, totals, payment, shipping and status history."""

    id: int
    number: str
    email: str
    store_id: int | None
    status: str
    placed_at: datetime
    currency: str
    subtotal: Decimal
    discount: Decimal
    shipping_total: Decimal
    total: Decimal
    customer_id: int | None = None
    quote_id: int | None = None
    total_refunded: Decimal = Decimal("0")
    shipping_method: str = ""
    payment_method: str = ""
    coupon_codes: tuple[str, ...] = ()
    billing_address: Address | None = None
    delivery_address: Address | None = None
    lines: tuple[OrderLine, ...] = ()
    status_history: tuple[StatusChange, ...] = ()
    updated_at: datetime | None = None
    problem: str = ""
    """Why the order cannot be sent (e.g. a total the shop's column cannot hold); its amounts and
    lines are then empty, and the job quarantines it with this reason."""

    @property
    def is_guest(self) -> bool:
        """True when the order was placed without a customer account."""
        return self.customer_id is None


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One line of a basket."""

    product_id: int | None
    sku: str
    name: str
    qty: int
    price: Decimal
    price_inc_tax: Decimal
    url: str = ""
    image_url: str = ""


@dataclass(frozen=True, slots=True)
class Quote:
    """A basket (Magento's quote)."""

    id: int
    store_id: int | None
    status: str
    is_active: bool
    currency: str
    subtotal: Decimal
    total: Decimal
    customer_id: int | None = None
    email: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    lines: tuple[QuoteLine, ...] = ()
    coupon_codes: tuple[str, ...] = ()
    """The voucher codes applied to the basket."""


@dataclass(frozen=True, slots=True)
class WishlistItem:
    """One product in a wishlist."""

    product_id: int | None
    sku: str
    name: str
    qty: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class Wishlist:
    """A customer's wishlist."""

    id: int
    customer_id: int
    email: str
    store_id: int | None
    created_at: datetime | None = None
    items: tuple[WishlistItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Review:
    """A product review."""

    id: int
    product_id: int | None
    product_name: str
    product_sku: str
    score: int
    title: str
    body: str
    approved: bool
    created_at: datetime
    store_id: int | None
    customer_id: int | None = None
    email: str = ""


@dataclass(frozen=True, slots=True)
class Product:
    """A catalogue product with its strategy price, stock, categories, url and image."""

    id: int
    sku: str
    name: str
    type: str
    is_public: bool
    price: Decimal | None
    price_incl_tax: Decimal | None
    currency: str
    stock: int | None
    parent_id: int | None = None
    categories: tuple[str, ...] = ()
    url: str = ""
    image_url: str = ""
    description: str = ""
    brand: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SalesData:
    """What one email bought (and reviewed, and left in a basket) within one website's stores.

    Built by the adapter's ``sales_data`` with set-based queries per page of emails; the contact
    job turns it into the ``NUMBER_OF_ORDERS`` … ``LAST_QUOTE_ID`` data fields. Only orders in the
    configured sales-data statuses count.
    """

    email: str
    number_of_orders: int = 0
    total_spend: Decimal = Decimal("0")
    average_order_value: Decimal = Decimal("0")
    total_refund: Decimal = Decimal("0")
    first_order_id: int | None = None
    last_order_id: int | None = None
    last_increment_id: str = ""
    last_order_date: datetime | None = None
    most_freq_pur_day: str = ""
    most_freq_pur_mon: str = ""
    most_pur_category: str = ""
    most_pur_brand: str = ""
    first_category_pur: str = ""
    last_category_pur: str = ""
    first_brand_pur: str = ""
    last_brand_pur: str = ""
    review_count: int = 0
    last_review_date: datetime | None = None
    last_quote_id: int | None = None
