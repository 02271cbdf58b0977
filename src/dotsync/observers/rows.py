"""Store-agnostic writes the observers make: upsert a sync row, mark it modified, queue a delete.

Every function here takes plain values (ids, emails, statuses), so it knows nothing about the shop.
Each is one or two SQL statements, portable between SQLite and PostgreSQL (``INSERT … ON CONFLICT``).

Status rule for an upsert: an inserted row is ``NEW``; an existing row becomes ``MODIFIED``, except a
row that is still ``NEW`` (never sent), which stays ``NEW`` so it goes out with the next bulk import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

from dotsync.models import Catalog, Contact, Order, Quote, Review, SyncStatus, Wishlist
from dotsync.models.importer import ImportMode
from dotsync.models.sync import canonical_email

NEW = int(SyncStatus.NEW)
MODIFIED = int(SyncStatus.MODIFIED)


@dataclass(frozen=True)
class StoreRef:
    """A dotsync store and the website it belongs to."""

    store_id: int
    website_id: int


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _touched(table: str, column: str = "sync_status") -> str:
    """SQL for ``column`` of a row hit again: ``NEW`` stays ``NEW``, anything else becomes ``MODIFIED``."""
    col = f"{_q(table)}.{_q(column)}"
    return f"CASE WHEN {col} = {NEW} THEN {NEW} ELSE {MODIFIED} END"


def upsert(
    model: type[models.Model],
    keys: Sequence[str],
    values: Mapping[str, Any],
    updates: Mapping[str, str],
) -> None:
    """Insert one row of ``model``, or update the row with the same ``keys``.

    Args:
        model: the sync-table model (only its table and field definitions are used).
        keys: the unique key columns for ``ON CONFLICT``.
        values: column -> value for the insert; every other column gets the model field's default.
        updates: column -> SQL expression applied on conflict; ``excluded.<col>`` is the value that
            would have been inserted and ``<table>.<col>`` the existing one.
    """
    table = model._meta.db_table
    row: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        col = str(field.column)
        value = values[col] if col in values else field.get_default()
        row[col] = field.get_db_prep_save(value, connection)
    cols = ", ".join(_q(c) for c in row)
    marks = ", ".join(["%s"] * len(row))
    sets = ", ".join(f"{_q(c)} = {expr}" for c, expr in updates.items())
    conflict = ", ".join(_q(k) for k in keys)
    action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
    sql = f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) {action}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(row.values()))


def _excluded(column: str) -> str:
    return f"excluded.{_q(column)}"


def _common_updates(table: str) -> dict[str, str]:
    return {"sync_status": _touched(table), "updated_at": _excluded("updated_at")}


def upsert_contact(
    email: str,
    store: StoreRef,
    *,
    customer_id: int | None = None,
    is_guest: bool = False,
    now: datetime | None = None,
) -> None:
    """Upsert the (email, website) contact and mark it for the customer/guest sync.

    A customer id, when given, is attached to an existing row (a guest or subscriber who
    registered). The guest flag is only ever set, never cleared: like the history, a customer who
    also ordered as a guest keeps it.
    """
    if not email:
        return
    email = canonical_email(email)
    now = now or timezone.now()
    table = Contact._meta.db_table
    updates = _common_updates(table)
    updates["customer_id"] = f"COALESCE({_excluded('customer_id')}, {_q(table)}.{_q('customer_id')})"
    guest = _excluded("is_guest")
    updates["is_guest"] = f"CASE WHEN {guest} THEN {guest} ELSE {_q(table)}.{_q('is_guest')} END"
    upsert(
        Contact,
        ("email", "website_id"),
        {
            "email": email,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "customer_id": customer_id,
            "is_guest": is_guest,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def touch_customer_contacts(customer_id: int, *, except_website: int | None = None) -> int:
    """Mark every contact row of a customer modified (optionally skipping one website); returns the count."""
    now = timezone.now()
    qs = Contact.objects.filter(customer_id=customer_id)
    if except_website is not None:
        qs = qs.exclude(website_id=except_website)
    return qs.filter(sync_status__gt=NEW).update(sync_status=MODIFIED, updated_at=now)


def upsert_subscription(
    email: str,
    store: StoreRef,
    *,
    status: int,
    customer_id: int | None,
    changed_at: datetime | None,
) -> None:
    """Record a newsletter subscription change on the (email, website) contact.

    Subscribed: ``is_subscriber`` is set and ``last_subscribed_at`` moves to the change time. A
    platform suppression is cleared only when this subscription change is newer than the
    suppression (``suppressed_at``), so re-saving an old subscription never resurrects a contact the
    platform suppressed. Any other status clears ``is_subscriber``. ``subscriber_sync_status`` becomes
    ``MODIFIED`` (``NEW`` on insert), except for an unsubscribe of an already suppressed contact: the
    platform told us, so there is nothing to send back.
    """
    from dotsync.models.newsletter import SubscriberStatus

    if not email:
        return
    email = canonical_email(email)
    now = timezone.now()
    at = changed_at or now
    subscribed = status == SubscriberStatus.SUBSCRIBED
    table = Contact._meta.db_table
    t = _q(table)
    ex = _excluded
    updates = {
        "store_id": ex("store_id"),
        "customer_id": f"COALESCE({ex('customer_id')}, {t}.{_q('customer_id')})",
        "is_subscriber": ex("is_subscriber"),
        "subscriber_status": ex("subscriber_status"),
        "updated_at": ex("updated_at"),
    }
    if subscribed:
        newer = (
            f"({t}.{_q('suppressed_at')} IS NULL OR {ex('last_subscribed_at')} > {t}.{_q('suppressed_at')})"
        )
        updates["last_subscribed_at"] = ex("last_subscribed_at")
        updates["suppressed"] = f"CASE WHEN {newer} THEN {ex('suppressed')} ELSE {t}.{_q('suppressed')} END"
        updates["subscriber_sync_status"] = _touched(table, "subscriber_sync_status")
    else:
        updates["subscriber_sync_status"] = (
            f"CASE WHEN {t}.{_q('suppressed')} THEN {t}.{_q('subscriber_sync_status')} "
            f"ELSE {_touched(table, 'subscriber_sync_status')} END"
        )
    upsert(
        Contact,
        ("email", "website_id"),
        {
            "email": email,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "customer_id": customer_id,
            "is_subscriber": subscribed,
            "subscriber_status": status,
            "suppressed": False,
            "last_subscribed_at": at if subscribed else None,
            "subscriber_sync_status": NEW,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def upsert_order(
    order_id: int,
    store: StoreRef,
    *,
    number: str,
    status: str,
    customer_id: int | None,
    email: str,
    quote_id: int | None,
) -> None:
    """Upsert the ``email_order`` row of an order and mark it modified (status copied every time)."""
    now = timezone.now()
    table = Order._meta.db_table
    updates = _common_updates(table)
    for col in (
        "order_status",
        "order_number",
        "customer_id",
        "email",
        "order_updated_at",
        "website_id",
        "store_id",
    ):
        updates[col] = _excluded(col)
    upsert(
        Order,
        ("order_id",),
        {
            "order_id": order_id,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "order_number": number,
            "order_status": status,
            "quote_id": quote_id,
            "customer_id": customer_id,
            "email": email,
            "order_updated_at": now,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def upsert_quote(
    quote_id: int,
    store: StoreRef,
    *,
    customer_id: int | None,
    email: str,
    item_count: int,
    is_active: bool,
    move_store: bool,
) -> None:
    """Upsert the ``email_quote`` row of a basket with ``quote_updated_at`` = now, marked modified.

    ``move_store`` re-scopes an existing row to ``store`` (the store came from a request, so it is
    authoritative); otherwise an existing row keeps its store.
    """
    now = timezone.now()
    table = Quote._meta.db_table
    updates = _common_updates(table)
    for col in ("customer_id", "email", "item_count", "is_active", "quote_updated_at"):
        updates[col] = _excluded(col)
    if move_store:
        updates["website_id"] = _excluded("website_id")
        updates["store_id"] = _excluded("store_id")
    upsert(
        Quote,
        ("quote_id",),
        {
            "quote_id": quote_id,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "customer_id": customer_id,
            "email": email,
            "item_count": item_count,
            "is_active": is_active,
            "quote_updated_at": now,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def set_quote_active(quote_id: int, is_active: bool) -> int:
    """Update the active flag of an existing quote row (a basket submitted or merged); returns the count."""
    return (
        Quote.objects.filter(quote_id=quote_id)
        .exclude(is_active=is_active)
        .update(is_active=is_active, updated_at=timezone.now())
    )


def upsert_wishlist(wishlist_id: int, store: StoreRef, *, customer_id: int, item_count: int) -> None:
    """Upsert the ``email_wishlist`` row with its current item count, marked modified."""
    now = timezone.now()
    table = Wishlist._meta.db_table
    updates = _common_updates(table)
    updates["item_count"] = _excluded("item_count")
    updates["customer_id"] = _excluded("customer_id")
    upsert(
        Wishlist,
        ("wishlist_id",),
        {
            "wishlist_id": wishlist_id,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "customer_id": customer_id,
            "item_count": item_count,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def upsert_review(
    review_id: int, store: StoreRef, *, customer_id: int | None, move_store: bool = False
) -> None:
    """Upsert the ``email_review`` row of an approved review, marked modified.

    ``move_store`` re-scopes an existing row (the store came from the review's request).
    """
    now = timezone.now()
    updates = _common_updates(Review._meta.db_table)
    if move_store:
        updates["website_id"] = _excluded("website_id")
        updates["store_id"] = _excluded("store_id")
    upsert(
        Review,
        ("review_id",),
        {
            "review_id": review_id,
            "website_id": store.website_id,
            "store_id": store.store_id,
            "customer_id": customer_id,
            "created_at": now,
            "updated_at": now,
        },
        updates,
    )


def upsert_catalog(product_ids: Sequence[int]) -> None:
    """Upsert the ``email_catalog`` rows of these products, marked modified."""
    now = timezone.now()
    for product_id in dict.fromkeys(product_ids):
        upsert(
            Catalog,
            ("product_id",),
            {"product_id": product_id, "created_at": now, "updated_at": now},
            _common_updates(Catalog._meta.db_table),
        )


SyncRow = Contact | Order | Quote | Wishlist | Review | Catalog


def was_sent(row: SyncRow) -> bool:
    """True when the platform may hold this row's record, so deleting it there needs a call.

    A row an import carries (settled or not) counts: its status is past ``NEW``, or its importer
    column is set.
    """
    return (
        bool(row.last_imported_at)
        or row.sync_status != NEW
        or row.importer_id is not None
        or getattr(row, "subscriber_importer_id", None) is not None
        or bool(getattr(row, "contact_id", ""))
    )


def in_flight(row: SyncRow) -> list[int]:
    """The importer rows carrying ``row`` that have not settled (both streams of a contact).

    A call queued about the row's record (a delete, an email change) names them as ``after``, so the
    importer sends it only once they settle: sent earlier, the import would re-create the record.
    """
    from dotsync.jobs.queue import live_importers

    ids = [row.importer_id, getattr(row, "subscriber_importer_id", None)]
    return sorted(live_importers(ids))


def _after(payload: dict[str, Any], after: Sequence[int]) -> dict[str, Any]:
    return {**payload, "after": list(after)} if after else payload


def queue_contact_delete(website_id: int, email: str, *, after: Sequence[int] = ()) -> None:
    """Queue a ``Contact_Delete`` for the importer (``import_type`` ``Contact``).

    ``after``: importer rows to settle first (see :func:`in_flight`).
    """
    from dotsync.jobs.queue import enqueue_single

    enqueue_single(
        website_id=website_id,
        import_type="Contact",
        import_mode=ImportMode.CONTACT_DELETE,
        payload=_after({"email": email}, after),
    )


def queue_contact_email_update(
    website_id: int, old_email: str, email: str, *, after: Sequence[int] = ()
) -> None:
    """Queue a ``Contact_Email_Update`` (a customer changed their email address).

    ``after``: importer rows to settle first (see :func:`in_flight`).
    """
    from dotsync.jobs.queue import enqueue_single

    enqueue_single(
        website_id=website_id,
        import_type="Contact",
        import_mode=ImportMode.CONTACT_EMAIL_UPDATE,
        payload=_after({"old_email": old_email, "email": email}, after),
    )


def queue_insight_delete(
    website_id: int, collection: str, key: str, *, email: str | None = None, after: Sequence[int] = ()
) -> None:
    """Queue a ``Single_Delete`` of one insight record (``import_type`` = the collection name).

    Args:
        website_id: whose account holds the record.
        collection: ``Wishlist``, ``Orders``, ``Catalog_Default`` or ``Catalog_<website>_<store>``.
        key: the record key in the collection.
        email: the contact the record belongs to (contact-scoped collections), else None.
        after: importer rows to settle first (see :func:`in_flight`).
    """
    from dotsync.jobs.queue import enqueue_single

    enqueue_single(
        website_id=website_id,
        import_type=collection,
        import_mode=ImportMode.SINGLE_DELETE,
        payload=_after(
            {
                "collection": collection,
                "scope": "contact" if email else "account",
                "key": key,
                "email": email,
            },
            after,
        ),
    )
