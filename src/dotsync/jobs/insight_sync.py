"""One loop for every contact-scoped insight stream: ``Orders``, ``Quote``, ``Reviews``, ``Wishlist``.

:func:`sync` takes a :class:`~dotsync.jobs.stream.Stream` and batches one website's pending rows of
its table: keyset pages of pending rows, one store read per page, records of contacts not in the
platform yet held back by the :class:`~dotsync.jobs.contact_gate.ContactGate` (as the stream's
:class:`~dotsync.jobs.stream.GateSpec` says), records that must leave the platform retired
(:func:`~dotsync.jobs.batching.retire`), the rest batched into v3 insight imports.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from dotsync.accounts import WebsiteContext
from dotsync.jobs import contact_gate, singles
from dotsync.jobs.base import JobResult, iter_pending
from dotsync.jobs.batching import Outcomes, add_record, hold_in_flight, insight_batch, retire
from dotsync.jobs.payloads.contact_csv import email_problem
from dotsync.jobs.stream import Part, Stream
from dotsync.models import HoldReason
from dotsync.store.protocol import StoreAdapter


def parts(*streams: Stream) -> tuple[tuple[Stream | None, Part], ...]:
    """``StreamJob.parts`` for insight streams synced by :func:`sync`."""
    return tuple((s, partial(sync, s)) for s in streams)


def sync(stream: Stream, ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Batch one website's pending rows of ``stream``'s table into insight imports."""
    spec, target, cfg = stream.gate, stream.collection, ctx.cfg
    assert spec is not None and stream.read is not None and stream.build is not None and stream.gone
    table = stream.table
    batch = insight_batch(
        ctx,
        result=result,
        table=table,
        collection=target.name,
        collection_type=target.type,
        scope=target.scope,
    )
    batch = singles.insight_sender(  # a nudged run: singles below N pending records
        batch,
        model=stream.model,
        collection=target.name,
        collection_type=target.type,
        scope=target.scope,
        batch_sizes=cfg.batch_sizes,
    )

    def sendable(row: Any) -> bool:
        return spec.defer is not None and spec.defer(row, cfg)

    for page in iter_pending(stream.model, website_id=ctx.website.pk, page_size=cfg.batch("page")):
        outcomes = Outcomes(stream.model)
        page = hold_in_flight(page, outcomes)
        gate = contact_gate.ContactGate.load(ctx, [getattr(row, "email", "") for row in page])
        if spec.defer is not None:
            page = gate.defer(page, outcomes, sendable=sendable)
        ids = [getattr(row, stream.source_id) for row in page]
        records = {rec.id: rec for rec in stream.read(adapter, ids)}
        gate.extend(rec.email for rec in records.values())
        for row in page:
            rec = records.get(getattr(row, stream.source_id))
            email = (rec.email if rec else "") or getattr(row, "email", "")
            reason = stream.gone(rec, cfg)
            if rec is None or reason:
                retire(
                    ctx, outcomes, result, row, table=table, collection=target.name,
                    key=stream.key(row, rec), email=email or None, reason=reason,
                )  # fmt: skip
                continue
            problem = stream.problem(rec) if stream.problem is not None else ""
            if problem:
                outcomes.fail(row.pk, problem)
                continue
            if not email and not spec.guest_orders:
                outcomes.skip(row.pk, f"anonymous {spec.what}: no email to attach it to")
                continue
            bad_email = email_problem(email)
            if bad_email:
                outcomes.fail(row.pk, f"{bad_email}; {spec.what}s are keyed to {spec.keyed_to}")
                continue
            store_id = rec.store_id or getattr(row, "store_id", None)
            if spec.guest_orders:
                if _held_order(gate, outcomes, row.pk, email, customer_id=rec.customer_id, store_id=store_id):
                    continue
            elif not gate.ready(email):
                gate.hold(
                    outcomes, row.pk, email, customer_id=rec.customer_id, store_id=store_id, what=spec.held_as
                )
                continue
            store_name = ctx.store_name(rec.store_id, getattr(row, "store_id", None))
            record = stream.build(rec, email=email, store_name=store_name, website_name=ctx.website.name)
            add_record(batch, outcomes, row.pk, row, record)
        gate.flush()
        outcomes.apply(result, ctx.code)
        del page, ids, records, gate, outcomes  # freed before the next page is read: one page in memory
    batch.flush()


def _held_order(
    gate: contact_gate.ContactGate,
    outcomes: Outcomes,
    pk: int,
    email: str,
    *,
    customer_id: int | None,
    store_id: int | None,
) -> bool:
    """The order rule (:attr:`GateSpec.guest_orders`); True when the record is held back.

    A record of a suppressed contact, or of a contact row that failed, is skipped (even when the
    contact was imported once); one whose contact is not in the platform yet makes sure the
    contact row exists (a guest's for a guest order) and waits for it.
    """
    if gate.suppressed(email):
        outcomes.skip(pk, contact_gate.SUPPRESSED, HoldReason.CONTACT_SUPPRESSED)
        return True
    failed = gate.contact_failed(email)
    if failed:
        outcomes.skip(pk, failed, HoldReason.CONTACT_FAILED)
        return True
    if gate.ready(email):
        return False
    gate.ensure(email, customer_id=customer_id, store_id=store_id)
    outcomes.wait(pk, gate.reason(email), HoldReason.WAITING_CONTACT)
    return True
