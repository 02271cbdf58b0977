"""Order JSON for the ``Orders`` collection (contact scope, type ``orders``, key = order number)."""

from __future__ import annotations

from typing import Any

from dotsync.jobs.payloads.insight import contact_record
from dotsync.jobs.payloads.values import iso, money, text
from dotsync.store.records import Address, Order, OrderLine

COLLECTION = "Orders"
COLLECTION_TYPE = "orders"


def address_json(kind: str, address: Address | None) -> dict[str, Any] | None:
    """An address as ``{<kind>_address_1, _address_2, _city, _region, _country, _postcode}``."""
    if address is None:
        return None
    return {
        f"{kind}_address_1": address.line1,
        f"{kind}_address_2": address.line2,
        f"{kind}_city": address.city,
        f"{kind}_region": address.state,
        f"{kind}_country": address.country,
        f"{kind}_postcode": address.postcode,
    }


def line_json(line: OrderLine) -> dict[str, Any]:
    """One product line (ids as text, prices as numbers, quantity as an integer)."""
    return {
        "product_id": "" if line.product_id is None else str(line.product_id),
        "parent_id": "" if line.parent_id is None else str(line.parent_id),
        "name": text(line.name, 255),
        "parent_name": text(line.parent_name, 255),
        "sku": line.sku,
        "qty": int(line.qty),
        "price": money(line.price),
        "price_inc_tax": money(line.price_inc_tax),
        "categories": list(line.categories),
        "brand": line.brand,
    }


def order_json(order: Order, *, store_name: str, website_name: str) -> dict[str, Any]:
    """The order as the ``Orders`` collection stores it.

    ``orderTotal`` is the total less refunds with its sign, as the store says: an over-refund (or a
    negative total) stays negative (the Magento connector's ``abs()`` hid it).
    """
    return {
        "id": order.number,
        "orderId": order.id,
        "email": order.email,
        "customerId": order.customer_id,
        "quoteId": order.quote_id,
        "storeName": store_name,
        "websiteName": website_name,
        "purchaseDate": iso(order.placed_at),
        "orderStatus": order.status,
        "currency": order.currency,
        "orderSubtotal": money(order.subtotal),
        "discountAmount": money(order.discount),
        "deliveryTotal": money(order.shipping_total),
        "orderTotal": money(order.total - order.total_refunded),
        "totalRefunded": money(order.total_refunded),
        "payment": order.payment_method,
        "deliveryMethod": order.shipping_method,
        "couponCode": ",".join(order.coupon_codes),
        "billingAddress": address_json("billing", order.billing_address),
        "deliveryAddress": address_json("delivery", order.delivery_address),
        "products": [line_json(line) for line in order.lines],
    }


def order_record(order: Order, *, store_name: str, website_name: str) -> dict[str, Any]:
    """The v3 insight record of an order, keyed by order number."""
    body = order_json(order, store_name=store_name, website_name=website_name)
    return contact_record(order.number, order.email, body)
