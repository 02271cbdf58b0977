"""The store-event entry point: dotsync's implementation of :class:`dotsync.store.events.StoreEvents`.

A store adapter's observers report what changed in the store (:func:`dotsync.store.events.sink`, which
is :data:`SINK` once the app is ready); this module turns each report into sync-row writes: upsert a
row, mark it modified, and, for a record deleted in the store that the platform may hold
(:func:`was_sent`), queue its platform delete through the stream that owns it
(:func:`dotsync.jobs.stream.queue_delete`) or the contact operations (``Contact_Delete``,
``Contact_Email_Update``). Nothing here calls the platform.

Every row write takes plain values (ids, emails, statuses), so it knows nothing about the shop.
Each is one or two SQL statements, portable between SQLite and PostgreSQL (``INSERT … ON CONFLICT``).

Status rule for an upsert: an inserted row is ``NEW``; an existing row becomes ``MODIFIED``, except a
row that is still ``NEW`` (never sent), which stays ``NEW`` so it goes out with the next bulk import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

from dotsync.config import get_config
from dotsync.jobs import streams
from dotsync.jobs.payloads.product import collection_name
from dotsync.jobs.queue import enqueue_single, live_importers
from dotsync.jobs.stream import Collection, Stream, queue_delete
from dotsync.models import Catalog, Contact, Order, Quote, Review, Store, SyncStatus, Website, Wishlist
from dotsync.models.importer import ImportMode
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.sync import canonical_email, maybe_sent
from dotsync.store.events import StoreRef

__all__ = ["SINK", "Sink", "StoreRef"]

NEW = int(SyncStatus.NEW)
MODIFIED = int(SyncStatus.MODIFIED)


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


def customer_moved(customer_id: int, website_id: int) -> int:
    """A customer ordered in ``website_id``: drop their placeholder contact rows in other websites.

    The scope rule places a customer in the store of their last order, else the default store
    (:mod:`dotsync.store.oscar.scope`). A customer saved before any order (an account made in the
    shell or the admin, or registered on another website) got a row by that fallback. Once they order
    elsewhere, such a row is a placeholder the history backfill would never have made, so it goes,
    but only while it holds nothing: never sent on either stream, not a subscriber or guest, and no
    order of the customer in that website. A row the platform may hold stays (and stays synced).
    Set-based: one DELETE, whose conditions also exclude a row a job claimed meanwhile. Returns the
    number of rows removed.
    """
    orders_there = Order.objects.filter(customer_id=customer_id, website_id=models.OuterRef("website_id"))
    placeholders = (
        Contact.objects.filter(
            customer_id=customer_id,
            sync_status=NEW,
            importer_id__isnull=True,
            last_imported_at__isnull=True,
            subscriber_importer_id__isnull=True,
            subscriber_last_imported_at__isnull=True,
            contact_id="",
            is_subscriber=False,
            is_guest=False,
            subscriber_status__isnull=True,
        )
        .exclude(website_id=website_id)
        .exclude(models.Exists(orders_there))
    )
    deleted, _ = placeholders.delete()
    return deleted


def basket_ordered(basket_id: int, store: StoreRef) -> int:
    """A basket became an order in ``store``: its never-sent quote row moves to that store.

    The observers place a basket when its lines change, before it has an order: the request's store,
    else the owner's last order's, else the default store. The history places a basket in the
    store of the owner's last order, which is the store of the order this basket became. A row the
    platform may hold stays where it is. Returns the number of rows moved (0 or 1).
    """
    return (
        Quote.objects.filter(
            quote_id=basket_id,
            sync_status=NEW,
            importer_id__isnull=True,
            last_imported_at__isnull=True,
        )
        .exclude(website_id=store.website_id, store_id=store.store_id)
        .update(website_id=store.website_id, store_id=store.store_id)
    )


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

    :func:`dotsync.models.sync.maybe_sent` with ``any_stream=True``: a row an import carries (settled
    or not) counts, and so does a row whose status is past ``NEW``, a set subscriber importer or a
    known platform contact id.
    """
    return maybe_sent(row, any_stream=True)


def in_flight(row: SyncRow) -> list[int]:
    """The importer rows carrying ``row`` that have not settled (both streams of a contact).

    A call queued about the row's record (a delete, an email change) names them as ``after``, so the
    importer sends it only once they settle: sent earlier, the import would re-create the record.
    """
    ids = [row.importer_id, getattr(row, "subscriber_importer_id", None)]
    return sorted(live_importers(ids))


def _after(payload: dict[str, Any], after: Sequence[int]) -> dict[str, Any]:
    return {**payload, "after": list(after)} if after else payload


def queue_contact_delete(website_id: int, email: str, *, after: Sequence[int] = ()) -> None:
    """Queue a ``Contact_Delete`` for the importer (``import_type`` ``Contact``).

    ``after``: importer rows to settle first (see :func:`in_flight`).
    """
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


# --- store events that remove or re-key records ---------------------------------------------------


def customer_email_changed(customer_id: int, email: str) -> None:
    """A customer's (canonical) email is now ``email``: move their rows under other emails to it.

    Each old row takes the new email, or gives way to an existing row for it; an email update is
    queued where the platform may know the old address (after the imports carrying the row).
    """
    for old in Contact.objects.filter(customer_id=customer_id).exclude(email=email):
        if was_sent(old):
            queue_contact_email_update(
                old.website_id,  # type: ignore[attr-defined]
                old.email,
                email,
                after=in_flight(old),
            )
        if Contact.objects.filter(email=email, website_id=old.website_id).exists():  # type: ignore[attr-defined]
            old.delete()
        else:
            Contact.objects.filter(pk=old.pk).update(email=email)


def customer_deleted(customer_id: int) -> None:
    """A customer was deleted: drop their contact rows and queue a platform delete for sent ones."""
    for row in Contact.objects.filter(customer_id=customer_id):
        if was_sent(row):
            queue_contact_delete(row.website_id, row.email, after=in_flight(row))  # type: ignore[attr-defined]
        row.delete()


def subscription_removed(email: str, store: StoreRef) -> None:
    """The website's last subscription of ``email`` was deleted.

    A customer or guest contact is unsubscribed (and the platform told); a subscriber-only contact is
    deleted, and a platform delete queued if it was sent.
    """
    row = Contact.objects.filter(email=canonical_email(email), website_id=store.website_id).first()
    if row is None:
        return
    if row.customer_id is not None or row.is_guest:
        upsert_subscription(
            email, store, status=SubscriberStatus.UNSUBSCRIBED, customer_id=row.customer_id, changed_at=None
        )
        return
    if was_sent(row) or row.subscriber_last_imported_at:
        queue_contact_delete(row.website_id, row.email, after=in_flight(row))  # type: ignore[attr-defined]
    row.delete()


def review_withdrawn(review_id: int, customer_id: int | None) -> None:
    """A review is no longer approved: drop an unsent row, mark a sent one modified (the job deletes it).

    The author's contact is marked modified too (review count).
    """
    Review.objects.filter(review_id=review_id, sync_status=NEW).delete()
    withdrawn = Review.objects.filter(review_id=review_id).exclude(sync_status=MODIFIED)
    if withdrawn.update(sync_status=MODIFIED, updated_at=timezone.now()) and customer_id is not None:
        touch_customer_contacts(customer_id)


DELETABLE: dict[str, Stream] = {s.name: s for s in streams.ALL if isinstance(s.target, Collection)}
"""The insight streams by name: an observer reports their deleted store records to :func:`record_deleted`."""


def record_deleted(stream: str, key: int, *, owner_email: Callable[[], str | None]) -> bool:
    """A store record of ``stream`` was deleted: drop its row, queue its platform delete if it was sent.

    The delete goes through the stream (:func:`~dotsync.jobs.stream.queue_delete`, the jobs' payload).
    A record whose owner has no email keeps the account-scoped delete it always had.

    Returns:
        True when a row was found.
    """
    target = DELETABLE[stream]
    row: Any = target.model._default_manager.filter(**{target.source_id: key}).first()
    if row is None:
        return False
    if was_sent(row):
        email = owner_email() or None
        after = in_flight(row)
        if email:
            queue_delete(target, row.website_id, key=str(key), email=email, after=after)
        else:
            queue_insight_delete(row.website_id, target.collection.name, str(key), after=after)
    row.delete()
    return True


def product_deleted(product_id: int) -> None:
    """A product was deleted: drop its catalog row and queue a delete in every catalog it was sent to."""
    row = Catalog.objects.filter(product_id=product_id).first()
    if row is None:
        return
    if was_sent(row):
        after = in_flight(row)
        for website in Website.objects.all():
            if get_config(website).catalog_level == "store":
                collections = [
                    collection_name(website.code, s.code) for s in Store.objects.filter(website=website)
                ]
            else:
                collections = [collection_name()]
            for collection in collections:
                queue_delete(
                    streams.CATALOG,
                    website.pk,
                    key=str(product_id),
                    email=None,
                    collection=collection,
                    after=after,
                )
    row.delete()


class Sink:
    """:class:`dotsync.store.events.StoreEvents` over this module's functions (same names, same arguments).

    Each method looks its function up when called, so a test that patches ``events.upsert_order``
    patches what the observers call.
    """

    def upsert_contact(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_contact`."""
        upsert_contact(*args, **kwargs)

    def touch_customer_contacts(self, *args: Any, **kwargs: Any) -> int:
        """:func:`touch_customer_contacts`."""
        return touch_customer_contacts(*args, **kwargs)

    def basket_ordered(self, *args: Any, **kwargs: Any) -> int:
        """:func:`basket_ordered`."""
        return basket_ordered(*args, **kwargs)

    def customer_moved(self, *args: Any, **kwargs: Any) -> int:
        """:func:`customer_moved`."""
        return customer_moved(*args, **kwargs)

    def customer_email_changed(self, *args: Any, **kwargs: Any) -> None:
        """:func:`customer_email_changed`."""
        customer_email_changed(*args, **kwargs)

    def customer_deleted(self, *args: Any, **kwargs: Any) -> None:
        """:func:`customer_deleted`."""
        customer_deleted(*args, **kwargs)

    def upsert_subscription(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_subscription`."""
        upsert_subscription(*args, **kwargs)

    def subscription_removed(self, *args: Any, **kwargs: Any) -> None:
        """:func:`subscription_removed`."""
        subscription_removed(*args, **kwargs)

    def upsert_order(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_order`."""
        upsert_order(*args, **kwargs)

    def upsert_quote(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_quote`."""
        upsert_quote(*args, **kwargs)

    def set_quote_active(self, *args: Any, **kwargs: Any) -> int:
        """:func:`set_quote_active`."""
        return set_quote_active(*args, **kwargs)

    def upsert_wishlist(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_wishlist`."""
        upsert_wishlist(*args, **kwargs)

    def upsert_review(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_review`."""
        upsert_review(*args, **kwargs)

    def review_withdrawn(self, *args: Any, **kwargs: Any) -> None:
        """:func:`review_withdrawn`."""
        review_withdrawn(*args, **kwargs)

    def upsert_catalog(self, *args: Any, **kwargs: Any) -> None:
        """:func:`upsert_catalog`."""
        upsert_catalog(*args, **kwargs)

    def record_deleted(self, *args: Any, **kwargs: Any) -> bool:
        """:func:`record_deleted`."""
        return record_deleted(*args, **kwargs)

    def product_deleted(self, *args: Any, **kwargs: Any) -> None:
        """:func:`product_deleted`."""
        product_deleted(*args, **kwargs)


SINK = Sink()
"""The store-event sink :meth:`dotsync.apps.DotsyncConfig.ready` installs."""
