"""What a sync stream is: one declaration of everything dotsync knows about one kind of record.

A :class:`Stream` names its sync table and state columns, the store read, the payload builder, the
import type or collection, its toggle, when a record must be deleted from the platform, its line in
``dotsync status``, its admin grid and what happens after its import is confirmed. The declarations
themselves are in :mod:`dotsync.jobs.streams`; a :class:`StreamJob` runs some of them per website.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import WebsiteSettings
from dotsync.jobs.base import Job, JobResult
from dotsync.jobs.batching import delete_payload
from dotsync.jobs.queue import enqueue_single
from dotsync.jobs.status_lines import TableReport
from dotsync.models import Importer, SyncState
from dotsync.models.importer import ImportMode
from dotsync.models.sync import SYNC_COLUMNS, StateColumns
from dotsync.store.protocol import StoreAdapter
from dotsync.store.registry import get_adapter


@dataclass(frozen=True)
class ContactBook:
    """A contact stream's target: an address book and the import type of its CSV imports.

    Attributes:
        book: the address-book key of the settings (``customers``, ``guests``, ``subscribers``).
        import_type: the ``email_importer.import_type`` of its batches (``Customer``...).
        keys: the data-field keys its CSV carries (:mod:`dotsync.jobs.payloads.datafields`).
    """

    book: str
    import_type: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Collection:
    """An insight stream's target: the collection name, its v3 ``collectionType`` and its scope."""

    name: str
    type: str
    scope: str = "contact"


@dataclass(frozen=True)
class GateSpec:
    """How a contact-scoped record waits for its contact (:mod:`dotsync.jobs.contact_gate`).

    Attributes:
        what: the record kind in messages ("basket", "order"...).
        keyed_to: whose email the record is keyed to, for the invalid-email message.
        held_as: the record kind when it is skipped for want of a contact ("anonymous review").
        defer: True for a row that would be sent once its contact is in (given the website's
            settings); rows of contacts still waiting are held back before the store is read (a
            first sync reads each record once). None: rows are not deferred.
        guest_orders: the order rule: a record without a customer is a guest's, so its contact row
            is made (flagged guest) and it waits; a record of a suppressed contact is skipped with
            the bare :data:`~dotsync.jobs.contact_gate.SUPPRESSED`; an empty email is an invalid one
            (no "anonymous" skip).
    """

    what: str
    keyed_to: str
    held_as: str
    defer: Callable[[Any, WebsiteSettings], bool] | None = None
    guest_orders: bool = False


@dataclass(frozen=True)
class Grid:
    """A stream's read-only admin grid (:mod:`dotsync.admin`)."""

    list_display: tuple[str, ...]
    list_filter: tuple[str, ...]
    search_fields: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()


def _no_key(row: Any, rec: Any | None) -> str:
    return str(row.pk)


@dataclass(frozen=True)
class Stream:
    """One sync stream, declared once.

    Attributes:
        name: the stream's name (``orders``).
        model: its sync table.
        toggle: the :class:`~dotsync.config.WebsiteSettings` switch it obeys (``sync_orders``).
        target: its import type (:class:`ContactBook`) or collection (:class:`Collection`).
        columns: its state columns on the table.
        source_id: the column holding the store entity's id (``order_id``).
        read: the store read for a page of entity ids.
        build: the payload builder ``build(rec, email=, store_name=, website_name=)``.
        gone: '' when the record belongs on the platform, else why it must be deleted from it
            (``rec`` is None when the store no longer has it).
        key: the platform record key of a row (and its store record, when read).
        problem: why a store record cannot be read into a payload ('' when it can).
        pending_filter: which of the table's pending rows are this stream's (customers vs guests).
        gate: how a record waits for its contact (None: not contact-gated).
        status_line: its line in ``dotsync status`` (None: it shares another stream's line).
        grid: its admin grid (None: it shares another stream's grid).
        after_confirmed: called with the table's row ids whose import the platform confirmed
            (``email_contact``: records held for those contacts are released); returns a count.
    """

    name: str
    model: type[SyncState]
    toggle: str
    target: ContactBook | Collection
    columns: StateColumns = SYNC_COLUMNS
    source_id: str = ""
    read: Callable[[StoreAdapter, list[int]], Iterable[Any]] | None = None
    build: Callable[..., dict[str, Any]] | None = None
    gone: Callable[[Any | None, WebsiteSettings], str] | None = None
    key: Callable[[Any, Any | None], str] = _no_key
    problem: Callable[[Any], str] | None = None
    pending_filter: Mapping[str, Any] = field(default_factory=dict)
    gate: GateSpec | None = None
    status_line: TableReport | None = None
    grid: Grid | None = None
    after_confirmed: Callable[[Sequence[int]], int] | None = None

    @property
    def table(self) -> str:
        """The sync table's name (``email_order``)."""
        return self.model._meta.db_table

    @property
    def collection(self) -> Collection:
        """The insight collection of an insight stream.

        Raises:
            TypeError: a contact stream (it imports into an address book).
        """
        if not isinstance(self.target, Collection):
            raise TypeError(f"stream {self.name} imports into an address book, not a collection")
        return self.target

    @property
    def book(self) -> ContactBook:
        """The address book of a contact stream.

        Raises:
            TypeError: an insight stream (it imports into a collection).
        """
        if not isinstance(self.target, ContactBook):
            raise TypeError(f"stream {self.name} imports into a collection, not an address book")
        return self.target

    def delete_payload(self, key: str, email: str | None, collection: str | None = None) -> dict[str, Any]:
        """The ``Single_Delete`` payload of one of this stream's records (the one place it is built).

        ``collection`` names a collection other than the declared one (the catalogue's per-store
        collections).
        """
        target = self.collection
        return delete_payload(collection or target.name, target.scope, key, email)


def queue_delete(
    stream: Stream,
    website_id: int,
    *,
    key: str,
    email: str | None,
    collection: str | None = None,
    after: Sequence[int] = (),
) -> Importer:
    """Queue a ``Single_Delete`` of one of ``stream``'s records that no sync row carries.

    For jobs and store events alike (a job deleting a record its row carries queues it with
    :func:`~dotsync.jobs.batching.retire`, same payload). ``collection`` names a collection other
    than the declared one (the catalogue's per-store collections); ``after`` lists importer rows
    to settle first.
    """
    payload = stream.delete_payload(key, email, collection)
    if after:
        payload["after"] = list(after)
    return enqueue_single(
        website_id=website_id,
        import_type=payload["collection"],
        import_mode=ImportMode.SINGLE_DELETE,
        payload=payload,
    )


Part = Callable[[WebsiteContext, StoreAdapter, JobResult], None]
"""One stream's sync within a job, for one website."""


@dataclass(frozen=True)
class StreamJob(Job):
    """A batching job: for each enabled website, each of its parts whose stream's toggle is on.

    A website whose configuration is invalid is skipped, with every problem in ``result.errors``.

    Attributes:
        parts: ``(stream, part)`` pairs in run order; a part whose stream is None runs for every
            enabled website with valid settings (e.g. the contacts' "neither" sweep).
    """

    parts: tuple[tuple[Stream | None, Part], ...] = field(default=(), kw_only=True)

    @property
    def streams(self) -> tuple[Stream, ...]:
        """The streams the job syncs."""
        return tuple(s for s, _ in self.parts if s is not None)

    def run(self, ctx: RunContext) -> JobResult:
        """Queue the imports of the job's streams for the context's websites."""
        result = JobResult(self.id)
        adapter: StoreAdapter | None = None
        for website in ctx.enabled:
            problems = website.cfg.problems()
            if problems:  # before the toggles: an unreadable toggle reads False, and must be reported
                result.errors.extend(problems)
                continue
            cfg = website.cfg
            wanted = [part for stream, part in self.parts if stream is None or getattr(cfg, stream.toggle)]
            if not wanted:
                continue
            adapter = adapter or get_adapter()
            for part in wanted:
                part(website, adapter, result)
        return result
