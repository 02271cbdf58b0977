"""Contact-scoped insight records wait until their contact is in the platform.

The platform rejects insight records for unknown contacts (``ContactEmailDoesNotExist``), and the
Magento connector's answer — send only orders whose contact id is known, flag the rest processed —
loses them. Here a record whose ``email_contact`` row has never been imported stays pending with
``sync_message`` "waiting for contact import" and goes out on the first run after the contact's
import is confirmed. Orders also make sure that row exists: a guest order creates (or flags) the
guest's row, so the next ``contacts`` run sends it, and a customer's basket, wishlist or review
makes sure the customer's row exists in the record's website. A record without a customer whose
email will never be a contact of the website (an anonymous review) is skipped with the reason
(:meth:`ContactGate.hold`), so ``sync all`` converges instead of leaving it pending forever. So is
a record whose contact failed to import (the platform rejected it, e.g. as an invalid email): it is
skipped with :data:`CONTACT_FAILED` and the contact's reason, and released when the contact imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Lower
from django.utils import timezone

from dotsync.accounts import WebsiteContext
from dotsync.jobs.batching import Outcomes
from dotsync.models import Contact, HoldReason, Order, Quote, Review, SyncStatus, Wishlist
from dotsync.models.sync import canonical_email

WAITING = "waiting for contact import"
SUPPRESSED = "the contact is suppressed on the platform; not sent while it stays suppressed"
CONTACT_FAILED = "its contact failed to import; sent once the contact is imported"
"""Reason ending of a record skipped because its contact row is ``FAILED`` (rejected, e.g. an invalid
email): it would otherwise wait forever. :func:`release_held` sends it when the contact is imported
(after the customer fixes the email, or ``dotsync retry --failed``)."""

_Row = TypeVar("_Row", bound=Any)


@dataclass(slots=True)
class GateRow:
    """The columns of an ``email_contact`` row the gate reads (values, not a model instance)."""

    pk: int
    email: str
    customer_id: int | None
    is_guest: bool
    sync_status: int
    subscriber_sync_status: int
    sync_message: str
    suppressed: bool
    contact_id: str
    imported: bool
    """An import of the contact was confirmed once (``last_imported_at`` or its subscriber twin is set)."""


_COLUMNS = (
    "pk",
    "email",
    "customer_id",
    "is_guest",
    "sync_status",
    "subscriber_sync_status",
    "sync_message",
    "suppressed",
    "contact_id",
)
_IMPORTED = ExpressionWrapper(
    Q(last_imported_at__isnull=False) | Q(subscriber_last_imported_at__isnull=False),
    output_field=BooleanField(),
)


def _read(ctx: WebsiteContext, emails: list[str]) -> Iterator[GateRow]:
    """The gate's columns of these emails' contact rows in the website (one query; no model instances)."""
    rows = Contact.objects.filter(website=ctx.website, email__in=emails).annotate(_imported=_IMPORTED)
    for values in rows.values_list(*_COLUMNS, "_imported"):
        yield GateRow(*values)


@dataclass
class ContactGate:
    """The ``email_contact`` rows of one page's emails in one website.

    Rows read are :class:`GateRow` s (a first sync reads one per insight record, so model instances
    cost a tenth of its time); rows :meth:`ensure` creates are :class:`Contact` s, with the same
    attributes.
    """

    ctx: WebsiteContext
    rows: dict[str, GateRow | Contact]
    created: dict[str, Contact] = field(default_factory=dict)

    @classmethod
    def load(cls, ctx: WebsiteContext, emails: Iterable[str]) -> ContactGate:
        """Read the contact rows of these emails (one query)."""
        wanted = list({canonical_email(e) for e in emails if e})
        rows: dict[str, GateRow | Contact] = {}
        if wanted:
            for contact in _read(ctx, wanted):
                rows[canonical_email(contact.email)] = contact
        return cls(ctx, rows)

    def extend(self, emails: Iterable[str]) -> None:
        """Also read the contact rows of these emails (one query for those not read yet)."""
        wanted = list({canonical_email(e) for e in emails if e and canonical_email(e) not in self.rows})
        if wanted:
            for contact in _read(self.ctx, wanted):
                self.rows[canonical_email(contact.email)] = contact

    def surely_waits(self, email: str) -> bool:
        """True when this email's contact is not in the platform yet but is queued to be sent.

        Its record would only wait (with the plain :data:`WAITING` message), whatever the record
        says, so the job need not read it from the store yet (a first sync reads every order once
        instead of twice).
        """
        row = self.rows.get(email.lower()) if email else None
        if row is None or self.ready(email):
            return False
        if row.sync_status not in (SyncStatus.NEW, SyncStatus.MODIFIED, SyncStatus.IMPORTING):
            return False
        cfg = self.ctx.cfg
        if row.customer_id is not None:
            return cfg.sync_customers
        return row.is_guest and cfg.sync_guests

    def defer(self, page: list[_Row], outcomes: Outcomes, *, sendable: Callable[[_Row], bool]) -> list[_Row]:
        """Leave waiting the page's rows whose contact :meth:`surely_waits`; return the others.

        Args:
            page: sync rows with an ``email`` column.
            outcomes: the page's outcomes.
            sendable: True for a row the job would send once its contact is in (e.g. an order in a
                synced status); other rows are returned, so the job retires them as usual.
        """
        rest = []
        for row in page:
            if sendable(row) and self.surely_waits(row.email):
                outcomes.wait(row.pk, WAITING, HoldReason.WAITING_CONTACT)
            else:
                rest.append(row)
        return rest

    def suppressed(self, email: str) -> bool:
        """True when the platform suppressed this email's contact (a fault report said so)."""
        row = self.rows.get(email.lower()) if email else None
        return bool(row is not None and row.suppressed)

    def contact_failed(self, email: str) -> str:
        """The skip reason when this email's contact row failed to import ('' when it did not).

        Such a contact will not be imported until it changes or is retried, so a record waiting
        for it would wait forever; the reason ends with :data:`CONTACT_FAILED`.
        """
        row = self.rows.get(email.lower()) if email else None
        if row is None or row.sync_status != SyncStatus.FAILED:
            return ""
        why = f" ({row.sync_message[:120]})" if row.sync_message else ""
        return f"contact{why}: {CONTACT_FAILED}"[:255]

    def ready(self, email: str) -> bool:
        """True when the platform holds this email's contact (an import of it was confirmed).

        A suppressed contact is never ready: the platform refuses records for it, so sending them
        would only spend API calls on rejections.
        """
        row = self.rows.get(email.lower())
        if row is None or row.suppressed:
            return False
        if isinstance(row, GateRow):
            return row.imported or bool(row.contact_id)
        return bool(row.last_imported_at or row.subscriber_last_imported_at or row.contact_id)

    def reason(self, email: str) -> str:
        """The waiting message, with what the contact itself is waiting for when it is known."""
        row = self.rows.get(email.lower())
        cfg = self.ctx.cfg
        if row is not None and row.sync_status == SyncStatus.FAILED:
            return f"{WAITING}: the contact failed ({row.sync_message})"[:255]
        if row is not None and row.customer_id is None and row.is_guest and not cfg.sync_guests:
            return f"{WAITING}: guest sync (sync_guests) is off for website {self.ctx.code}"
        if row is not None and row.customer_id is not None and not cfg.sync_customers:
            return f"{WAITING}: customer sync (sync_customers) is off for website {self.ctx.code}"
        return WAITING

    def hold(
        self,
        outcomes: Outcomes,
        pk: int,
        email: str,
        *,
        customer_id: int | None,
        store_id: int | None,
        what: str,
    ) -> None:
        """Hold back a record whose contact is not in the platform yet: wait for it, or skip the record.

        A record of a suppressed contact is skipped with the reason, and so is a record whose contact
        row failed (:data:`CONTACT_FAILED`): neither would ever leave "waiting".

        A customer's record makes sure the customer has a contact row in this website (the next
        contacts run sends it) and waits. A record without a customer whose email no stream of this
        website will ever send (no contact row, or a subscriber-only row with nothing to send, e.g.
        an anonymous review) is skipped with the reason: it would otherwise wait forever. It is
        looked at again when its entity changes.

        Args:
            outcomes: the page's outcomes.
            pk: the record's sync row.
            email: the record's email.
            customer_id: the record's customer (None for anonymous records).
            store_id: the record's store, for a contact row created here.
            what: the record kind in the skip reason ("anonymous review").
        """
        if self.suppressed(email):
            outcomes.skip(pk, f"{what}: {SUPPRESSED}", HoldReason.CONTACT_SUPPRESSED)
            return
        failed = self.contact_failed(email)
        if failed:
            outcomes.skip(pk, f"{what}: {failed}", HoldReason.CONTACT_FAILED)
            return
        if customer_id is not None:
            self.ensure(email, customer_id=customer_id, store_id=store_id)
            outcomes.wait(pk, self.reason(email), HoldReason.WAITING_CONTACT)
            return
        dead_end = self._dead_end(email)
        if dead_end:
            outcomes.skip(pk, f"{what}: {dead_end}")
        else:
            outcomes.wait(pk, self.reason(email), HoldReason.WAITING_CONTACT)

    def _dead_end(self, email: str) -> str:
        """Why this email's contact will never be imported in this website ('' when it can be)."""
        row = self.rows.get(email.lower())
        code = self.ctx.code
        if row is None:
            return f"the email is not a customer, guest or subscriber of website {code}, so it has no contact"
        pending = (SyncStatus.NEW, SyncStatus.MODIFIED, SyncStatus.IMPORTING)
        sent_later = row.customer_id is not None or row.is_guest or row.sync_status in pending
        if not sent_later and row.subscriber_sync_status not in pending:
            return f"the email is not a customer, guest or subscriber to send in website {code}"
        return ""

    def ensure(self, email: str, *, customer_id: int | None, store_id: int | None) -> None:
        """Make sure a contact row exists for an order's email, flagged guest for a guest order.

        A new row is ``NEW`` and is written by :meth:`flush` with the page's other new rows (one
        insert per page, not two queries per record); an existing subscriber-only row that becomes a
        guest is marked ``MODIFIED`` (a ``NEW`` row stays ``NEW``) so the next contacts run sends it.
        """
        key = canonical_email(email)
        row = self.rows.get(key)
        now = timezone.now()
        guest = customer_id is None
        if row is None:
            self.rows[key] = self.created[key] = Contact(
                website=self.ctx.website,
                store_id=store_id if store_id in self.ctx.stores else None,
                email=key,
                customer_id=customer_id,
                is_guest=guest,
                sync_status=SyncStatus.NEW,
                created_at=now,
                updated_at=now,
            )
            return
        if guest and not row.is_guest and row.customer_id is None and row.pk is not None:
            Contact.objects.filter(pk=row.pk).filter(~Q(sync_status=SyncStatus.NEW)).update(
                is_guest=True,
                sync_status=SyncStatus.MODIFIED,
                sync_message="",
                hold_reason=HoldReason.NONE,
                updated_at=now,
            )
            Contact.objects.filter(pk=row.pk, sync_status=SyncStatus.NEW).update(
                is_guest=True, updated_at=now
            )
            row.is_guest = True

    def flush(self) -> None:
        """Write the contact rows :meth:`ensure` created, in one bulk insert.

        A row another process created meanwhile is kept as it is.
        """
        if self.created:
            Contact.objects.bulk_create(list(self.created.values()), ignore_conflicts=True)
            self.created.clear()


def _release_contact_failed(contact_pks: Sequence[int], back: dict[str, Any]) -> int:
    """Send again the records skipped with :data:`CONTACT_FAILED` for these (now imported) contacts."""
    held = Q(sync_status=SyncStatus.SKIPPED, hold_reason=HoldReason.CONTACT_FAILED)
    released = 0
    rows = list(Contact.objects.filter(pk__in=contact_pks).values_list("website_id", "email", "customer_id"))
    for website_id in {w for w, _, _ in rows}:
        emails = {e for w, email, _ in rows if w == website_id for e in (email, email.lower())}
        customers = {c for w, _, c in rows if w == website_id and c is not None}
        for model in (Order, Quote):
            released += model.objects.filter(held, website_id=website_id, email__in=emails).update(**back)
        for keyed in (Review, Wishlist):
            released += keyed.objects.filter(held, website_id=website_id, customer_id__in=customers).update(
                **back
            )
    return released


def release_held(contact_pks: Sequence[int]) -> int:
    """Send again the records skipped because their contact was suppressed, now that it is back.

    Called when the platform confirms an import of these ``email_contact`` rows. A contact that was
    suppressed (``suppressed_at`` set) and no longer is (it re-subscribed in the store after the
    suppression) has its website's orders, baskets, reviews and wishlists that were skipped with
    :data:`SUPPRESSED` marked ``MODIFIED``, so the next run sends them, and its ``suppressed_at`` is
    cleared (the contacts job resubscribes a contact on the platform while it is set). Contacts
    never suppressed cost two queries per 500, plus one query per record table and website for
    the records skipped with :data:`CONTACT_FAILED`.

    Records skipped because their contact failed (:data:`CONTACT_FAILED`) are released too.

    Returns:
        The records released.
    """
    released, now = 0, timezone.now()
    held = Q(sync_status=SyncStatus.SKIPPED, hold_reason=HoldReason.CONTACT_SUPPRESSED)
    back = {
        "sync_status": SyncStatus.MODIFIED,
        "sync_message": "",
        "hold_reason": HoldReason.NONE,
        "updated_at": now,
    }
    for start in range(0, len(contact_pks), 500):
        released += _release_contact_failed(contact_pks[start : start + 500], back)
        returned = Contact.objects.filter(
            pk__in=contact_pks[start : start + 500], suppressed=False, suppressed_at__isnull=False
        ).values_list("website_id", "email", "customer_id")
        for website_id, email, customer_id in returned:
            for model in (Order, Quote):  # their email is the shop's spelling: matched case-insensitively
                spelled = model.objects.annotate(_email=Lower("email"))
                released += spelled.filter(held, website_id=website_id, _email=canonical_email(email)).update(
                    **back
                )
            if customer_id is not None:
                for keyed in (Review, Wishlist):
                    released += keyed.objects.filter(
                        held, website_id=website_id, customer_id=customer_id
                    ).update(**back)
        # back on the platform: the suppression is history (a new one sets suppressed_at again)
        Contact.objects.filter(pk__in=contact_pks[start : start + 500], suppressed=False).exclude(
            suppressed_at=None
        ).update(suppressed_at=None)
    return released
