"""The store port: the small protocol every store adapter implements.

An adapter reads entities by id in batches, describes its history as SQL, writes unsubscribes back
and reports store events through :mod:`dotsync.store.events`; dotsync's jobs never touch the shop's
models directly. The reference implementation is :mod:`dotsync.store.oscar`. A new adapter proves
itself by enabling :mod:`dotsync.testing.contract` in a few lines (docs/store-adapters.md).

Newsletter subscriptions are dotsync's own table (:mod:`dotsync.store.newsletter`), so the port has no
subscriber read; which store a shop site belongs to is the adapter's own business (its observers and
history), so the port has no site lookup either.

History for the install backfill is described by :class:`HistorySource`: a SQL ``SELECT`` whose
columns are the target sync table's columns, restricted to a source-id range, so the install runs
``INSERT … SELECT … ON CONFLICT`` in chunks without moving rows through Python. Entity reads stream
in keyset pages through :meth:`StoreAdapter.ids` and :func:`stream`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from dotsync.store.records import (
    Customer,
    Guest,
    Order,
    Product,
    Quote,
    Review,
    SalesData,
    Wishlist,
)

HISTORY_TABLES: tuple[str, ...] = (
    "email_contact",
    "email_order",
    "email_quote",
    "email_wishlist",
    "email_review",
    "email_catalog",
)
"""Sync tables that install fills from history, in the order it fills them."""

ENTITIES: tuple[str, ...] = (
    "customers",
    "orders",
    "quotes",
    "wishlists",
    "reviews",
    "products",
)
"""Entity kinds with integer ids: the batch-read method names."""


@dataclass(frozen=True)
class HistorySource:
    """One ``SELECT`` that fills (part of) a sync table from the store's history.

    A table may have several sources, applied in order: ``email_contact`` is filled from customers,
    then guests, then subscribers; a later source merges into rows an earlier one created through
    ``update_columns`` (``ON CONFLICT … DO UPDATE``). A ``DO UPDATE`` source never selects two rows
    with the same ``conflict_columns`` in one id range (PostgreSQL refuses to update a row twice
    in one statement); a ``DO NOTHING`` source may (two users sharing an email), and one of them
    is kept.

    The SQL uses named placeholders (``%(lo)s``, ``%(hi)s`` and the keys of ``params``) and is
    portable to SQLite and PostgreSQL through Django's cursor. Run a chunk with::

        cursor.execute(source.insert_sql(), source.bind(lo, hi))

    Attributes:
        table: the target sync table, e.g. ``"email_contact"``.
        name: what the source reads, e.g. ``"customers"``, ``"guests"``, ``"subscribers"``.
        columns: target column names, in the order ``select_sql`` selects them.
        select_sql: the ``SELECT`` over the store's tables, restricted to ``%(lo)s <= id < %(hi)s``
            on the driving table's id.
        params: the other named parameters of ``select_sql`` (defaults, ``now``, scope fallbacks).
        id_bounds_sql: ``SELECT MIN(id), MAX(id)`` over the driving table (no parameters), for
            chunking and progress.
        conflict_columns: the unique key of ``table`` for ``ON CONFLICT``.
        update_columns: columns overwritten from the new row on conflict (``DO UPDATE``); empty
            means ``DO NOTHING``.
        update_where: an optional condition for that update, over the existing row (named by
            ``table``) and ``excluded``; uses only ``params``.
    """

    table: str
    name: str
    columns: tuple[str, ...]
    select_sql: str
    params: Mapping[str, Any]
    id_bounds_sql: str
    conflict_columns: tuple[str, ...]
    update_columns: tuple[str, ...] = ()
    update_where: str = ""

    def insert_sql(self, quote_name: Callable[[str], str] | None = None) -> str:
        """The full ``INSERT … SELECT … ON CONFLICT`` statement for one id range.

        Args:
            quote_name: identifier quoting; the default connection's ``ops.quote_name`` when omitted.
        """
        if quote_name is None:
            from django.db import connection

            quote_name = connection.ops.quote_name
        q = quote_name
        cols = ", ".join(q(c) for c in self.columns)
        conflict = ", ".join(q(c) for c in self.conflict_columns)
        if self.update_columns:
            sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in self.update_columns)
            action = f"DO UPDATE SET {sets}" + (f" WHERE {self.update_where}" if self.update_where else "")
        else:
            action = "DO NOTHING"
        return f"INSERT INTO {q(self.table)} ({cols}) {self.select_sql} ON CONFLICT ({conflict}) {action}"

    def bind(self, lo: int, hi: int) -> dict[str, Any]:
        """Parameters for the id range ``lo <= id < hi``."""
        return {**self.params, "lo": lo, "hi": hi}


@runtime_checkable
class StoreAdapter(Protocol):
    """What dotsync needs from a shop.

    Batch reads take ids (or emails) and yield canonical records; ids that do not exist are simply
    absent from the result, and the order of results is not significant. Every batch read runs a
    bounded number of queries, whatever the batch size.
    """

    name: str
    """Short adapter name, e.g. ``"oscar"``."""

    # --- entities by id ------------------------------------------------------------------------------
    def customers(self, ids: Iterable[int]) -> Iterator[Customer]:
        """Customers with these ids, with default billing and delivery addresses."""
        ...

    def orders(self, ids: Iterable[int]) -> Iterator[Order]:
        """Orders with these ids, with lines, addresses, totals, payment and status history."""
        ...

    def quotes(self, ids: Iterable[int]) -> Iterator[Quote]:
        """Baskets with these ids, with lines priced through the shop's strategy."""
        ...

    def wishlists(self, ids: Iterable[int]) -> Iterator[Wishlist]:
        """Wishlists with these ids, with items."""
        ...

    def reviews(self, ids: Iterable[int]) -> Iterator[Review]:
        """Reviews with these ids."""
        ...

    def products(self, ids: Iterable[int]) -> Iterator[Product]:
        """Products with these ids, priced through the shop's strategy."""
        ...

    def guests(self, emails: Iterable[str], store_ids: Sequence[int]) -> Iterator[Guest]:
        """Guests (orders without an account) among these emails in these stores, one per email."""
        ...

    def sales_data(
        self, emails: Iterable[str], store_ids: Sequence[int], statuses: Sequence[str]
    ) -> Iterator[SalesData]:
        """Per-email order, review and basket aggregates within these stores.

        Only orders whose status is in ``statuses`` count. Emails with no orders, reviews or
        baskets are absent.
        """
        ...

    def orders_reaching_status(
        self, status: str, after: datetime, until: datetime
    ) -> list[tuple[int, datetime]]:
        """Orders now in ``status`` that reached it in ``(after, until]``: ``(order id, when)``.

        When is the order's latest status change to ``status``, else (no such change) when it was placed.
        The ``review_requests`` job counts its delay from it.
        """
        ...

    # --- history --------------------------------------------------------------------------------------
    def history(self, table: str) -> tuple[HistorySource, ...]:
        """The history sources for a sync table in :data:`HISTORY_TABLES`, in the order to apply them."""
        ...

    # --- write-back -----------------------------------------------------------------------------------
    def unsubscribe(
        self, emails: Sequence[str], store_ids: Sequence[int], at: datetime, *, unless_changed_after: datetime
    ) -> Mapping[str, bool]:
        """Mark these emails unsubscribed in the newsletter table of these stores.

        A subscription changed in the store after ``unless_changed_after`` is left alone (the
        customer re-subscribed after the import started). Returns email -> whether a row changed;
        emails with no subscription in these stores are absent.
        """
        ...
