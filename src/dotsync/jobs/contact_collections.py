"""One loop for the contact-scoped collections built the same way: ``Quote``, ``Reviews``, ``Wishlist``.

Each is described by a :class:`ContactCollection` — which sync table, which adapter read, when a
record must leave the platform, how its payload is built — and synced by :func:`sync_collection`:
keyset pages of pending rows, one adapter read per page, records of contacts not in the platform
yet held back by the :class:`~dotsync.jobs.contact_gate.ContactGate`, the rest batched into v3
insight imports. ``Orders`` has its own loop (status filter, guest contacts) in
:mod:`dotsync.jobs.orders`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from dotsync.jobs import contact_gate
from dotsync.jobs.base import JobResult, iter_pending, websites_for
from dotsync.jobs.batching import Outcomes, WebsiteContext, add_record, hold_in_flight, retire
from dotsync.jobs.payloads.contact_csv import email_problem
from dotsync.store.protocol import StoreAdapter
from dotsync.store.registry import get_adapter

Part = Callable[[WebsiteContext, StoreAdapter, JobResult], None]
"""One entity's sync within a job, for one website."""


def run_parts(job_id: str, website_code: str | None, parts: Iterable[tuple[str, Part]]) -> JobResult:
    """Run a job's parts for every enabled website where their toggle is on.

    Args:
        job_id: the job's id, for the result.
        website_code: only this website (``--website CODE``), or every one.
        parts: ``(toggle, part)`` pairs, e.g. ``("sync_orders", sync_orders)``; a part runs where
            its :class:`~dotsync.config.WebsiteSettings` toggle is on.

    A website whose configuration is invalid is skipped, with every problem in ``result.errors``.
    """
    parts = list(parts)
    result = JobResult(job_id)
    for website, cfg in websites_for(None, website_code):
        problems = cfg.problems()
        if problems:  # before the toggles: an unreadable toggle reads False, and must be reported
            result.errors.extend(problems)
            continue
        wanted = [part for toggle, part in parts if getattr(cfg, toggle)]
        if not wanted:
            continue
        ctx = WebsiteContext.load(website, cfg)
        adapter = get_adapter()
        for part in wanted:
            part(ctx, adapter, result)
    return result


@dataclass(frozen=True)
class ContactCollection:
    """How one contact-scoped collection is synced from its sync table.

    Attributes:
        model: the sync table's model (rows carry ``source_id`` and ``store_id``).
        source_id: the column holding the store entity's id (``quote_id``, ``review_id``, ...).
        collection: the insight collection name; the record key is the entity id.
        collection_type: the v3 ``collectionType``.
        read: the adapter's batch read for these ids.
        gone: the reason a record must not be in the platform ('' when it should be).
        build: the payload builder: ``build(record, email=, store_name=, website_name=)``.
        what: the record kind in messages ("basket", "wishlist", ...).
        keyed_to: whose email the record is keyed to, for the invalid-email message.
        held_as: the record kind when it is skipped for want of a contact ("anonymous review").
        defer: for tables whose rows carry the email: True for a row that would be sent once its
            contact is in; such rows of contacts still waiting are held back before the store is
            read at all (a first sync reads each record once).
    """

    model: type[models.Model]
    source_id: str
    collection: str
    collection_type: str
    read: Callable[[StoreAdapter, list[int]], Iterable[Any]]
    gone: Callable[[Any | None], str]
    build: Callable[..., dict[str, Any]]
    what: str
    keyed_to: str
    held_as: str
    defer: Callable[[Any], bool] | None = None


def sync_collection(
    spec: ContactCollection, ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult
) -> None:
    """Batch one website's pending rows of ``spec``'s table into insight imports."""
    table = spec.model._meta.db_table
    batch = ctx.insight_batch(
        result=result, table=table, collection=spec.collection, collection_type=spec.collection_type
    )
    for page in iter_pending(spec.model, website_id=ctx.website.pk, page_size=ctx.cfg.batch("page")):
        outcomes = Outcomes(spec.model)
        page = hold_in_flight(page, outcomes)
        gate = contact_gate.ContactGate.load(ctx, [getattr(row, "email", "") for row in page])
        if spec.defer is not None:
            page = gate.defer(page, outcomes, sendable=spec.defer)
        records = {rec.id: rec for rec in spec.read(adapter, [getattr(row, spec.source_id) for row in page])}
        gate.extend(rec.email for rec in records.values())
        for row in page:
            rec = records.get(getattr(row, spec.source_id))
            email = (rec.email if rec else "") or getattr(row, "email", "")
            reason = spec.gone(rec)
            if rec is None or reason:
                retire(
                    ctx, outcomes, result, row, table=table, collection=spec.collection,
                    key=str(getattr(row, spec.source_id)), email=email or None, reason=reason,
                )  # fmt: skip
                continue
            if not email:
                outcomes.skip(row.pk, f"anonymous {spec.what}: no email to attach it to")
                continue
            problem = email_problem(email)
            if problem:
                outcomes.fail(row.pk, f"{problem}; {spec.what}s are keyed to {spec.keyed_to}")
                continue
            store_id = rec.store_id or getattr(row, "store_id", None)
            if not gate.ready(email):
                gate.hold(
                    outcomes, row.pk, email, customer_id=rec.customer_id, store_id=store_id, what=spec.held_as
                )
                continue
            store_name = ctx.store_name(rec.store_id, getattr(row, "store_id", None))
            record = spec.build(rec, email=email, store_name=store_name, website_name=ctx.website.name)
            add_record(batch, outcomes, row.pk, row, record)
        gate.flush()
        outcomes.apply(result, ctx.code)
        del page, records, gate, outcomes  # freed before the next page is read: one page in memory
    batch.flush()
