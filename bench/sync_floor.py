"""The serialization floor of a first sync, and the fewest API calls its data needs.

The floor reads the same sync-table rows in the same keyset pages as the batching jobs (every row
of the website, whatever its status, so it can run before or after a sync), makes the same adapter
reads per page, builds every record with the same payload builders (CSV rows for contacts, insight
records for the rest) and encodes each batch's body as it would be sent (CSV text -> UTF-8 bytes;
insight body -> JSON bytes). No platform, no database writes, no hashing, no queue: what any sync
of this data must at least do in Python.

While encoding it counts records and bytes per import stream, from which :func:`minimum_calls`
derives the fewest imports the batch limits allow, hence the fewest API calls.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

CONTACT_STREAMS = ("Customer", "Guest", "Subscriber")


@dataclass
class Stream:
    """Records of one import stream (website x import type) and the batches they fill.

    Attributes:
        key: ``<website>:<import type>``.
        account: the API user whose imports these are.
        contact: a CSV contact import (needs a fault-report call) rather than an insight import.
        max_records: records per import.
        max_bytes: bytes per import (body limit).
        base_bytes: fixed bytes of every body.
        encode: turns the pending items into the body bytes.
    """

    key: str
    account: str
    contact: bool
    max_records: int
    max_bytes: int
    base_bytes: int
    encode: Callable[[list[Any]], bytes]
    records: int = 0
    bytes: int = 0
    batches: int = 0
    body_bytes: int = 0
    items: list[Any] = field(default_factory=list)
    pending_bytes: int = 0

    def add(self, item: Any, size: int) -> None:
        """Add one record, encoding the batch first when the record would break a limit."""
        if self.items and (
            len(self.items) + 1 > self.max_records
            or self.base_bytes + self.pending_bytes + size > self.max_bytes
        ):
            self.flush()
        self.items.append(item)
        self.pending_bytes += size
        self.records += 1
        self.bytes += size

    def flush(self) -> None:
        """Encode what is pending as one import body."""
        if self.items:
            self.body_bytes += len(self.encode(self.items))
            self.batches += 1
            self.items, self.pending_bytes = [], 0

    @property
    def fewest_imports(self) -> int:
        """The fewest imports that can carry these records within both limits."""
        if not self.records:
            return 0
        by_records = math.ceil(self.records / self.max_records)
        by_bytes = math.ceil(self.bytes / (self.max_bytes - self.base_bytes))
        return max(by_records, by_bytes)


def _pages(model: Any, page_size: int, **filters: Any) -> Iterator[list[Any]]:
    """Every row matching ``filters`` in keyset pages of ``page_size`` (as the jobs read them)."""
    pk = model._meta.pk.attname
    last = 0
    while True:
        page = list(model._default_manager.filter(**filters, **{f"{pk}__gt": last}).order_by(pk)[:page_size])
        if not page:
            return
        yield page
        last = getattr(page[-1], pk)


def _csv_stream(
    ctx: Any, import_type: str, keys: Any, *, opt_in: bool
) -> tuple[Stream, list[tuple[str, str]]]:
    from dotsync.jobs.payloads import contact_csv, datafields

    cols = datafields.columns(keys, ctx.cfg.data_field_mapping)
    head_line = contact_csv.line(contact_csv.header([n for _, n in cols], opt_in=opt_in))

    def encode(lines: list[str]) -> bytes:
        return (head_line + "".join(lines)).encode("utf-8")

    stream = Stream(
        key=f"{ctx.code}:{import_type}",
        account=ctx.cfg.api_user,
        contact=True,
        max_records=ctx.cfg.batch("contacts"),
        max_bytes=ctx.cfg.batch("contacts_bytes"),
        base_bytes=len(head_line.encode()),
        encode=encode,
    )
    return stream, cols


def _insight_stream(
    ctx: Any, collection: str, collection_type: str, *, scope: str = "contact", records_key: str = "insight"
) -> Stream:
    def body(records: list[Any]) -> dict[str, Any]:
        return {"collection": collection, "scope": scope, "type": collection_type, "records": records}

    def encode(records: list[Any]) -> bytes:
        return json.dumps(body(records)).encode("utf-8")

    return Stream(
        key=f"{ctx.code}:{collection}",
        account=ctx.cfg.api_user,
        contact=False,
        max_records=ctx.cfg.batch(records_key),
        max_bytes=ctx.cfg.batch("insight_bytes"),
        base_bytes=len(json.dumps(body([]))),
        encode=encode,
    )


def _add_line(stream: Stream, email: str, values: list[str], opt_in_type: str | None = None) -> None:
    from dotsync.jobs.payloads import contact_csv

    if contact_csv.email_problem(email):
        return
    text = contact_csv.line(contact_csv.row(email, values, opt_in_type=opt_in_type))
    stream.add(text, len(text.encode()))


def _add_record(stream: Stream, record: dict[str, Any]) -> None:
    from dotsync.jobs.payloads import insight

    if insight.problem(record["json"]):
        return
    stream.add(record, insight.size(record))


def _contacts(ctx: Any, adapter: Any, out: dict[str, Stream]) -> None:
    from dotsync.jobs.payloads import datafields
    from dotsync.models import Contact
    from dotsync.models.newsletter import SubscriberStatus

    page_size = ctx.cfg.batch("page")
    stores = list(ctx.stores)

    def sales(page: list[Any]) -> dict[str, Any]:
        records = adapter.sales_data([r.email for r in page], stores, ctx.cfg.sales_data_order_statuses)
        return {s.email.lower(): s for s in records}

    stream, cols = _csv_stream(ctx, "Customer", datafields.CUSTOMER_KEYS, opt_in=False)
    out[stream.key] = stream
    for page in _pages(Contact, page_size, website_id=ctx.website.pk, customer_id__isnull=False):
        customers = {c.id: c for c in adapter.customers([r.customer_id for r in page])}
        by_email = sales(page)
        for row in page:
            customer = customers.get(row.customer_id)
            if customer is None:
                continue
            values = datafields.customer_values(
                customer,
                sales=by_email.get(row.email.lower()),
                website_name=ctx.website.name,
                store_name=ctx.store_name(getattr(row, "store_id", None)),
                subscriber_status=row.subscriber_status,
            )
            _add_line(stream, row.email, list(datafields.data_fields(values, cols).values()))
    stream.flush()

    stream, cols = _csv_stream(ctx, "Guest", datafields.GUEST_KEYS, opt_in=False)
    out[stream.key] = stream
    for page in _pages(
        Contact, page_size, website_id=ctx.website.pk, is_guest=True, customer_id__isnull=True
    ):
        by_email = sales(page)
        guests = {g.email.lower(): g for g in adapter.guests([r.email for r in page], stores)}
        for row in page:
            guest = guests.get(row.email.lower())
            values = datafields.guest_values(
                sales=by_email.get(row.email.lower()),
                first_name=guest.first_name if guest else "",
                last_name=guest.last_name if guest else "",
                billing=guest.billing_address if guest else None,
                delivery=guest.delivery_address if guest else None,
                website_name=ctx.website.name,
                store_name=ctx.store_name(guest.store_id if guest else None, getattr(row, "store_id", None)),
                subscriber_status=row.subscriber_status,
            )
            _add_line(stream, row.email, list(datafields.data_fields(values, cols).values()))
    stream.flush()

    from dotsync.jobs.payloads import contact_csv

    stream, cols = _csv_stream(ctx, "Subscriber", datafields.SUBSCRIBER_KEYS, opt_in=True)
    out[stream.key] = stream
    for page in _pages(Contact, page_size, website_id=ctx.website.pk):
        for row in page:
            if (
                not (row.is_subscriber and row.subscriber_status == SubscriberStatus.SUBSCRIBED)
                or row.suppressed
            ):
                continue
            store = ctx.store(getattr(row, "store_id", None))
            confirm = store is not None and store.requires_confirmation
            values = datafields.subscriber_values(
                website_name=ctx.website.name,
                store_name=store.name if store else "",
                subscriber_status=row.subscriber_status,
            )
            _add_line(
                stream,
                row.email,
                list(datafields.data_fields(values, cols).values()),
                contact_csv.OPT_IN_DOUBLE if confirm else contact_csv.OPT_IN_SINGLE,
            )
    stream.flush()


def _insights(ctx: Any, adapter: Any, out: dict[str, Stream]) -> None:
    from dotsync.jobs.payloads import order, quote, review, wishlist
    from dotsync.models import Order, Quote, Review, Wishlist

    page_size = ctx.cfg.batch("page")
    names = {"website_name": ctx.website.name}
    statuses = set(ctx.cfg.order_statuses)

    stream = out.setdefault(
        f"{ctx.code}:{order.COLLECTION}", _insight_stream(ctx, order.COLLECTION, order.COLLECTION_TYPE)
    )
    for page in _pages(Order, page_size, website_id=ctx.website.pk):
        records = {o.id: o for o in adapter.orders([r.order_id for r in page])}
        for row in page:
            rec = records.get(row.order_id)
            if rec is None or rec.status not in statuses or not (rec.email or row.email):
                continue
            store = ctx.store_name(rec.store_id, getattr(row, "store_id", None))
            _add_record(stream, order.order_record(rec, store_name=store, **names))
    stream.flush()

    kinds: list[tuple[Any, Any, str, Callable[..., Any], Callable[[Any], bool], Callable[..., Any]]] = [
        (Quote, quote, "quote_id", adapter.quotes, lambda r: bool(r.lines), quote.quote_record),
        (Review, review, "review_id", adapter.reviews, lambda r: bool(r.approved), review.review_record),
        (
            Wishlist,
            wishlist,
            "wishlist_id",
            adapter.wishlists,
            lambda r: bool(r.items),
            wishlist.wishlist_record,
        ),
    ]
    for model, module, id_attr, read, wanted, build in kinds:
        stream = _insight_stream(ctx, module.COLLECTION, module.COLLECTION_TYPE)
        out[stream.key] = stream
        for page in _pages(model, page_size, website_id=ctx.website.pk):
            records = {r.id: r for r in read([getattr(row, id_attr) for row in page])}
            for row in page:
                rec = records.get(getattr(row, id_attr))
                email = (rec.email if rec else "") or getattr(row, "email", "")
                if rec is None or not wanted(rec) or not email:
                    continue
                store = ctx.store_name(rec.store_id, getattr(row, "store_id", None))
                _add_record(stream, build(rec, email=email, store_name=store, **names))
        stream.flush()


def _catalog(adapter: Any, out: dict[str, Stream]) -> None:
    from dotsync.jobs import catalog
    from dotsync.jobs.base import JobResult
    from dotsync.jobs.payloads import product
    from dotsync.models import Catalog

    targets = catalog.targets(JobResult("floor"))
    if not targets:
        return
    streams = []
    for t in targets:
        stream = _insight_stream(
            t.ctx, t.collection, product.COLLECTION_TYPE, scope="account", records_key="catalog"
        )
        out[stream.key] = stream
        streams.append((t, stream))
    page_size = min(t.ctx.cfg.batch("page") for t in targets)
    for page in _pages(Catalog, page_size):
        records = {p.id: p for p in adapter.products([row.product_id for row in page])}
        for row in page:
            rec = records.get(row.product_id)
            if rec is None or not rec.is_public:
                continue
            for t, stream in streams:
                _add_record(stream, product.product_record(rec, domain=t.domain))
    for _, stream in streams:
        stream.flush()


@dataclass
class FloorResult:
    """What one floor run did.

    Attributes:
        seconds: wall time.
        streams: per import stream: records, bytes, batches encoded, fewest imports.
        accounts: API users involved.
    """

    seconds: float
    streams: dict[str, Stream]
    accounts: set[str]

    @property
    def records(self) -> int:
        """Records encoded."""
        return sum(s.records for s in self.streams.values())


def run_floor() -> FloorResult:
    """Read and encode everything a first sync sends, for every enabled website; timed."""
    from dotsync.jobs.base import websites_for
    from dotsync.jobs.batching import WebsiteContext
    from dotsync.store.registry import get_adapter

    started = time.perf_counter()
    adapter = get_adapter()
    streams: dict[str, Stream] = {}
    accounts: set[str] = set()
    for website, cfg in websites_for(None):
        ctx = WebsiteContext.load(website, cfg)
        accounts.add(cfg.api_user)
        _contacts(ctx, adapter, streams)
        _insights(ctx, adapter, streams)
    _catalog(adapter, streams)
    return FloorResult(time.perf_counter() - started, streams, accounts)


def minimum_calls(floor: FloorResult) -> dict[str, int]:
    """The fewest API calls a first sync of this data can make.

    Per account: 1 account-info call (region discovery). Per import (the fewest the record and byte
    limits allow, per stream): 1 call to start it and 1 status poll that finds it done; a contact
    (CSV) import also needs 1 call for its fault report (suppressed or rejected addresses).
    """
    imports = sum(s.fewest_imports for s in floor.streams.values())
    contact_imports = sum(s.fewest_imports for s in floor.streams.values() if s.contact)
    accounts = len(floor.accounts)
    return {
        "accounts": accounts,
        "imports": imports,
        "contact_imports": contact_imports,
        "calls": accounts + 2 * imports + contact_imports,
    }
