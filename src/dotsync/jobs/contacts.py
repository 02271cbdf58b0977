"""``contacts`` (spec: ``customer_subscriber_guest_sync``): contacts to address books as v2 CSV imports.

Three streams per enabled website, each behind its toggle:

* **customers** (``sync_customers``): ``email_contact`` rows with a ``customer_id`` -> import type
  ``Customer``, the customers address book, every mapped customer field plus sales data;
* **guests** (``sync_guests``): rows flagged ``is_guest`` without a customer -> ``Guest``, the guests
  address book, sales data and the names and addresses of their last order;
* **subscribers** (``sync_subscribers``, the row's second stream ``subscriber_sync_status``) ->
  ``Subscriber``, the subscribers address book, with ``OptInType`` ``Double`` for stores that require
  confirmation. A row that is no longer subscribed is not sent to the book: if its subscription was
  imported before, a ``Subscriber_Unsubscribe`` call is queued instead.

Every batch is one CSV file (``Email,EmailType,<DATAFIELDS...>[,OptInType]``) registered as an
``email_importer`` row in mode ``Bulk`` with payload ``{"address_book", "address_book_id", "csv",
"emails"}``; ``emails`` maps each email in the file to its ``email_contact`` id, so the importer can
map the platform's fault report back to rows. A stream whose address book is not configured is
not sent at all: its rows stay pending, untouched, and the run reports the problem in
``JobResult.errors`` (and counts ``no_address_book``) until a book is set. (The v2 API can import
into "All contacts" without a book, but then the contacts land in no book that the platform's
programs and the connector's other jobs use, so a missing book is treated as a configuration gap.)

Rows that are neither a customer nor a guest (subscriber-only contacts) have nothing to send in the
customer/guest stream and are marked skipped there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dotsync.accounts import WebsiteContext
from dotsync.jobs import consent
from dotsync.jobs.base import JobResult, JobScope, iter_pending
from dotsync.jobs.batching import (
    Batch,
    Outcomes,
    hold_in_flight,
    queued_contact_deletes,
    single,
    unchanged,
    was_imported,
)
from dotsync.jobs.payloads import contact_csv, datafields
from dotsync.jobs.queue import payload_hash
from dotsync.jobs.stream import Stream, StreamJob
from dotsync.jobs.streams import CUSTOMERS, GUESTS, SUBSCRIBERS
from dotsync.models import Contact, SyncStatus
from dotsync.models.importer import ImportMode
from dotsync.models.newsletter import SubscriberStatus
from dotsync.store.protocol import StoreAdapter
from dotsync.store.records import SalesData

JOB_ID = "contacts"
SPEC_NAME = "customer_subscriber_guest_sync"
TABLE = Contact._meta.db_table

log = logging.getLogger("dotsync.jobs.contacts")

ValuesFor = Callable[[Contact], "dict[str, Any] | str"]
"""Returns a row's raw data-field values, or a reason string when the row cannot be sent."""


def run(website_code: str | None = None) -> JobResult:
    """Queue contact imports for every enabled website (or just ``website_code``).

    Returns:
        Counters per website: ``batches``, ``records``, ``unchanged``, ``failed``, ``skipped``,
        ``unsubscribes``, ``no_address_book`` (streams not sent for want of an address book).
    """
    return JOB(website_code)


def _csv_batch(
    ctx: WebsiteContext,
    result: JobResult,
    *,
    book: str,
    import_type: str,
    names: list[str],
    opt_in: bool,
    stream: str,
    with_consent: bool = False,
) -> tuple[Batch, list[str]]:
    """A contact CSV batch and its header.

    The header returned is the hashed columns: without the consent columns, which the file's header
    line adds after them when ``with_consent``.
    """
    head = contact_csv.header(names, opt_in=opt_in)
    head_line = contact_csv.line([*head, *consent.COLUMNS] if with_consent else head)
    book_id = ctx.cfg.address_book(book)

    def render(items: list[Any]) -> dict[str, Any]:
        payload = {
            "address_book": book,
            "address_book_id": book_id,
            "csv": head_line + "".join(text for _, _, text, _ in items),
            "emails": {email: pk for email, pk, _, _ in items},
        }
        consents = {str(pk): list(ids) for _, pk, _, ids in items if ids}
        if consents:
            payload[consent.PAYLOAD_KEY] = consents
        return payload

    batch = Batch(
        website_id=ctx.website.pk,
        import_type=import_type,
        import_mode=ImportMode.BULK,
        table=TABLE,
        render=render,
        max_records=ctx.cfg.batch("contacts"),
        max_bytes=ctx.cfg.batch("contacts_bytes"),
        base_bytes=len(head_line.encode()),
        stream=stream,
        result=result,
        result_key=ctx.code,
    )
    return batch, head


def _add_row(
    batch: Batch,
    outcomes: Outcomes,
    head: list[str],
    row: Contact,
    fields: Mapping[str, str],
    *,
    book: str,
    book_id: int | None,
    stream: str = "sync",
    opt_in_type: str | None = None,
    with_consent: bool = False,
    pending: consent.Pending | None = None,
) -> None:
    """Hash one contact's CSV row; mark it unchanged, quarantine it, or add it to the batch.

    With ``with_consent`` the line ends with the consent cells (``pending``'s, or empty): they are
    not hashed, and a row with pending consent is sent even when its hashed cells are unchanged.
    """
    problem = contact_csv.email_problem(row.email)
    if problem:
        outcomes.fail(row.pk, f"{problem}; correct it in the store and save the customer again")
        return
    cells = contact_csv.row(row.email, list(fields.values()), opt_in_type=opt_in_type)
    hash_ = payload_hash({"book": book, "book_id": book_id, "row": dict(zip(head, cells, strict=True))})
    if pending is None and unchanged(row, hash_, stream):
        outcomes.unchanged.append(row.pk)
        return
    if with_consent:
        cells = [*cells, *(contact_csv.neutralise(c) for c in (pending.cells if pending else ("",) * 5))]
    text = contact_csv.line(cells)
    size = len(text.encode())
    if batch.too_big(size):
        outcomes.fail(
            row.pk, f"contact row is {size} bytes, over the contacts_bytes batch limit {batch.max_bytes}"
        )
        return
    batch.add(row.pk, hash_, (row.email, row.pk, text, pending.ids if pending else ()), size)


def _stream(
    stream: Stream,
    ctx: WebsiteContext,
    result: JobResult,
    values_for_page: Callable[[list[Contact]], ValuesFor],
) -> None:
    """Page through one customer/guest stream's pending rows and batch their CSV rows."""
    book, import_type = stream.book.book, stream.book.import_type
    if _book_missing(ctx, result, book, stream.toggle):
        return
    deleting = queued_contact_deletes(ctx.website.pk)
    cols = datafields.columns(stream.book.keys, ctx.cfg.data_field_mapping)
    batch, head = _csv_batch(
        ctx,
        result,
        book=book,
        import_type=import_type,
        names=[n for _, n in cols],
        opt_in=False,
        stream="sync",
    )
    for page in iter_pending(
        Contact,
        website_id=ctx.website.pk,
        page_size=ctx.cfg.batch("page"),
        extra_filter=dict(stream.pending_filter),
    ):
        outcomes = Outcomes(Contact)
        page = hold_in_flight(page, outcomes, deleting=deleting)
        values_for = values_for_page(page)
        for row in page:
            values = values_for(row)
            if isinstance(values, str):
                outcomes.skip(row.pk, values)
                continue
            if bad := datafields.problem(values, cols):
                outcomes.fail(row.pk, bad)
                continue
            _add_row(
                batch,
                outcomes,
                head,
                row,
                datafields.data_fields(values, cols),
                book=book,
                book_id=ctx.cfg.address_book(book),
            )
        outcomes.apply(result, ctx.code)
        del page, values_for, outcomes  # freed before the next page is read: one page in memory
    batch.flush()


def _subscriber_call(ctx: WebsiteContext, result: JobResult, row: Contact, mode: str, counter: str) -> None:
    """Queue a single subscriber call for the row (payload ``{"email": ...}``) and count it.

    An unsubscribe is hashed as its payload (so it is sent once); a resubscribe has its own hash,
    so the unsubscribe sent before it does not make it look unchanged.
    """
    payload = {"email": row.email}
    resubscribe = mode == ImportMode.SUBSCRIBER_RESUBSCRIBED
    single(
        website_id=ctx.website.pk,
        import_type="Subscriber",
        import_mode=mode,
        table=TABLE,
        pk=row.pk,
        payload=payload,
        stream="subscriber",
        hash_=payload_hash({"resubscribe": row.email}) if resubscribe else None,
    )
    result.add(ctx.code, counter)


def _book_missing(ctx: WebsiteContext, result: JobResult, book: str, toggle: str) -> bool:
    """Report (and return True) when the stream's address book is not configured."""
    if ctx.cfg.address_book(book) is not None:
        return False
    result.add(ctx.code, "no_address_book")
    result.errors.append(
        f"website {ctx.code}: no {book} address book is configured, so {book} are not sent; "
        f"set {book}_address_book_id in the website's configuration, or turn {toggle} off"
    )
    return True


def _sales(adapter: StoreAdapter, ctx: WebsiteContext, page: list[Contact]) -> dict[str, SalesData]:
    emails = [r.email for r in page]
    records = adapter.sales_data(emails, list(ctx.stores), ctx.cfg.sales_data_order_statuses)
    return {s.email.lower(): s for s in records}


def _customers(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    def values_for_page(page: list[Contact]) -> ValuesFor:
        customers = {c.id: c for c in adapter.customers([r.customer_id for r in page if r.customer_id])}
        sales = _sales(adapter, ctx, page)

        def values(row: Contact) -> dict[str, Any] | str:
            customer = customers.get(row.customer_id or 0)
            if customer is None:
                return "the customer no longer exists in the store"
            return datafields.customer_values(
                customer,
                sales=sales.get(row.email.lower()),
                website_name=ctx.website.name,
                store_name=ctx.store_name(_store_id(row)),
                subscriber_status=row.subscriber_status,
            )

        return values

    _stream(CUSTOMERS, ctx, result, values_for_page)


def _guests(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    def values_for_page(page: list[Contact]) -> ValuesFor:
        sales = _sales(adapter, ctx, page)
        guests = {g.email.lower(): g for g in adapter.guests([r.email for r in page], list(ctx.stores))}

        def values(row: Contact) -> dict[str, Any]:
            guest = guests.get(row.email.lower())
            return datafields.guest_values(
                sales=sales.get(row.email.lower()),
                first_name=guest.first_name if guest else "",
                last_name=guest.last_name if guest else "",
                billing=guest.billing_address if guest else None,
                delivery=guest.delivery_address if guest else None,
                website_name=ctx.website.name,
                store_name=ctx.store_name(guest.store_id if guest else None, _store_id(row)),
                subscriber_status=row.subscriber_status,
            )

        return values

    _stream(GUESTS, ctx, result, values_for_page)


def _store_id(row: Contact) -> int | None:
    store_id: int | None = getattr(row, "store_id", None)
    return store_id


def _neither(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    """Rows that are neither a customer nor a guest have nothing for the customer/guest stream."""
    n = (
        Contact.objects.filter(
            website=ctx.website,
            sync_status__in=SyncStatus.pending(),
            customer_id__isnull=True,
            is_guest=False,
        )
        .exclude(sync_status=SyncStatus.SKIPPED)
        .update(
            sync_status=SyncStatus.SKIPPED,
            sync_message="not a customer or a guest: only the subscriber stream applies",
        )
    )
    if n:
        result.add(ctx.code, "skipped", n)


def _subscribers(ctx: WebsiteContext, adapter: StoreAdapter, result: JobResult) -> None:
    book = SUBSCRIBERS.book
    if _book_missing(ctx, result, book.book, SUBSCRIBERS.toggle):
        return
    deleting = queued_contact_deletes(ctx.website.pk)
    cols = datafields.columns(book.keys, ctx.cfg.data_field_mapping)
    with_consent = consent.website_has_pending(ctx.website.pk)
    batch, head = _csv_batch(
        ctx,
        result,
        book=book.book,
        import_type=book.import_type,
        names=[n for _, n in cols],
        opt_in=True,
        stream="subscriber",
        with_consent=with_consent,
    )
    stream = "subscriber"
    for page in iter_pending(
        Contact,
        website_id=ctx.website.pk,
        page_size=ctx.cfg.batch("page"),
        status_field="subscriber_sync_status",
    ):
        outcomes = Outcomes(Contact, stream=stream)
        page = hold_in_flight(page, outcomes, stream, deleting=deleting)
        pending = consent.pending_for([r.pk for r in page]) if with_consent else {}
        for row in page:
            subscribed = row.is_subscriber and row.subscriber_status == SubscriberStatus.SUBSCRIBED
            if subscribed and row.suppressed:
                outcomes.skip(row.pk, "suppressed in dotdigital; the contact must resubscribe there")
            elif subscribed and row.suppressed_at is not None:
                # suppressed once, subscribed again in the store since: the platform takes the
                # contact back only through its resubscribe call (an import would be refused)
                _subscriber_call(ctx, result, row, ImportMode.SUBSCRIBER_RESUBSCRIBED, "resubscribes")
            elif subscribed:
                store = ctx.store(_store_id(row))
                confirm = store is not None and store.requires_confirmation
                values = datafields.subscriber_values(
                    website_name=ctx.website.name,
                    store_name=store.name if store else "",
                    subscriber_status=row.subscriber_status,
                )
                _add_row(
                    batch,
                    outcomes,
                    head,
                    row,
                    datafields.data_fields(values, cols),
                    book=book.book,
                    book_id=ctx.cfg.address_book(book.book),
                    stream=stream,
                    opt_in_type=contact_csv.OPT_IN_DOUBLE if confirm else contact_csv.OPT_IN_SINGLE,
                    with_consent=with_consent,
                    pending=pending.get(row.pk),
                )
            elif was_imported(row, stream) and not row.suppressed:
                if unchanged(row, payload_hash({"email": row.email}), stream):
                    outcomes.unchanged.append(row.pk)
                    continue
                _subscriber_call(ctx, result, row, ImportMode.SUBSCRIBER_UNSUBSCRIBE, "unsubscribes")
            else:
                outcomes.skip(row.pk, "not subscribed")
        outcomes.apply(result, ctx.code)
    batch.flush()


JOB = StreamJob(
    JOB_ID,
    SPEC_NAME,
    "Customers, guests and subscribers to their address books as CSV imports.",
    JobScope.WEBSITE,
    default_frequency=15,
    parts=((CUSTOMERS, _customers), (GUESTS, _guests), (None, _neither), (SUBSCRIBERS, _subscribers)),
    # last of the batchers: it sends the contact rows the others created in the same pass
    after=(
        "unsubscriber",
        "resubscriber",
        "orders",
        "reviews_and_wishlists",
        "abandoned_carts",
        "review_requests",
    ),
)
