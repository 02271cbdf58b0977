"""The store-event port: what a store adapter's observers report, and the one dotsync entry point.

An adapter's observers (Oscar's: :mod:`dotsync.store.oscar.observers`) read the store once its
transaction has committed and report what changed through :func:`sink`. They never touch sync rows,
the importer queue or the platform themselves: the sink (dotsync's implementation is
:data:`dotsync.jobs.events.SINK`, installed by :meth:`dotsync.apps.DotsyncConfig.ready`) marks rows
``NEW``/``MODIFIED``, decides whether the platform may hold a deleted record, and queues its delete
through the stream that owns it.

Values crossing the port are plain: ids, emails, statuses, a :class:`StoreRef`. This module imports
nothing of dotsync above the models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoreRef:
    """A dotsync store and the website it belongs to."""

    store_id: int
    website_id: int


class StoreEvents(Protocol):
    """What a store's observers report. Every method is idempotent and runs inside the store's commit."""

    def upsert_contact(
        self,
        email: str,
        store: StoreRef,
        *,
        customer_id: int | None = None,
        is_guest: bool = False,
        now: datetime | None = None,
    ) -> None:
        """A customer or a guest (an order's buyer) of ``store`` was saved."""

    def touch_customer_contacts(self, customer_id: int, *, except_website: int | None = None) -> int:
        """Something a customer's contact data shows changed (their rows in every other website)."""

    def customer_email_changed(self, customer_id: int, email: str) -> None:
        """A customer's email is now ``email``: their rows under another email follow it."""

    def basket_ordered(self, basket_id: int, store: StoreRef) -> int:
        """A basket became an order in ``store``: its never-sent quote row follows the order."""

    def customer_moved(self, customer_id: int, website_id: int) -> int:
        """A customer ordered in ``website_id``: their never-sent placeholder rows in other websites go."""

    def customer_deleted(self, customer_id: int) -> None:
        """A customer was deleted."""

    def upsert_subscription(
        self,
        email: str,
        store: StoreRef,
        *,
        status: int,
        customer_id: int | None,
        changed_at: datetime | None,
    ) -> None:
        """A newsletter subscription of ``store`` changed."""

    def subscription_removed(self, email: str, store: StoreRef) -> None:
        """The website's last subscription of ``email`` was deleted."""

    def upsert_order(
        self,
        order_id: int,
        store: StoreRef,
        *,
        number: str,
        status: str,
        customer_id: int | None,
        email: str,
        quote_id: int | None,
    ) -> None:
        """An order was placed or changed (status, refund, cancellation)."""

    def upsert_quote(
        self,
        quote_id: int,
        store: StoreRef,
        *,
        customer_id: int | None,
        email: str,
        item_count: int,
        is_active: bool,
        move_store: bool,
    ) -> None:
        """A basket's lines changed."""

    def set_quote_active(self, quote_id: int, is_active: bool) -> int:
        """A basket was submitted, merged or frozen (or reopened)."""

    def upsert_wishlist(
        self, wishlist_id: int, store: StoreRef, *, customer_id: int, item_count: int
    ) -> None:
        """A wishlist's lines changed."""

    def upsert_review(
        self, review_id: int, store: StoreRef, *, customer_id: int | None, move_store: bool = False
    ) -> None:
        """A review is approved (new or saved)."""

    def review_withdrawn(self, review_id: int, customer_id: int | None) -> None:
        """A review is no longer approved."""

    def upsert_catalog(self, product_ids: Sequence[int]) -> None:
        """Products (or their stock) changed."""

    def record_deleted(self, stream: str, key: int, *, owner_email: Callable[[], str | None]) -> bool:
        """A store record of an insight stream (``quotes``, ``wishlists``, ``reviews``) was deleted.

        ``owner_email`` reads the owner's email; it is called only when a platform delete is queued.
        Returns True when dotsync had a row for it.
        """

    def product_deleted(self, product_id: int) -> None:
        """A product was deleted."""


_sink: StoreEvents | None = None


def install(sink: StoreEvents) -> None:
    """Make ``sink`` receive every store event (dotsync's app does this when Django is ready)."""
    global _sink
    _sink = sink


def sink() -> StoreEvents:
    """The installed store-event sink.

    Raises:
        RuntimeError: no sink is installed (the dotsync app is not ready).
    """
    if _sink is None:
        raise RuntimeError(
            "dotsync app not ready: no store-event sink is installed (add 'dotsync' to INSTALLED_APPS "
            "and call django.setup())"
        )
    return _sink
