"""Helpers for the batching-job tests: enable websites, create sync rows for shop entities, read batches."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import timezone

from dotsync.jobs.queue import Envelope
from dotsync.jobs.settle import settle_imported
from dotsync.models import (
    Contact,
    Importer,
    Order,
    Quote,
    Review,
    Store,
    StoreConfig,
    SyncStatus,
    Website,
    WebsiteConfig,
    Wishlist,
)

BOOKS = {"main": (101, 102, 103), "outlet": (201, 202, 203)}


def store_settings(store: Store, **overrides: Any) -> None:
    """Set a store's settings overrides (replacing any it had)."""
    StoreConfig.objects.update_or_create(store=store, defaults={"overrides": overrides})


def enable(
    website: Website,
    *,
    books: bool = True,
    api_user: str | None = None,
    password: str = "secret-password",
    **fields: Any,
) -> WebsiteConfig:
    """Enable dotsync for a website with credentials, address books and any field overrides."""
    cfg = WebsiteConfig.objects.get(website=website)
    cfg.enabled = True
    cfg.api_user = api_user or f"apiuser-{website.code}@apiconnector.com"
    cfg.set_api_password(password)
    if books:
        cfg.customers_address_book_id, cfg.subscribers_address_book_id, cfg.guests_address_book_id = BOOKS[
            website.code
        ]
    for key, value in fields.items():
        setattr(cfg, key, value)
    cfg.save()
    return cfg


def contact(
    store: Store,
    email: str,
    *,
    customer: Any = None,
    guest: bool = False,
    subscriber_status: int | None = None,
    subscriber_pending: bool = False,
    status: int = SyncStatus.NEW,
) -> Contact:
    """An ``email_contact`` row as the observers would create it."""
    return Contact.objects.create(
        website_id=store.website_id,
        store=store,
        email=email,
        customer_id=customer.pk if customer is not None else None,
        is_guest=guest,
        is_subscriber=subscriber_status == 1,
        subscriber_status=subscriber_status,
        subscriber_sync_status=SyncStatus.NEW if subscriber_pending else SyncStatus.IMPORTED,
        sync_status=status,
    )


def store_of(oscar_order: Any, default: Store) -> Store:
    """The dotsync store of an Oscar order (by its site), else ``default``."""
    return Store.objects.filter(site_id=oscar_order.site_id).first() or default


def order_row(oscar_order: Any, store: Store) -> Order:
    """An ``email_order`` row for an Oscar order."""
    return Order.objects.create(
        website_id=store.website_id,
        store=store,
        order_id=oscar_order.pk,
        order_number=oscar_order.number,
        order_status=oscar_order.status,
        customer_id=oscar_order.user_id,
        email=oscar_order.email,
        quote_id=oscar_order.basket_id,
    )


def quote_row(basket: Any, store: Store) -> Quote:
    """An ``email_quote`` row for an Oscar basket."""
    return Quote.objects.create(
        website_id=store.website_id,
        store=store,
        quote_id=basket.pk,
        customer_id=basket.owner_id,
        email=basket.owner.email if basket.owner_id else "",
        item_count=basket.num_items,
    )


def wishlist_row(wishlist: Any, store: Store) -> Wishlist:
    """An ``email_wishlist`` row for an Oscar wishlist."""
    return Wishlist.objects.create(
        website_id=store.website_id,
        store=store,
        wishlist_id=wishlist.pk,
        customer_id=wishlist.owner_id,
        item_count=wishlist.lines.count(),
    )


def review_row(review: Any, store: Store) -> Review:
    """An ``email_review`` row for an Oscar review."""
    return Review.objects.create(
        website_id=store.website_id, store=store, review_id=review.pk, customer_id=review.user_id
    )


def batches(import_type: str | None = None, **filters: Any) -> list[tuple[Importer, Envelope]]:
    """Registered importer rows (oldest first) with their parsed envelopes."""
    qs = Importer.objects.order_by("id").filter(**filters)
    if import_type:
        qs = qs.filter(import_type=import_type)
    return [(row, Envelope.load(row)) for row in qs]


def csv_rows(payload: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The header and the rows (email -> column -> value) of a contact batch's CSV."""
    reader = csv.reader(io.StringIO(payload["csv"]))
    header = next(reader)
    return header, {cells[0]: dict(zip(header, cells, strict=True)) for cells in reader}


def settle_all() -> None:
    """Confirm every registered batch as the importer would after the platform's success."""
    for row in Importer.objects.filter(import_status=Importer.Status.PENDING):
        settle_imported(row)
        row.import_status = Importer.Status.IMPORTED
        row.import_finished = timezone.now()
        row.save(update_fields=["import_status", "import_finished"])


def imported_contact(store: Store, email: str, **kwargs: Any) -> Contact:
    """A contact row already confirmed imported (its contact exists in the platform)."""
    row = contact(store, email, status=SyncStatus.IMPORTED, **kwargs)
    Contact.objects.filter(pk=row.pk).update(last_imported_at=timezone.now(), payload_hash="x" * 64)
    row.refresh_from_db()
    return row
