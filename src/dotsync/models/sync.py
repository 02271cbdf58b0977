"""The sync tables: one row per store entity that dotsync keeps in step with dotdigital.

Each row carries a :class:`SyncStatus` (new, modified, importing, imported, failed, skipped), the
time it was last confirmed imported, and the hash of the payload last sent, so unchanged records
are never sent twice. Observers only ever set ``new``/``modified``; jobs move rows on from there,
and only the importer marks a row ``imported``, after the platform confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def canonical_email(email: str) -> str:
    """The form ``email_contact.email`` stores: lower-cased, as the platform matches emails.

    ``Foo@Example.com`` and ``foo@example.com`` are one platform contact, so they are one row per
    website; every write and every lookup of ``email_contact`` by email goes through this.
    """
    return email.lower()


class SyncStatus(models.IntegerChoices):
    """Where a sync row stands. ``NEW`` and ``MODIFIED`` together are "pending"."""

    NEW = 0, "new"
    MODIFIED = 1, "modified"
    IMPORTING = 2, "importing"
    IMPORTED = 3, "imported"
    FAILED = 4, "failed"
    SKIPPED = 5, "skipped"

    @classmethod
    def pending(cls) -> tuple[int, int]:
        """The statuses that mean "needs sync"."""
        return (cls.NEW.value, cls.MODIFIED.value)


class HoldReason(models.TextChoices):
    """Why a pending row is held back from its batch (``hold_reason``). ``NONE`` when it is not held.

    The row's ``sync_message`` says the same in words for people; code filters on this column only,
    so rewording a message never changes behaviour.
    """

    NONE = "", "not held"
    WAITING_CONTACT = "waiting_contact", "waiting for its contact"
    CONTACT_SUPPRESSED = "contact_suppressed", "its contact is suppressed"
    CONTACT_FAILED = "contact_failed", "its contact failed to import"
    IN_FLIGHT = "in_flight", "an import carrying it has not settled"


@dataclass(frozen=True)
class StateColumns:
    """The column names of one sync stream's state on a sync table.

    Every table has the ``sync`` stream (:data:`SYNC_COLUMNS`); ``email_contact`` also has the
    ``subscriber`` stream (:data:`SUBSCRIBER_COLUMNS`).
    """

    status: str
    hash: str
    importer: str
    imported_at: str

    def __getitem__(self, key: str) -> str:
        """``cols["status"]``: the mapping spelling older callers use."""
        value: str = getattr(self, key)
        return value


SYNC_COLUMNS = StateColumns("sync_status", "payload_hash", "importer_id", "last_imported_at")
SUBSCRIBER_COLUMNS = StateColumns(
    status="subscriber_sync_status",
    hash="subscriber_payload_hash",
    importer="subscriber_importer_id",
    imported_at="subscriber_last_imported_at",
)
COLUMNS: dict[str, StateColumns] = {"sync": SYNC_COLUMNS, "subscriber": SUBSCRIBER_COLUMNS}
"""State columns by stream key (the ``stream`` of an importer envelope)."""


def maybe_sent(row: Any, columns: StateColumns = SYNC_COLUMNS, *, any_stream: bool = False) -> bool:
    """True when the platform may hold this row's record, so removing it there needs a call.

    The one definition of "was this record ever sent?": it was confirmed imported once, or an import
    carried it whose outcome was never recorded on the row (its importer column is still set). A
    retire step (delete, unsubscribe) is queued for such a row, never skipped: the calls are
    idempotent, and a record created by an import that settled after the row changed would otherwise
    stay on the platform for good.

    ``any_stream=True`` (store events: a row deleted in the store) also counts a row whose status is
    past ``NEW``, a set subscriber importer, or a known platform ``contact_id``: a record being
    removed must not be missed by a narrower reading of one stream.
    """
    if getattr(row, columns.imported_at) is not None or getattr(row, columns.importer) is not None:
        return True
    if not any_stream:
        return False
    return (
        row.sync_status != SyncStatus.NEW
        or getattr(row, "subscriber_importer_id", None) is not None
        or bool(getattr(row, "contact_id", ""))
    )


class SyncState(models.Model):
    """Columns every sync table shares (abstract).

    ``hold_reason`` says why a pending row is held back (:class:`HoldReason`), and ``requeue_count``
    how many times the importer put it back in the queue after its import lost it; both are reset
    whenever ``sync_message`` is cleared.
    """

    sync_status = models.SmallIntegerField(choices=SyncStatus.choices, default=SyncStatus.NEW)
    last_imported_at = models.DateTimeField(null=True, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True, default="")
    sync_message = models.CharField(max_length=255, blank=True, default="")
    hold_reason = models.CharField(
        max_length=32, choices=HoldReason.choices, blank=True, default=HoldReason.NONE
    )
    requeue_count = models.PositiveSmallIntegerField(
        default=0, help_text="times the importer re-queued this row after its import lost it"
    )
    importer_id = models.IntegerField(
        null=True, blank=True, help_text="email_importer row carrying this record"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


def _scope() -> tuple[models.ForeignKey, models.ForeignKey]:  # type: ignore[type-arg]
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    return website, store


class Contact(SyncState):
    """``email_contact``: one row per email per website.

    ``sync_status`` drives the customer/guest import; ``subscriber_sync_status`` drives the
    subscriber address-book import, which is a separate stream (a subscribed customer is in both).
    ``email`` is stored in its :func:`canonical_email` form; a unique index on ``LOWER(email)`` per
    website keeps case variants out even if a writer forgot.
    """

    email_contact_id = models.AutoField(primary_key=True)
    website, store = _scope()
    email = models.CharField(max_length=255)
    customer_id = models.IntegerField(null=True, blank=True)
    is_guest = models.BooleanField(default=False)
    contact_id = models.CharField(max_length=32, blank=True, default="", help_text="dotdigital contact id")
    is_subscriber = models.BooleanField(default=False)
    subscriber_status = models.SmallIntegerField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)
    suppressed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="when the platform suppressed the contact; an older subscription never clears it",
    )
    last_subscribed_at = models.DateTimeField(null=True, blank=True)
    subscriber_sync_status = models.SmallIntegerField(choices=SyncStatus.choices, default=SyncStatus.IMPORTED)
    subscriber_payload_hash = models.CharField(max_length=64, blank=True, default="")
    subscriber_importer_id = models.IntegerField(null=True, blank=True)
    subscriber_last_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_contact"
        constraints = [
            models.UniqueConstraint(fields=["email", "website"], name="email_contact_email_website_uniq"),
            models.UniqueConstraint(Lower("email"), "website", name="email_contact_email_ci_uniq"),
        ]
        indexes = [
            models.Index(fields=["website", "sync_status", "customer_id"], name="email_contact_customer_sel"),
            models.Index(fields=["website", "is_guest", "sync_status"], name="email_contact_guest_sel"),
            models.Index(
                fields=["website", "is_subscriber", "subscriber_sync_status"],
                name="email_contact_subscriber_sel",
            ),
            models.Index(fields=["customer_id"], name="email_contact_customer_id"),
            models.Index(fields=["importer_id"], name="email_contact_importer"),
            models.Index(fields=["subscriber_importer_id"], name="email_contact_sub_importer"),
        ]

    def __str__(self) -> str:
        return f"{self.email} @ website {self.website_id}"


class Order(SyncState):
    """``email_order``: one row per store order."""

    email_order_id = models.AutoField(primary_key=True)
    website, store = _scope()
    order_id = models.IntegerField(unique=True)
    order_number = models.CharField(max_length=128, blank=True, default="")
    order_status = models.CharField(max_length=255, blank=True, default="")
    quote_id = models.IntegerField(null=True, blank=True)
    customer_id = models.IntegerField(null=True, blank=True)
    email = models.CharField(max_length=255, blank=True, default="")
    order_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_order"
        indexes = [
            models.Index(fields=["website", "sync_status", "email_order_id"], name="email_order_sel"),
            models.Index(fields=["email", "website"], name="email_order_email"),
            models.Index(fields=["importer_id"], name="email_order_importer"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_number or self.order_id}"


class Quote(SyncState):
    """``email_quote``: one row per basket (Magento 1's quote table), with its last change time."""

    website, store = _scope()
    quote_id = models.IntegerField(unique=True)
    customer_id = models.IntegerField(null=True, blank=True)
    email = models.CharField(max_length=255, blank=True, default="")
    item_count = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    quote_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_quote"
        indexes = [
            models.Index(fields=["website", "sync_status", "id"], name="email_quote_sel"),
            models.Index(fields=["is_active", "quote_updated_at"], name="email_quote_updated"),
            models.Index(fields=["importer_id"], name="email_quote_importer"),
        ]

    def __str__(self) -> str:
        return f"quote {self.quote_id}"


class Wishlist(SyncState):
    """``email_wishlist``: one row per wishlist."""

    website, store = _scope()
    wishlist_id = models.IntegerField(unique=True)
    customer_id = models.IntegerField(null=True, blank=True)
    item_count = models.IntegerField(default=0)

    class Meta:
        db_table = "email_wishlist"
        indexes = [
            models.Index(fields=["website", "sync_status", "id"], name="email_wishlist_sel"),
            models.Index(fields=["importer_id"], name="email_wishlist_importer"),
        ]

    def __str__(self) -> str:
        return f"wishlist {self.wishlist_id}"


class Review(SyncState):
    """``email_review``: one row per approved product review."""

    website, store = _scope()
    review_id = models.IntegerField(unique=True)
    customer_id = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "email_review"
        indexes = [
            models.Index(fields=["website", "sync_status", "id"], name="email_review_sel"),
            models.Index(fields=["importer_id"], name="email_review_importer"),
        ]

    def __str__(self) -> str:
        return f"review {self.review_id}"


class Catalog(SyncState):
    """``email_catalog``: one row per product. The catalogue is global, so it has no scope."""

    product_id = models.IntegerField(unique=True)

    class Meta:
        db_table = "email_catalog"
        indexes = [
            models.Index(fields=["sync_status", "id"], name="email_catalog_sel"),
            models.Index(fields=["importer_id"], name="email_catalog_importer"),
        ]

    def __str__(self) -> str:
        return f"product {self.product_id}"
