"""Erase a person (``dotsync erase EMAIL [--website CODE]``): dotsync's rows about them and their contact.

What goes, in the website (or every website):

1. **Queued work first**, so nothing re-creates the contact afterwards: ``email_importer`` rows whose
   data mentions the email. A pending row is deleted and the other records it carried are queued again
   (their sync rows go back to ``MODIFIED``); a finished row is deleted with its archived CSV (and any
   archived CSV of the websites that still holds the address goes too). A row in
   flight on the platform cannot be taken back: it is counted (``in_flight``) and the erasure is
   ``incomplete`` until it settles and ``dotsync erase`` runs again.
2. **The platform contact**, in each account serving those websites: looked up by email and deleted
   (``DELETE /v2/contacts/{id}``; the platform drops its data fields, list memberships and contact
   insight data with it). A suppressed contact cannot be deleted: the platform keeps it so the address
   is never mailed again (reported ``suppressed``). With ``--website``, a contact of an account that
   also serves another website where the person still has a contact row is kept (``shared``): erase
   them there too, or without ``--website``.
3. **The store rows dotsync owns**: ``email_contact`` (and its consent records), ``newsletter_subscriber``
   in the websites' stores, ``email_contact_book`` (address-book choices), the sync rows keyed by the
   email (``email_order``, ``email_quote``) or by the
   person's customer id (``email_review``, ``email_wishlist``), ``email_campaign``, ``email_automation``,
   ``email_abandoned_cart``, ``email_rule_exclusion``, and (erasing everywhere) ``email_coupon_attribute``.

It leaves one ``email_erasure`` row: a keyed hash of the email, the website, the outcome, the
platform's status and the rows deleted per table. The shop's own records (Oscar's orders, users)
belong to the shop and are not touched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.crypto import current_key
from dotsync.exceptions import DotsyncError, NotFoundError, ValidationError
from dotsync.jobs.importer.bulk import archive_dir
from dotsync.jobs.queue import Envelope
from dotsync.models import (
    AbandonedCart,
    Automation,
    Campaign,
    Contact,
    ContactConsent,
    EmailCouponAttribute,
    Importer,
    NewsletterSubscriber,
    Order,
    Quote,
    Review,
    RuleExclusion,
    SmsOrderQueue,
    Store,
    SyncStatus,
    Website,
    Wishlist,
)
from dotsync.models.erasure import Erasure, ErasureOutcome, PlatformErasure
from dotsync.models.importer import ImportStatus
from dotsync.models.newsletter import ContactBook
from dotsync.models.sync import canonical_email

logger = logging.getLogger(__name__)

_SEVERITY = [
    PlatformErasure.ABSENT,
    PlatformErasure.DELETED,
    PlatformErasure.SUPPRESSED,
    PlatformErasure.SHARED,
    PlatformErasure.NOT_CONFIGURED,
    PlatformErasure.FAILED,
]


def subject_hash(email: str) -> str:
    """HMAC-SHA256 of the lower-cased email under a key derived from dotsync's encryption key."""
    key = hashlib.sha256(b"dotsync-erasure|" + current_key().encode()).digest()
    return hmac.new(key, canonical_email(email.strip()).encode(), hashlib.sha256).hexdigest()


@dataclass
class ErasureReport:
    """What one erasure did (no personal data: it is printed and stored as it is).

    Attributes:
        erasure_id: the ``email_erasure`` row.
        outcome: ``complete`` when nothing of the person is left in dotsync or on the platform.
        platform: what the platform did with the contact (the worst over the accounts).
        counts: rows (or files, or platform contacts) removed per kind, plus ``in_flight``.
    """

    erasure_id: int
    outcome: ErasureOutcome
    platform: PlatformErasure
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``--json``)."""
        return {
            "erasure_id": self.erasure_id,
            "outcome": str(self.outcome),
            "platform": str(self.platform),
            "counts": self.counts,
        }


def erase(email: str, website_code: str | None = None) -> ErasureReport:
    """Erase the person with this email from dotsync and the platform (see the module docstring).

    Raises:
        LookupError: ``website_code`` names no website.
        ValueError: the email is empty.
    """
    email = email.strip()
    if not email or "@" not in email:
        raise ValueError("give the person's email address")
    key = canonical_email(email)
    website = None
    if website_code:
        website = Website.objects.filter(code=website_code).first()
        if website is None:
            raise LookupError(f"no website {website_code!r}")
    website_ids = [website.pk] if website else list(Website.objects.values_list("pk", flat=True))
    counts: dict[str, int] = {}

    counts.update(_drop_queued_work(key, website_ids))
    platform, deleted = _erase_on_platform(email, website_code, website_ids)
    counts["platform_contacts"] = deleted
    counts.update(_erase_store_rows(key, website_ids, everywhere=website is None))
    counts["archive_files"] += _sweep_archive(key, website_codes(website_ids))

    complete = counts.get("in_flight", 0) == 0 and platform in (
        PlatformErasure.DELETED,
        PlatformErasure.ABSENT,
    )
    row = Erasure.objects.create(
        subject_hash=subject_hash(email),
        website=website,
        outcome=ErasureOutcome.COMPLETE if complete else ErasureOutcome.INCOMPLETE,
        platform_status=platform,
        counts=counts,
        created_at=timezone.now(),
    )
    logger.info("erasure %s: %s, platform %s, %s", row.pk, row.outcome, platform, counts)
    return ErasureReport(row.pk, ErasureOutcome(row.outcome), platform, counts)


def _whole(key: str) -> re.Pattern[str]:
    """The address as a whole word: not inside another address (a JSON escape before it is a boundary)."""
    return re.compile(rf"(?:(?<![\w.+-])|(?<=\\[nrt\"])){re.escape(key)}(?![\w-])", re.IGNORECASE)


def _mentions(key: str, website_ids: list[int]) -> list[int]:
    """Ids of the websites' importer rows whose data holds the address whole, not inside another.

    ``LIKE`` narrows the rows in the database; the boundary check (the data is JSON: a preceding
    escape such as backslash-n counts as a boundary) drops ``jimalice@...`` for ``alice@...``.
    Rows are read one at a time (an insight batch can be tens of megabytes).
    """
    whole = _whole(key)
    rows = Importer.objects.filter(website_id__in=website_ids, import_data__icontains=key).order_by("pk")
    return [
        pk for pk, data in rows.values_list("pk", "import_data").iterator(chunk_size=1) if whole.search(data)
    ]


def _drop_queued_work(key: str, website_ids: list[int]) -> dict[str, int]:
    """Delete the importer rows that mention the email; the other records of a pending batch are requeued."""
    counts = {"email_importer": 0, "requeued_records": 0, "archive_files": 0, "in_flight": 0}
    for pk in _mentions(key, website_ids):
        row = Importer.objects.filter(pk=pk).defer("import_data").first()
        if row is None:
            continue
        if row.import_status == ImportStatus.IMPORTING:
            counts["in_flight"] += 1  # on the platform now: cannot be taken back
            continue
        with transaction.atomic():
            if row.import_status == ImportStatus.PENDING:
                counts["requeued_records"] += _requeue_sources(row)
            path = row.import_file
            n, _ = Importer.objects.filter(pk=row.pk).exclude(import_status=ImportStatus.IMPORTING).delete()
        counts["email_importer"] += n
        if n and path and Path(path).resolve().parent == archive_dir().resolve():
            Path(path).unlink(missing_ok=True)
            counts["archive_files"] += 1
    return counts


def website_codes(website_ids: list[int]) -> list[str]:
    """The codes of these websites (archived import files are named after them)."""
    return list(Website.objects.filter(pk__in=website_ids).values_list("code", flat=True))


def _sweep_archive(key: str, codes: list[str]) -> int:
    """Unlink the websites' archived import CSVs that still hold the address (their rows are gone)."""
    folder = archive_dir()
    if not folder.is_dir():
        return 0
    whole = _whole(key)
    prefixes = tuple(f"{code}_".lower() for code in codes)
    removed = 0
    for path in folder.glob("*.csv"):
        if not path.name.startswith(prefixes):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if whole.search(text):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _requeue_sources(row: Importer) -> int:
    """Put the sync rows a pending importer row carried back to ``MODIFIED`` (detached from it)."""
    try:
        envelope = Envelope.load(row, records=False)
    except ValueError:
        return 0
    if not envelope.table or not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    n = 0
    for qs in source.rows([pk for pk, _ in envelope.rows], **{cols.importer: row.pk}):
        n += qs.update(**{cols.status: SyncStatus.MODIFIED, cols.importer: None})
    return n


def _erase_on_platform(
    email: str, website_code: str | None, website_ids: list[int]
) -> tuple[PlatformErasure, int]:
    """Delete the contact in every account serving the websites; returns (worst status, contacts deleted)."""
    ctx = RunContext.resolve(website_code)
    statuses: list[PlatformErasure] = []
    if ctx.problems:
        statuses.append(PlatformErasure.NOT_CONFIGURED)
    if website_code:  # an account's other websites are known only from every website's settings
        ctx = RunContext.resolve()
    deleted = 0
    key = canonical_email(email)
    for account in ctx.accounts:
        if not set(account.website_ids) & set(website_ids):
            continue
        others = set(account.website_ids) - set(website_ids)
        if others and Contact.objects.filter(email=key, website_id__in=others).exists():
            # one platform contact serves every website of the account: deleting it would take the
            # person out of a website they were not erased from
            statuses.append(PlatformErasure.SHARED)
            continue
        try:
            client = account.client()
            contact = client.get_contact(email)
            if contact is None:
                statuses.append(PlatformErasure.ABSENT)
                continue
            if str(contact.get("status", "")).lower() not in ("subscribed", "pendingoptin", "unsubscribed"):
                statuses.append(PlatformErasure.SUPPRESSED)
                continue
            client.delete_contact(int(contact["id"]))
            deleted += 1
            statuses.append(PlatformErasure.DELETED)
        except NotFoundError:
            statuses.append(PlatformErasure.ABSENT)
        except ValidationError as exc:
            suppressed = "SUPPRESSED" in str(exc).upper()
            statuses.append(PlatformErasure.SUPPRESSED if suppressed else PlatformErasure.FAILED)
        except DotsyncError as exc:
            logger.warning(
                "erase: the account of website(s) %s failed: %s", account.codes, type(exc).__name__
            )
            statuses.append(PlatformErasure.FAILED)
    if not statuses:
        return PlatformErasure.ABSENT, 0
    return max(statuses, key=_SEVERITY.index), deleted


def _erase_store_rows(key: str, website_ids: list[int], *, everywhere: bool) -> dict[str, int]:
    """Delete dotsync's rows about the person in these websites, in one transaction."""
    same = Q(email__iexact=key)
    counts: dict[str, int] = {}
    with transaction.atomic():
        contacts = Contact.objects.filter(same, website_id__in=website_ids)
        customer_ids = {c for c in contacts.values_list("customer_id", flat=True) if c is not None}
        counts["email_contact_consent"] = ContactConsent.objects.filter(email_contact__in=contacts).delete()[
            0
        ]
        stores = Store.objects.filter(website_id__in=website_ids)
        counts["newsletter_subscriber"] = NewsletterSubscriber.objects.filter(
            subscriber_email__iexact=key, store__in=stores
        ).delete()[0]
        counts["email_contact_book"] = ContactBook.objects.filter(
            email__iexact=key, website_id__in=website_ids
        ).delete()[0]
        order_ids = Order.objects.filter(same, website_id__in=website_ids).values("order_id")
        counts["email_sms_order_queue"] = SmsOrderQueue.objects.filter(  # phone numbers and texts
            website_id__in=website_ids, order_id__in=order_ids
        ).delete()[0]
        for name, model in (
            ("email_order", Order),
            ("email_quote", Quote),
            ("email_campaign", Campaign),
            ("email_automation", Automation),
            ("email_abandoned_cart", AbandonedCart),
            ("email_rule_exclusion", RuleExclusion),
        ):
            counts[name] = model.objects.filter(same, website_id__in=website_ids).delete()[0]  # type: ignore[attr-defined]
        for name, keyed in (("email_review", Review), ("email_wishlist", Wishlist)):
            counts[name] = (
                keyed.objects.filter(website_id__in=website_ids, customer_id__in=customer_ids).delete()[0]
                if customer_ids
                else 0
            )
        counts["email_contact"] = contacts.delete()[1].get(Contact._meta.label, 0)
        if everywhere:
            counts["email_coupon_attribute"] = EmailCouponAttribute.objects.filter(same).delete()[0]
    return counts
