"""Basket JSON for the ``Quote`` collection (contact scope, key = basket id)."""

from __future__ import annotations

from typing import Any

from dotsync.jobs.payloads.insight import contact_record
from dotsync.jobs.payloads.values import iso, money, text
from dotsync.store.records import Quote, QuoteLine

COLLECTION = "Quote"
COLLECTION_TYPE = "custom"


def line_json(line: QuoteLine) -> dict[str, Any]:
    """One basket line with unit and line totals."""
    return {
        "productId": "" if line.product_id is None else str(line.product_id),
        "sku": line.sku,
        "name": text(line.name, 255),
        "quantity": int(line.qty),
        "unitPrice": money(line.price),
        "unitPrice_incl_tax": money(line.price_inc_tax),
        "totalPrice": money(line.price * line.qty),
        "totalPrice_incl_tax": money(line.price_inc_tax * line.qty),
        "productUrl": line.url,
        "imageUrl": line.image_url,
    }


def quote_json(quote: Quote, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The basket as the ``Quote`` collection stores it."""
    return {
        "id": quote.id,
        "email": email,
        "customerId": quote.customer_id,
        "status": quote.status,
        "isActive": quote.is_active,
        "storeName": store_name,
        "websiteName": website_name,
        "createdDate": iso(quote.created_at),
        "modifiedDate": iso(quote.updated_at),
        "currency": quote.currency,
        "subTotal": money(quote.subtotal),
        "grandTotal": money(quote.total),
        "itemCount": sum(int(line.qty) for line in quote.lines),
        "lineItems": [line_json(line) for line in quote.lines],
    }


def quote_record(quote: Quote, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The v3 insight record of a basket, keyed by basket id."""
    body = quote_json(quote, email=email, store_name=store_name, website_name=website_name)
    return contact_record(str(quote.id), email, body)
