"""The store port: the small protocol every store adapter implements.

An adapter reads entities by id and streams history; dotsync's observers and jobs never touch the
shop's models directly. The reference implementation is :mod:`dotsync.store.oscar`. A new adapter
proves itself by enabling :mod:`dotsync.testing.contract` in a few lines.

History for the install backfill is described by :class:`HistorySource`: a SQL ``SELECT`` whose
columns are named after the target sync table's columns, restricted to a source-id range, so the
install can run ``INSERT … SELECT`` in chunks without moving rows through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from dotsync.store.records import Customer, Order, Product, Quote, Review, Subscriber, Wishlist

HISTORY_TABLES: tuple[str, ...] = (
    "email_contact",
    "email_order",
    "email_quote",
    "email_wishlist",
    "email_review",
    "email_catalog",
)
"""Sync tables that install fills from history, in the order it fills them."""


@dataclass(frozen=True)
class HistorySource:
    """How to read one sync table's history from the store's database.

    Attributes:
        table: the target sync table, e.g. ``"email_order"``.
        columns: target column names, in the order ``sql`` selects them.
        sql: a ``SELECT`` with two ``%s`` placeholders for the inclusive-exclusive source-id range
            (``lo <= id < hi``) followed by ``params``.
        params: extra parameters that come after the two range bounds.
        id_bounds_sql: ``SELECT MIN(id), MAX(id)`` over the source table, for chunking and progress.
        conflict_columns: the unique key in ``table`` used for ``ON CONFLICT DO NOTHING``.
    """

    table: str
    columns: tuple[str, ...]
    sql: str
    params: tuple[object, ...]
    id_bounds_sql: str
    conflict_columns: tuple[str, ...]


@runtime_checkable
class StoreAdapter(Protocol):
    """What dotsync needs from a shop."""

    name: str
    """Short adapter name, e.g. ``"oscar"``."""

    # --- entities by id (missing ids are simply absent from the result) -------------------------
    def customers(self, ids: Iterable[int]) -> Iterator[Customer]:
        """Customers with these ids."""
        ...

    def subscribers(self, ids: Iterable[int]) -> Iterator[Subscriber]:
        """Newsletter subscriptions with these ids."""
        ...

    def orders(self, ids: Iterable[int]) -> Iterator[Order]:
        """Orders with these ids, with lines, addresses, totals and status history."""
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

    # --- history ----------------------------------------------------------------------------------
    def history(self, table: str) -> HistorySource:
        """The history source for a sync table in :data:`HISTORY_TABLES`."""
        ...

    # --- scope ------------------------------------------------------------------------------------
    def store_for_site(self, site_id: int | None) -> int | None:
        """The dotsync store id bound to the shop's site id, if any."""
        ...

    # --- write-back -------------------------------------------------------------------------------
    def unsubscribe(
        self, emails: Sequence[str], store_ids: Sequence[int], at: datetime, *, unless_changed_after: datetime
    ) -> Mapping[str, bool]:
        """Mark these emails unsubscribed in the newsletter table of these stores.

        A subscription changed in the store after ``unless_changed_after`` is left alone (the
        customer re-subscribed after the import started). Returns email -> whether it changed.
        """
        ...
