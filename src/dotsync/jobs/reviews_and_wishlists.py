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

from dotsync.jobs import contact_gate
from dotsync.jobs.base import JobResult, iter_pending, websites_for
from dotsync.jobs.batching import Outcomes, WebsiteContext, add_record, retire
from dotsync.jobs.payloads import review as review_payload
from dotsync.jobs.payloads import wishlist as wishlist_payload
from dotsync.jobs.payloads.contact_csv import email_problem
from dotsync.models import Review, Wishlist
from dotsync.store.protocol import StoreAdapter
from dotsync.store.registry import get_adapter

JOB_ID = "reviews_and_wishlists"
SPEC_NAME = "reviews_and_wishlist"


def run(website_code: str | None = None) -> JobResult:
    """Queue review and wishlist imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``waiting``, ``deletes``.
    """
    result = JobResult(JOB_ID)
    for website, cfg in websites_for(None, website_code):
        if not (cfg.sync_reviews or cfg.sync_wishlists):
            continue
        problems = cfg.problems()
        if problems:
            result.errors.extend(problems)
            continue
        ctx = WebsiteContext.load(website, cfg)
        adapter = get_adapter()
        if cfg.sync_reviews:
            sync_reviews(ctx, adapter, result)
        if cfg.sync_wishlists:
            sync_wishlists(ctx, adapter, result)
    return result


def sync_reviews(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending reviews into ``Reviews`` imports."""
    table = Review._meta.db_table
    collection = review_payload.COLLECTION
    batch = ctx.insight_batch(
        result=result, table=table, collection=collection, collection_type=review_payload.COLLECTION_TYPE
    )
    for page in iter_pending(Review, website_id=ctx.website.pk, page_size=ctx.cfg.batch("page")):
        outcomes = Outcomes(Review)
        records = {r.id: r for r in adapter.reviews([row.review_id for row in page])}
        gate = contact_gate.ContactGate.load(ctx, [r.email for r in records.values()])
        for row in page:
            rec = records.get(row.review_id)
            email = rec.email if rec else ""
            if rec is None or not rec.approved:
                reason = "the review no longer exists" if rec is None else "the review is not approved"
                retire(
                    ctx, outcomes, result, row, table=table, collection=collection, key=str(row.review_id),
                    email=email or None, reason=reason,
                )  # fmt: skip
                continue
            problem = email_problem(email)
            if problem:
                outcomes.fail(row.pk, f"{problem}; reviews are keyed to the reviewer's email")
                continue
            if not gate.ready(email):
                store_id = rec.store_id or getattr(row, "store_id", None)
                gate.hold(
                    outcomes,
                    row.pk,
                    email,
                    customer_id=rec.customer_id,
                    store_id=store_id,
                    what="anonymous review",
                )
                continue
            record = review_payload.review_record(
                rec,
                email=email,
                store_name=ctx.store_name(rec.store_id, getattr(row, "store_id", None)),
                website_name=ctx.website.name,
            )
            add_record(batch, outcomes, row.pk, row, record)
        outcomes.apply(result, ctx.code)
    batch.flush()


def sync_wishlists(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending wishlists into ``Wishlist`` imports; empty ones are deleted."""
    table = Wishlist._meta.db_table
    collection = wishlist_payload.COLLECTION
    batch = ctx.insight_batch(
        result=result, table=table, collection=collection, collection_type=wishlist_payload.COLLECTION_TYPE
    )
    for page in iter_pending(Wishlist, website_id=ctx.website.pk, page_size=ctx.cfg.batch("page")):
        outcomes = Outcomes(Wishlist)
        records = {w.id: w for w in adapter.wishlists([row.wishlist_id for row in page])}
        gate = contact_gate.ContactGate.load(ctx, [w.email for w in records.values()])
        for row in page:
            rec = records.get(row.wishlist_id)
            email = rec.email if rec else ""
            if rec is None or not rec.items:
                reason = "the wishlist no longer exists" if rec is None else "the wishlist is empty"
                retire(
                    ctx, outcomes, result, row, table=table, collection=collection, key=str(row.wishlist_id),
                    email=email or None, reason=reason,
                )  # fmt: skip
                continue
            problem = email_problem(email)
            if problem:
                outcomes.fail(row.pk, f"{problem}; wishlists are keyed to their owner's email")
                continue
            if not gate.ready(email):
                store_id = rec.store_id or getattr(row, "store_id", None)
                gate.hold(
                    outcomes, row.pk, email, customer_id=rec.customer_id, store_id=store_id, what="wishlist"
                )
                continue
            record = wishlist_payload.wishlist_record(
                rec,
                email=email,
                store_name=ctx.store_name(rec.store_id, getattr(row, "store_id", None)),
                website_name=ctx.website.name,
            )
            add_record(batch, outcomes, row.pk, row, record)
        outcomes.apply(result, ctx.code)
    batch.flush()
