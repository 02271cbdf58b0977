"""The ``CartInsight`` record of a basket (reference §2.8): the basket with the link back to it.

Built on the ``Quote`` collection's basket JSON (:func:`dotsync.jobs.payloads.quote.quote_json`), with the
fields CartInsight adds: ``cartId``, ``cartUrl`` and ``cartPhase``.
"""

from __future__ import annotations

from typing import Any

from dotsync import links
from dotsync.jobs.payloads.quote import quote_json
from dotsync.store.records import Quote

COLLECTION = "CartInsight"
COLLECTION_TYPE = "cartInsight"

ORDER_PENDING = "ORDER_PENDING"
"""``cartPhase`` of an open basket."""
ORDER_COMPLETE = "ORDER_COMPLETE"
"""``cartPhase`` once the basket was ordered."""

BASKET_PATH = "/basket/"
"""Oscar's basket page (where a cart-restore link lands)."""


def basket_url(domain: str | None) -> str:
    """The basket page of the store whose Django ``Site`` has ``domain`` (a path when there is none)."""
    return f"https://{domain}{BASKET_PATH}" if domain else BASKET_PATH


def cart_url(basket_id: int, website_code: str, domain: str | None) -> str:
    """The ``cartUrl``: the basket's signed, expiring restore link (:func:`dotsync.links.restore_url`)."""
    return links.restore_url(basket_id, website_code, domain)


def cart_insight_json(
    quote: Quote,
    *,
    email: str,
    store_name: str,
    website_name: str,
    cart_url: str,
    phase: str = ORDER_PENDING,
) -> dict[str, Any]:
    """The CartInsight record body of ``quote``."""
    body = quote_json(quote, email=email, store_name=store_name, website_name=website_name)
    body.update({"cartId": str(quote.id), "cartUrl": cart_url, "cartPhase": phase})
    return body


def most_expensive_name(quote: Quote) -> str:
    """``ABANDONED_PROD_NAME``: the name of the basket's dearest line (by unit price; first on a tie)."""
    best = None
    for line in quote.lines:
        if best is None or line.price_inc_tax > best.price_inc_tax:
            best = line
    return best.name[:255] if best is not None else ""
