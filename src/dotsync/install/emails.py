"""One ``email_contact`` row per email per website, whatever the case of the email.

The platform matches emails case-insensitively: ``Foo@Example.com`` and ``foo@example.com`` are one
contact. dotsync stores :func:`~dotsync.models.sync.canonical_email` (lower case) and a unique index
on ``LOWER(email)`` per website keeps new case variants out. Rows written before that (or that
SQLite's ASCII-only ``LOWER()`` left apart in the backfill) are merged by :func:`merge_case_variants`,
which ``dotsync install`` and the backfill run after filling the tables; ``dotsync status`` shows
what is left (:func:`case_report`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from dotsync.models import Contact, ContactConsent, SyncStatus
from dotsync.models.sync import canonical_email


@dataclass
class MergeReport:
    """What :func:`merge_case_variants` did.

    Attributes:
        merged: rows folded into an older row of the same email and website (then deleted).
        renamed: rows whose email was only lower-cased.
        conflicts: merges that joined two different customer ids (row ids only, no emails); the
            oldest row's customer is kept: check those customers in the shop.
    """

    merged: int = 0
    renamed: int = 0
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"merged": self.merged, "renamed": self.renamed, "conflicts": list(self.conflicts)}


def _fold(keep: Contact, other: Contact, report: MergeReport) -> None:
    """Fold ``other`` into ``keep`` (in memory): flags are or-ed, the newest subscription wins."""
    if other.customer_id is not None:
        if keep.customer_id is None:
            keep.customer_id = other.customer_id
        elif keep.customer_id != other.customer_id:
            report.conflicts.append(
                f"email_contact {other.pk} (customer {other.customer_id}) merged into "
                f"{keep.pk} (customer {keep.customer_id}) of website {keep.website_id}"
            )
    keep.is_guest = keep.is_guest or other.is_guest
    keep.contact_id = keep.contact_id or other.contact_id
    if other.suppressed:
        keep.suppressed = True
    stamps = [t for t in (keep.suppressed_at, other.suppressed_at) if t is not None]
    keep.suppressed_at = max(stamps) if stamps else None
    for name in ("last_imported_at", "subscriber_last_imported_at"):
        stamps = [t for t in (getattr(keep, name), getattr(other, name)) if t is not None]
        setattr(keep, name, max(stamps) if stamps else None)
    newer = (other.last_subscribed_at or other.updated_at) > (keep.last_subscribed_at or keep.updated_at)
    if other.is_subscriber and (not keep.is_subscriber or newer):
        keep.is_subscriber = True
        keep.subscriber_status = other.subscriber_status
        keep.last_subscribed_at = other.last_subscribed_at


def merge_case_variants() -> MergeReport:
    """Merge ``email_contact`` rows that differ only by the case of their email, per website.

    The oldest row (``created_at``, then id) is kept with the lower-cased email; the others' flags,
    customer, platform contact id and newest subscription are folded into it, their consents move
    to it, and they are deleted. The kept row is marked modified in both streams, so the merged
    contact is sent once more. Costs one scan of the emails when every one is already canonical.
    """
    report = MergeReport()
    # one scan: Python's lower() also folds the non-ASCII letters SQLite's LOWER() leaves as they are
    spellings: dict[tuple[int, str], set[str]] = defaultdict(set)
    for website_id, email in Contact.objects.values_list("website_id", "email").iterator():
        if email != canonical_email(email):
            spellings[(website_id, canonical_email(email))].add(email)
    now = timezone.now()
    for (website_id, email), variants in sorted(spellings.items()):
        with transaction.atomic():
            rows = sorted(
                Contact.objects.select_for_update().filter(
                    website_id=website_id, email__in=sorted(variants | {email})
                ),
                key=lambda c: (c.created_at, c.pk),
            )
            if not rows:
                continue
            keep, others = rows[0], rows[1:]
            for other in others:
                _fold(keep, other, report)
            if others:
                ContactConsent.objects.filter(email_contact__in=[o.pk for o in others]).update(
                    email_contact=keep
                )
                Contact.objects.filter(pk__in=[o.pk for o in others]).delete()
                report.merged += len(others)
                keep.sync_status = SyncStatus.MODIFIED
                if keep.is_subscriber:
                    keep.subscriber_sync_status = SyncStatus.MODIFIED
            elif keep.email != email:
                report.renamed += 1
            keep.email = email
            keep.updated_at = now
            keep.save()
    return report


def case_report() -> dict[str, int]:
    """``{"case_variants": n}``: contact rows whose email is not in its canonical (lower-case) form.

    0 once :func:`merge_case_variants` ran (``dotsync install``, which backfills); one scan of
    the emails, in Python, so non-ASCII letters count on SQLite too.
    """
    emails = Contact.objects.values_list("email", flat=True).iterator()
    return {"case_variants": sum(1 for e in emails if e != canonical_email(e))}
