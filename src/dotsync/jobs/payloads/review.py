"""Review JSON for the ``Reviews`` collection (contact scope, key = review id)."""

from __future__ import annotations

from typing import Any

from dotsync.jobs.payloads.insight import contact_record
from dotsync.jobs.payloads.values import iso, text
from dotsync.store.records import Review

COLLECTION = "Reviews"
COLLECTION_TYPE = "custom"


def review_json(review: Review, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The review as the ``Reviews`` collection stores it (score 0-5 as ``rating``)."""
    return {
        "id": review.id,
        "customerId": review.customer_id,
        "email": email,
        "productId": "" if review.product_id is None else str(review.product_id),
        "productName": text(review.product_name, 255),
        "productSku": review.product_sku,
        "rating": int(review.score),
        "title": text(review.title, 255),
        "detail": text(review.body),
        "reviewDate": iso(review.created_at),
        "storeName": store_name,
        "websiteName": website_name,
    }


def review_record(review: Review, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    """The v3 insight record of a review, keyed by review id."""
    body = review_json(review, email=email, store_name=store_name, website_name=website_name)
    return contact_record(str(review.id), email, body)
