"""Product JSON for the catalogue collections (account scope, type ``catalog``, key = product id).

The collection is ``Catalog_Default`` or ``Catalog_<website code>_<store code>``; see
:func:`collection_name`.
"""

from __future__ import annotations

from typing import Any

from dotsync.jobs.payloads.insight import account_record, safe_key
from dotsync.jobs.payloads.values import iso, money, text
from dotsync.store.records import Product

DEFAULT_COLLECTION = "Catalog_Default"
COLLECTION_TYPE = "catalog"


def collection_name(website_code: str | None = None, store_code: str | None = None) -> str:
    """``Catalog_Default``, or ``Catalog_<website>_<store>`` for a store-level catalogue."""
    if website_code and store_code:
        return f"Catalog_{website_code}_{store_code}"
    return DEFAULT_COLLECTION


def absolute_url(url: str, domain: str | None) -> str:
    """Prefix a site-relative URL with ``https://<domain>``; absolute URLs are kept."""
    if not url or "://" in url or not domain:
        return url
    return f"https://{domain}{url if url.startswith('/') else '/' + url}"


def product_json(product: Product, *, domain: str | None = None) -> dict[str, Any]:
    """The product as a catalogue collection stores it; relative URLs are made absolute on ``domain``."""
    return {
        "id": product.id,
        "parent_id": "" if product.parent_id is None else str(product.parent_id),
        "name": text(product.name, 255),
        "sku": product.sku,
        "type": product.type,
        "status": "Enabled" if product.is_public else "Disabled",
        "price": None if product.price is None else money(product.price),
        "price_incl_tax": None if product.price_incl_tax is None else money(product.price_incl_tax),
        "currency": product.currency,
        "stock": product.stock,
        "categories": list(product.categories),
        "brand": product.brand,
        "url": absolute_url(product.url, domain),
        "imagePath": absolute_url(product.image_url, domain),
        "shortDescription": text(product.description),
        "created_date": iso(product.created_at),
        "updated_date": iso(product.updated_at),
        "attributes": {safe_key(k): text(v) for k, v in sorted(product.attributes.items())} or None,
    }


def product_record(product: Product, *, domain: str | None = None) -> dict[str, Any]:
    """The v3 insight record of a product, keyed by product id."""
    return account_record(str(product.id), product_json(product, domain=domain))
