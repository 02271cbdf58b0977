"""The machinery the batching jobs share: a size-bounded batch, per-page row outcomes, website context.

A job reads a keyset page of pending rows, reads their entities from the store adapter in one call,
and decides each row's fate:

* **sent** — added to a :class:`Batch`; the batch registers itself with
  :func:`~dotsync.jobs.queue.register_batch` (rows -> ``IMPORTING``) when the next record would
  break its record or byte limit, and at the end of the run;
* **unchanged** — its payload hash equals the hash last imported: marked ``IMPORTED``, nothing sent;
* **failed** (quarantined) — the record can never be accepted (bad email, too big, JSON the platform
  rejects): ``FAILED`` with the reason in ``sync_message``; the rest of the batch goes on;
* **skipped** — nothing to send (e.g. an order status that is not synced): ``SKIPPED`` with the reason;
* **waiting** — not yet (e.g. its contact is not in the platform yet): stays pending, reason shown;
* **held** — an import that carries the row has not settled yet (:func:`hold_in_flight`): stays
  pending until it settles, so what the row asks for now reaches the platform after that import.
  The hold is the row's importer column pointing at a live ``email_importer`` row; the message shows it.

Why a row is held or skipped for its contact is the ``hold_reason`` column (:class:`HoldReason`),
written with the message: code filters on the column, never on the message text.

A row is "maybe sent" (:func:`was_imported`, the one rule :func:`dotsync.models.sync.maybe_sent`)
once an import carried it, settled or not: its retire step (delete, unsubscribe) is queued, never
skipped, because the platform may hold its record.

:class:`Outcomes` applies those row updates in bulk, once per page.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone

from dotsync.accounts import WebsiteContext
from dotsync.exceptions import BatchConflict
from dotsync.jobs import versions
from dotsync.jobs.base import JobResult
from dotsync.jobs.queue import live_importers, register_batch
from dotsync.models import HoldReason, Importer, SyncStatus
from dotsync.models.sync import COLUMNS, maybe_sent

log = logging.getLogger("dotsync.jobs")

__all__ = [
    "Batch",
    "Outcomes",
    "WebsiteContext",
    "add_record",
    "chunks",
    "delete_payload",
    "held_reason",
    "hold_in_flight",
    "insight_batch",
    "queued_contact_deletes",
    "retire",
    "single",
    "unchanged",
    "was_imported",
]


class Batch:
    """Records bound for one ``email_importer`` row, flushed before a limit would be exceeded.

    Args:
        website_id: whose account sends it.
        import_type: e.g. ``Customer`` or ``Orders``.
        import_mode: ``Bulk`` (contact CSV) or ``Bulk_JSON`` (insight records).
        table: the source sync table.
        render: builds the payload from the items added so far.
        max_records: at most this many records per batch.
        max_bytes: at most this many payload bytes per batch (sum of item sizes plus ``base_bytes``).
        base_bytes: fixed bytes of every batch (e.g. the CSV header).
        stream: ``"sync"`` or ``"subscriber"``.
        result: the job result to count ``batches`` and ``records`` in.
        result_key: the website code to count under.
        exclusive: False when the rows also ride in sibling batches of the same run (the
            catalogue's targets), so they may already be queued (see ``register_batch``).
    """

    def __init__(
        self,
        *,
        website_id: int,
        import_type: str,
        import_mode: str,
        table: str,
        render: Callable[[list[Any]], dict[str, Any]],
        max_records: int,
        max_bytes: int,
        base_bytes: int = 0,
        stream: str = "sync",
        result: JobResult | None = None,
        result_key: str = "",
        exclusive: bool = True,
    ) -> None:
        self.website_id = website_id
        self.exclusive = exclusive
        self.import_type = import_type
        self.import_mode = import_mode
        self.table = table
        self.render = render
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.base_bytes = base_bytes
        self.stream = stream
        self.result = result
        self.result_key = result_key
        self.rows: list[tuple[int, str]] = []
        self.items: list[Any] = []
        self.bytes = base_bytes

    def too_big(self, size: int) -> bool:
        """True when a record of ``size`` bytes cannot fit even in an empty batch."""
        return self.base_bytes + size > self.max_bytes

    def add(self, pk: int, hash_: str, item: Any, size: int) -> None:
        """Add one record (flushing first if it would break a limit)."""
        if self.items and (len(self.items) + 1 > self.max_records or self.bytes + size > self.max_bytes):
            self.flush()
        self.rows.append((pk, hash_))
        self.items.append(item)
        self.bytes += size

    def flush(self) -> Importer | None:
        """Register what has been added as one importer row (nothing when empty)."""
        if not self.items:
            return None
        try:
            importer = register_batch(
                website_id=self.website_id,
                import_type=self.import_type,
                import_mode=self.import_mode,
                table=self.table,
                rows=self.rows,
                payload=self.render(self.items),
                stream=self.stream,
                record_count=len(self.items),
                exclusive=self.exclusive,
            )
        except BatchConflict as exc:
            log.warning("%s batch of website %s dropped: %s", self.import_type, self.website_id, exc)
            if self.result is not None:
                self.result.add(self.result_key, "conflicts")
            self.rows, self.items, self.bytes = [], [], self.base_bytes
            return None
        log.info(
            "registered %s batch #%s: %d records, %d bytes, website %s",
            self.import_type,
            importer.pk,
            len(self.items),
            self.bytes,
            self.website_id,
        )
        if self.result is not None:
            self.result.add(self.result_key, "batches")
            self.result.add(self.result_key, "records", len(self.items))
        self.rows, self.items, self.bytes = [], [], self.base_bytes
        return importer


@dataclass
class Outcomes:
    """Row updates decided while processing one page, applied in a few bulk statements.

    Attributes:
        model: the sync-table model.
        stream: ``"sync"`` or ``"subscriber"`` (which status/hash columns to write).
    """

    model: type[models.Model]
    stream: str = "sync"
    unchanged: list[int] = field(default_factory=list)
    failed: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    skipped: dict[tuple[str, HoldReason], list[int]] = field(default_factory=lambda: defaultdict(list))
    waiting: dict[tuple[str, HoldReason], list[int]] = field(default_factory=lambda: defaultdict(list))

    def fail(self, pk: int, reason: str) -> None:
        """Quarantine a row: it is ``FAILED`` with ``reason`` until its entity changes again."""
        self.failed[reason[:255]].append(pk)

    def skip(self, pk: int, reason: str, hold: HoldReason = HoldReason.NONE) -> None:
        """Nothing to send for this row now; it is re-evaluated when its entity changes again.

        ``hold`` says why when the row is skipped for its contact (it is released when the
        contact comes back, :func:`~dotsync.jobs.contact_gate.release_held`).
        """
        self.skipped[(reason[:255], hold)].append(pk)

    def wait(self, pk: int, reason: str, hold: HoldReason = HoldReason.NONE) -> None:
        """Leave the row pending with ``reason`` shown (and ``hold`` recorded); the next run looks again."""
        self.waiting[(reason[:255], hold)].append(pk)

    def hold(self, pk: int, importer_id: int) -> None:
        """Leave the row pending until importer row ``importer_id`` (which carries it) settles."""
        self.wait(pk, held_reason(importer_id), HoldReason.IN_FLIGHT)

    def apply(self, result: JobResult, website_code: str) -> None:
        """Write the updates and count them in ``result``.

        A status changes only on rows nothing changed since their page was read
        (:func:`dotsync.jobs.versions.update_unchanged`): an observer's newer change stays pending.
        """
        status = COLUMNS[self.stream].status
        pk = self.model._meta.pk.attname  # type: ignore[union-attr]
        manager = self.model._default_manager
        pending = {f"{status}__in": SyncStatus.pending()}
        now = timezone.now()
        if self.unchanged:
            versions.update_unchanged(
                manager.filter(**pending),
                self.unchanged,
                **{status: SyncStatus.IMPORTED},
                sync_message="",
                hold_reason=HoldReason.NONE,
                updated_at=now,
            )
            result.add(website_code, "unchanged", len(self.unchanged))
        for reason, pks in self.failed.items():
            versions.update_unchanged(
                manager.filter(**pending),
                pks,
                **{status: SyncStatus.FAILED},
                sync_message=reason,
                hold_reason=HoldReason.NONE,
                updated_at=now,
            )
            result.add(website_code, "failed", len(pks))
        for (reason, hold), pks in self.skipped.items():
            versions.update_unchanged(
                manager.filter(**pending),
                pks,
                **{status: SyncStatus.SKIPPED},
                sync_message=reason,
                hold_reason=hold,
                updated_at=now,
            )
            result.add(website_code, "skipped", len(pks))
        for (reason, hold), pks in self.waiting.items():
            manager.filter(**{f"{pk}__in": pks}).update(sync_message=reason, hold_reason=hold)
            versions.forget(self.model, pks)
            result.add(website_code, "waiting", len(pks))
        if self.failed:
            log.warning(
                "quarantined %d %s rows of website %s",
                sum(len(p) for p in self.failed.values()),
                self.model._meta.db_table,
                website_code,
            )


def insight_batch(
    ctx: WebsiteContext,
    *,
    result: JobResult,
    table: str,
    collection: str,
    collection_type: str,
    scope: str = "contact",
    import_type: str | None = None,
    records_key: str = "insight",
    exclusive: bool = True,
) -> Batch:
    """A ``Bulk_JSON`` batch for an insight collection, within the website's insight limits."""
    from dotsync.models.importer import ImportMode

    def render(records: list[Any]) -> dict[str, Any]:
        return {"collection": collection, "scope": scope, "type": collection_type, "records": records}

    return Batch(
        website_id=ctx.website.pk,
        import_type=import_type or collection,
        import_mode=ImportMode.BULK_JSON,
        table=table,
        render=render,
        max_records=ctx.cfg.batch(records_key),
        max_bytes=ctx.cfg.batch("insight_bytes"),
        base_bytes=len(json.dumps(render([]))),
        result=result,
        result_key=ctx.code,
        exclusive=exclusive,
    )


def single(
    *,
    website_id: int,
    import_type: str,
    import_mode: str,
    table: str,
    pk: int,
    payload: dict[str, Any],
    stream: str = "sync",
    hash_: str | None = None,
) -> Importer | None:
    """Queue one single-record call that carries its source row (the row goes ``IMPORTING``).

    Returns None when another run queued the row first (see :func:`~dotsync.jobs.queue.register_batch`).

    The row's hash becomes ``hash_`` (default: the hash of ``payload``), so a delete that was sent
    is not sent again, and the row is sent afresh when its entity comes back.
    """
    from dotsync.jobs.queue import payload_hash

    try:
        return register_batch(
            website_id=website_id,
            import_type=import_type,
            import_mode=import_mode,
            table=table,
            rows=[(pk, hash_ or payload_hash(payload))],
            payload=payload,
            stream=stream,
            record_count=1,
        )
    except BatchConflict as exc:
        log.warning("%s call for %s #%s not queued: %s", import_mode, table, pk, exc)
        return None


def was_imported(row: Any, stream: str = "sync") -> bool:
    """True when the platform may hold this row's record ("maybe sent").

    That is: it was confirmed imported once, or an import carried it whose outcome was never recorded
    on the row (its importer column is still set). A retire step (delete, unsubscribe) is queued for
    such a row, never skipped: the calls are idempotent, and a record created by an import that
    settled after the row changed would otherwise stay on the platform for good. Rows whose import is
    still running are held first (:func:`hold_in_flight`), so the retire step is sent after it settles.
    """
    return maybe_sent(row, COLUMNS[stream])


def held_reason(importer_id: int) -> str:
    """The message of a row held for the unsettled import ``importer_id``."""
    return (
        f"held: import #{importer_id} carrying this record has not settled; "
        "this change is sent once it settles"
    )


def queued_contact_deletes(website_id: int) -> dict[str, int]:
    """The website's emails with a ``Contact_Delete`` not settled yet -> that importer row's id.

    An observer queues the delete when a contact's store record goes (a customer deleted, a
    subscription-only contact's subscription deleted). If the email comes back before the delete was
    made (the delete is backing off after platform errors, or waits for an import), an import of the
    new contact could reach the platform first, and the late delete would remove it.
    """
    from dotsync.jobs.queue import Envelope
    from dotsync.models.importer import ImportMode, ImportStatus

    rows = Importer.objects.filter(
        website_id=website_id,
        import_mode=ImportMode.CONTACT_DELETE,
        import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING],
    ).order_by("pk")
    return {str(Envelope.load(row).payload.get("email", "")).lower(): row.pk for row in rows}


def hold_in_flight(
    page: list[Any], outcomes: Outcomes, stream: str = "sync", *, deleting: dict[str, int] | None = None
) -> list[Any]:
    """The rows of ``page`` that may be sent now; the others are held (:meth:`Outcomes.hold`).

    A pending row whose importer column points at an importer row that has not settled was changed
    while that import was on its way (the observers leave the column set). Sending its new state now
    could reach the platform before the import does, and the import would then restore the old
    state (re-create a deleted order, re-subscribe a contact). So the row waits, one import in flight
    per row and stream, and is looked at again once the import settles (settlement keeps it pending).

    ``deleting`` (contacts: :func:`queued_contact_deletes`) holds the rows of emails whose platform
    delete is still queued, so the contact is sent again after that delete, not before it.
    """
    col = COLUMNS[stream].importer
    live = live_importers(getattr(row, col) for row in page)
    if not live and not deleting:
        return page
    ready = []
    for row in page:
        importer_id = getattr(row, col)
        delete_id = deleting.get(row.email.lower()) if deleting else None
        if importer_id in live:
            outcomes.hold(row.pk, importer_id)
        elif delete_id is not None:
            outcomes.wait(
                row.pk,
                f"held: the delete #{delete_id} of this contact is queued; sent after it",
                HoldReason.IN_FLIGHT,
            )
        else:
            ready.append(row)
    return ready


def unchanged(row: Any, hash_: str, stream: str = "sync") -> bool:
    """True when ``hash_`` is the hash last imported for this row."""
    cols = COLUMNS[stream]
    return getattr(row, cols.imported_at) is not None and getattr(row, cols.hash) == hash_


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``items`` cut into lists of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def retire(
    ctx: WebsiteContext,
    outcomes: Outcomes,
    result: JobResult,
    row: Any,
    *,
    table: str,
    collection: str,
    key: str,
    email: str | None,
    reason: str,
    scope: str = "contact",
) -> None:
    """A record that should not be (or no longer be) in the platform.

    If the row may have been sent (:func:`was_imported`), queue a ``Single_Delete`` of its record
    (once: a delete already confirmed is not sent again); otherwise mark the row skipped with
    ``reason``. Either way the row is looked at again when its entity changes.
    """
    from dotsync.jobs.queue import payload_hash
    from dotsync.models.importer import ImportMode

    if not was_imported(row):
        outcomes.skip(row.pk, reason)
        return
    if scope == "contact" and not email:
        outcomes.skip(row.pk, f"{reason}; no email is known to delete it from the platform")
        return
    payload = delete_payload(collection, scope, key, email)
    if unchanged(row, payload_hash(payload)):
        outcomes.unchanged.append(row.pk)
        return
    single(
        website_id=ctx.website.pk,
        import_type=collection,
        import_mode=ImportMode.SINGLE_DELETE,
        table=table,
        pk=row.pk,
        payload=payload,
    )
    result.add(ctx.code, "deletes")


def delete_payload(collection: str, scope: str, key: str, email: str | None) -> dict[str, Any]:
    """The ``Single_Delete`` payload of one insight record: the one place it is built.

    Jobs (:func:`retire`, the catalogue) and store events (a record deleted in the store) use it,
    so a delete queued by either has the same payload and hash.
    """
    return {
        "collection": collection,
        "scope": scope,
        "key": key,
        "email": email if scope == "contact" else None,
    }


def add_record(batch: Batch, outcomes: Outcomes, row_pk: int, row: Any, record: dict[str, Any]) -> None:
    """Quarantine, skip as unchanged, or batch one insight record (shared by every insight job)."""
    from dotsync.jobs.payloads import insight
    from dotsync.jobs.queue import RawJSON, canonical_json, payload_hash

    problem = insight.record_problem(record)
    if problem:
        outcomes.fail(row_pk, f"the platform would reject this record: {problem}")
        return
    text = canonical_json(record)  # encoded once: hashed, measured and batched as this text
    hash_ = payload_hash(record, text)
    if unchanged(row, hash_):
        outcomes.unchanged.append(row_pk)
        return
    size = len(text.encode())  # sorting keys does not change the compact size
    if batch.too_big(size):
        outcomes.fail(row_pk, f"record is {size} bytes, over the batch byte limit {batch.max_bytes}")
        return
    batch.add(row_pk, hash_, RawJSON(text), size)
