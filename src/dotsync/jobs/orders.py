"""``orders`` (spec: ``order_and_quote_sync``): orders to ``Orders`` and baskets to ``Quote``.

Per enabled website:

* **orders** (``sync_orders``): ``email_order`` rows -> insight collection ``Orders`` (contact scope,
  type ``orders``, key = order number), shaped by :mod:`dotsync.jobs.payloads.order`. Only orders in
  ``order_statuses`` are sent. An order in another status that was imported before is deleted from
  the collection (``Single_Delete``: a cancelled order leaves ``Orders``); one never imported is
  skipped with the reason, and looked at again when the order changes. An order whose contact is
  not in the platform yet waits (stays pending, ``sync_message`` says why) — never dropped, never
  sent early — and a guest order makes sure the guest's ``email_contact`` row exists.
* **quotes** (``sync_quotes``): ``email_quote`` rows of baskets with items -> collection ``Quote``
  (contact scope, key = basket id). A basket that is empty (or gone) is deleted from the collection
  if it was imported, else skipped; anonymous baskets (no email) are skipped.
"""

from __future__ import annotations

from dotsync.jobs import contact_gate
from dotsync.jobs.base import JobResult, iter_pending
from dotsync.jobs.batching import Outcomes, WebsiteContext, add_record, hold_in_flight, retire
from dotsync.jobs.contact_collections import ContactCollection, run_parts, sync_collection
from dotsync.jobs.payloads import order as order_payload
from dotsync.jobs.payloads import quote as quote_payload
from dotsync.jobs.payloads.contact_csv import email_problem
from dotsync.models import HoldReason, Order, Quote
from dotsync.store.protocol import StoreAdapter

JOB_ID = "orders"
SPEC_NAME = "order_and_quote_sync"

QUOTES = ContactCollection(
    model=Quote,
    source_id="quote_id",
    collection=quote_payload.COLLECTION,
    collection_type=quote_payload.COLLECTION_TYPE,
    read=lambda adapter, ids: adapter.quotes(ids),
    gone=lambda rec: (
        "the basket no longer exists" if rec is None else "" if rec.lines else "the basket is empty"
    ),
    build=quote_payload.quote_record,
    what="basket",
    keyed_to="their contact's email",
    held_as="basket",
    defer=lambda row: row.item_count > 0,
)


def run(website_code: str | None = None) -> JobResult:
    """Queue order and basket imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``waiting``, ``deletes``.
    """
    return run_parts(JOB_ID, website_code, [("sync_orders", sync_orders), ("sync_quotes", sync_quotes)])


def sync_orders(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending orders into ``Orders`` imports."""
    table = Order._meta.db_table
    batch = ctx.insight_batch(
        result=result,
        table=table,
        collection=order_payload.COLLECTION,
        collection_type=order_payload.COLLECTION_TYPE,
    )
    statuses = set(ctx.cfg.order_statuses)
    allowed = ", ".join(sorted(statuses))
    for page in iter_pending(Order, website_id=ctx.website.pk, page_size=ctx.cfg.batch("page")):
        outcomes = Outcomes(Order)
        page = hold_in_flight(page, outcomes)
        gate = contact_gate.ContactGate.load(ctx, [r.email for r in page])
        page = gate.defer(page, outcomes, sendable=lambda r: r.order_status in statuses)
        records = {o.id: o for o in adapter.orders([r.order_id for r in page])}
        gate.extend(o.email for o in records.values())
        for row in page:
            rec = records.get(row.order_id)
            email = (rec.email if rec else "") or row.email
            if rec is None or rec.status not in statuses:
                why = (
                    "the order no longer exists in the store"
                    if rec is None
                    else f"status {rec.status!r} is not synced (order_statuses: {allowed})"
                )
                retire(
                    ctx,
                    outcomes,
                    result,
                    row,
                    table=table,
                    collection=order_payload.COLLECTION,
                    key=row.order_number or (rec.number if rec else str(row.order_id)),
                    email=email,
                    reason=why,
                )
                continue
            if rec.problem:  # unreadable in the store (an amount its column cannot hold)
                outcomes.fail(row.pk, rec.problem)
                continue
            problem = email_problem(email)
            if problem:
                outcomes.fail(row.pk, f"{problem}; orders are keyed to their contact's email")
                continue
            if gate.suppressed(email):
                outcomes.skip(row.pk, contact_gate.SUPPRESSED, HoldReason.CONTACT_SUPPRESSED)
                continue
            if gate.contact_failed(email):
                outcomes.skip(row.pk, gate.contact_failed(email), HoldReason.CONTACT_FAILED)
                continue
            if not gate.ready(email):
                gate.ensure(
                    email,
                    customer_id=rec.customer_id,
                    store_id=rec.store_id or getattr(row, "store_id", None),
                )
                outcomes.wait(row.pk, gate.reason(email), HoldReason.WAITING_CONTACT)
                continue
            record = order_payload.order_record(
                rec,
                store_name=ctx.store_name(rec.store_id, getattr(row, "store_id", None)),
                website_name=ctx.website.name,
            )
            add_record(batch, outcomes, row.pk, row, record)
        gate.flush()
        outcomes.apply(result, ctx.code)
        del page, records, gate, outcomes  # freed before the next page is read: one page in memory
    batch.flush()


def sync_quotes(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch the website's pending baskets into ``Quote`` imports."""
    sync_collection(QUOTES, ctx, adapter, result)
