"""``reviews_and_wishlists`` (spec: ``reviews_and_wishlist``): the ``Reviews`` and ``Wishlist`` collections.

Per enabled website:

* **reviews** (``sync_reviews``): approved reviews -> ``Reviews`` (contact scope, key = review id).
  A review no longer approved (or gone) is deleted from the collection if it was imported.
* **wishlists** (``sync_wishlists``): wishlists with items -> ``Wishlist`` (contact scope, type
  ``wishList``, key = wishlist id). A wishlist that becomes empty (or is gone) is deleted from the
  platform if it was imported, else skipped.

Both wait, like orders, until the contact is in the platform.
"""

from __future__ import annotations

from dotsync.jobs.base import JobResult
from dotsync.jobs.batching import WebsiteContext
from dotsync.jobs.contact_collections import ContactCollection, run_parts, sync_collection
from dotsync.jobs.payloads import review as review_payload
from dotsync.jobs.payloads import wishlist as wishlist_payload
from dotsync.models import Review, Wishlist
from dotsync.store.protocol import StoreAdapter

JOB_ID = "reviews_and_wishlists"
SPEC_NAME = "reviews_and_wishlist"

REVIEWS = ContactCollection(
    model=Review,
    source_id="review_id",
    collection=review_payload.COLLECTION,
    collection_type=review_payload.COLLECTION_TYPE,
    read=lambda adapter, ids: adapter.reviews(ids),
    gone=lambda rec: (
        "the review no longer exists" if rec is None else "" if rec.approved else "the review is not approved"
    ),
    build=review_payload.review_record,
    what="review",
    keyed_to="the reviewer's email",
    held_as="anonymous review",
)

WISHLISTS = ContactCollection(
    model=Wishlist,
    source_id="wishlist_id",
    collection=wishlist_payload.COLLECTION,
    collection_type=wishlist_payload.COLLECTION_TYPE,
    read=lambda adapter, ids: adapter.wishlists(ids),
    gone=lambda rec: (
        "the wishlist no longer exists" if rec is None else "" if rec.items else "the wishlist is empty"
    ),
    build=wishlist_payload.wishlist_record,
    what="wishlist",
    keyed_to="their owner's email",
    held_as="wishlist",
)


def run(website_code: str | None = None) -> JobResult:
    """Queue review and wishlist imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``waiting``, ``deletes``.
    """
    return run_parts(
        JOB_ID, website_code, [("sync_reviews", sync_reviews), ("sync_wishlists", sync_wishlists)]
    )


def sync_reviews(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending reviews into ``Reviews`` imports."""
    sync_collection(REVIEWS, ctx, adapter, result)


def sync_wishlists(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending wishlists into ``Wishlist`` imports; empty ones are deleted."""
    sync_collection(WISHLISTS, ctx, adapter, result)
