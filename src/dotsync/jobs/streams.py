"""Every sync stream, declared once (:class:`~dotsync.jobs.stream.Stream`).

Customers, guests, subscribers, orders, baskets, reviews, wishlists and the catalogue.

Adding an insight collection is one declaration here, its payload builder in
:mod:`dotsync.jobs.payloads`, and its name in one job's parts (``insight_sync.parts(...)``); a new
sync table also adds its model to :mod:`dotsync.models.sync` (and ``make migrations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dotsync.config import WebsiteSettings
from dotsync.jobs.contact_gate import release_held
from dotsync.jobs.payloads import datafields
from dotsync.jobs.payloads import order as order_payload
from dotsync.jobs.payloads import product as product_payload
from dotsync.jobs.payloads import quote as quote_payload
from dotsync.jobs.payloads import review as review_payload
from dotsync.jobs.payloads import wishlist as wishlist_payload
from dotsync.jobs.status_lines import SYNC_LABELS, TableReport
from dotsync.jobs.stream import Collection, ContactBook, GateSpec, Grid, Stream
from dotsync.models import Catalog, Contact, Order, Quote, Review, SyncState, Wishlist
from dotsync.models.sync import SUBSCRIBER_COLUMNS

SCOPED = ("website", "store")
"""The scope columns of a grid."""

CUSTOMERS = Stream(
    name="customers",
    model=Contact,
    toggle="sync_customers",
    target=ContactBook("customers", "Customer", tuple(datafields.CUSTOMER_KEYS)),
    pending_filter={"customer_id__isnull": False},
    status_line=TableReport("email_contact", Contact, "sync_status", SYNC_LABELS),
    grid=Grid(
        list_display=(
            "email",
            *SCOPED,
            "customer_id",
            "is_guest",
            "is_subscriber",
            "suppressed",
            "sync_status",
            "subscriber_sync_status",
            "last_imported_at",
        ),
        list_filter=(
            "website",
            "sync_status",
            "subscriber_sync_status",
            "is_guest",
            "is_subscriber",
            "suppressed",
        ),
        search_fields=("email",),
        select_related=SCOPED,
    ),
    after_confirmed=release_held,
)

GUESTS = Stream(
    name="guests",
    model=Contact,
    toggle="sync_guests",
    target=ContactBook("guests", "Guest", tuple(datafields.GUEST_KEYS)),
    pending_filter={"is_guest": True, "customer_id__isnull": True},
    after_confirmed=release_held,
)
"""Shares ``email_contact``'s status line and grid with :data:`CUSTOMERS`."""

SUBSCRIBERS = Stream(
    name="subscribers",
    model=Contact,
    toggle="sync_subscribers",
    target=ContactBook("subscribers", "Subscriber", tuple(datafields.SUBSCRIBER_KEYS)),
    columns=SUBSCRIBER_COLUMNS,
    status_line=TableReport("email_contact.subscriber", Contact, "subscriber_sync_status", SYNC_LABELS),
    after_confirmed=release_held,
)


def _order_gone(rec: Any | None, cfg: WebsiteSettings) -> str:
    if rec is None:
        return "the order no longer exists in the store"
    if rec.status not in cfg.order_statuses:
        allowed = ", ".join(sorted(set(cfg.order_statuses)))
        return f"status {rec.status!r} is not synced (order_statuses: {allowed})"
    return ""


def _order_record(rec: Any, *, email: str, store_name: str, website_name: str) -> dict[str, Any]:
    return order_payload.order_record(rec, store_name=store_name, website_name=website_name)


def _source_key(source_id: str) -> Any:
    def key(row: Any, rec: Any | None) -> str:
        return str(getattr(row, source_id))

    return key


ORDERS = Stream(
    name="orders",
    model=Order,
    toggle="sync_orders",
    target=Collection(order_payload.COLLECTION, order_payload.COLLECTION_TYPE),
    source_id="order_id",
    read=lambda adapter, ids: adapter.orders(ids),
    build=_order_record,
    gone=_order_gone,
    key=lambda row, rec: row.order_number or (rec.number if rec else str(row.order_id)),
    problem=lambda rec: rec.problem,  # unreadable in the store (an amount its column cannot hold)
    gate=GateSpec(
        what="order",
        keyed_to="their contact's email",
        held_as="order",
        defer=lambda row, cfg: row.order_status in cfg.order_statuses,
        guest_orders=True,
    ),
    status_line=TableReport("email_order", Order, "sync_status", SYNC_LABELS),
    grid=Grid(
        list_display=("order_number", *SCOPED, "order_status", "email", "sync_status", "last_imported_at"),
        list_filter=("website", "sync_status", "order_status"),
        search_fields=("order_number", "email"),
        select_related=SCOPED,
    ),
)

QUOTES = Stream(
    name="quotes",
    model=Quote,
    toggle="sync_quotes",
    target=Collection(quote_payload.COLLECTION, quote_payload.COLLECTION_TYPE),
    source_id="quote_id",
    read=lambda adapter, ids: adapter.quotes(ids),
    build=quote_payload.quote_record,
    gone=lambda rec, cfg: (
        "the basket no longer exists" if rec is None else "" if rec.lines else "the basket is empty"
    ),
    key=_source_key("quote_id"),
    gate=GateSpec(
        what="basket",
        keyed_to="their contact's email",
        held_as="basket",
        defer=lambda row, cfg: row.item_count > 0,
    ),
    status_line=TableReport("email_quote", Quote, "sync_status", SYNC_LABELS),
    grid=Grid(
        list_display=(
            "quote_id",
            *SCOPED,
            "email",
            "item_count",
            "is_active",
            "quote_updated_at",
            "sync_status",
        ),
        list_filter=("website", "sync_status", "is_active"),
        search_fields=("email",),
        select_related=SCOPED,
    ),
)

WISHLISTS = Stream(
    name="wishlists",
    model=Wishlist,
    toggle="sync_wishlists",
    target=Collection(wishlist_payload.COLLECTION, wishlist_payload.COLLECTION_TYPE),
    source_id="wishlist_id",
    read=lambda adapter, ids: adapter.wishlists(ids),
    build=wishlist_payload.wishlist_record,
    gone=lambda rec, cfg: (
        "the wishlist no longer exists" if rec is None else "" if rec.items else "the wishlist is empty"
    ),
    key=_source_key("wishlist_id"),
    gate=GateSpec(what="wishlist", keyed_to="their owner's email", held_as="wishlist"),
    status_line=TableReport("email_wishlist", Wishlist, "sync_status", SYNC_LABELS),
    grid=Grid(
        list_display=("wishlist_id", *SCOPED, "customer_id", "item_count", "sync_status", "last_imported_at"),
        list_filter=("website", "sync_status"),
        select_related=SCOPED,
    ),
)

REVIEWS = Stream(
    name="reviews",
    model=Review,
    toggle="sync_reviews",
    target=Collection(review_payload.COLLECTION, review_payload.COLLECTION_TYPE),
    source_id="review_id",
    read=lambda adapter, ids: adapter.reviews(ids),
    build=review_payload.review_record,
    gone=lambda rec, cfg: (
        "the review no longer exists" if rec is None else "" if rec.approved else "the review is not approved"
    ),
    key=_source_key("review_id"),
    gate=GateSpec(what="review", keyed_to="the reviewer's email", held_as="anonymous review"),
    status_line=TableReport("email_review", Review, "sync_status", SYNC_LABELS),
    grid=Grid(
        list_display=("review_id", *SCOPED, "customer_id", "sync_status", "last_imported_at"),
        list_filter=("website", "sync_status"),
        select_related=SCOPED,
    ),
)

CATALOG = Stream(
    name="catalog",
    model=Catalog,
    toggle="sync_catalog",
    target=Collection(product_payload.DEFAULT_COLLECTION, product_payload.COLLECTION_TYPE, scope="account"),
    source_id="product_id",
    read=lambda adapter, ids: adapter.products(ids),
    build=product_payload.product_record,
    gone=lambda rec, cfg: (
        "the product no longer exists" if rec is None else "" if rec.is_public else "not public"
    ),
    key=_source_key("product_id"),
    status_line=TableReport("email_catalog", Catalog, "sync_status", SYNC_LABELS, scoped=False),
    grid=Grid(
        list_display=("product_id", "sync_status", "last_imported_at", "updated_at"),
        list_filter=("sync_status",),
    ),
)
"""The catalogue is global (no website): one row per product, sent to every catalogue target
(``Catalog_Default`` per account, or one collection per store; :mod:`dotsync.jobs.catalog`)."""

ALL: tuple[Stream, ...] = (CUSTOMERS, GUESTS, SUBSCRIBERS, ORDERS, QUOTES, WISHLISTS, REVIEWS, CATALOG)
"""Every stream, in ``dotsync status`` and admin order."""


def sync_models() -> tuple[type[SyncState], ...]:
    """The sync tables, each once, in :data:`ALL` order."""
    return tuple(dict.fromkeys(s.model for s in ALL))


def status_lines() -> list[TableReport]:
    """The streams' lines of ``dotsync status``, in :data:`ALL` order."""
    return [s.status_line for s in ALL if s.status_line is not None]


def of_table(table: str) -> list[Stream]:
    """The streams whose sync table is ``table`` (``email_contact`` has three)."""
    return [s for s in ALL if s.table == table]


def after_confirmed(table: str, pks: Sequence[int]) -> int:
    """Run the ``after_confirmed`` hooks of ``table``'s streams (each hook once) for confirmed rows.

    Called by settling when the platform confirms an import of ``pks`` (rows of ``table``).
    Returns the hooks' total (e.g. the records released).
    """
    hooks = dict.fromkeys(s.after_confirmed for s in of_table(table) if s.after_confirmed is not None)
    return sum(hook(pks) for hook in hooks)
