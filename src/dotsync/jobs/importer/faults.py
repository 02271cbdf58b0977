"""What a finished contact import's fault report means for the store.

Each fault row names an email and a reason. Reasons are compared case-insensitively (the platform's
spelling varies between sources) and fall into three groups:

* **suppressions** (:data:`SUPPRESSION_REASONS`): the platform will not mail this address. The
  contact is unsubscribed locally: ``email_contact`` gets ``suppressed`` (with ``suppressed_at``),
  loses ``is_subscriber`` and takes subscriber status 3, in the import's website only; the store's
  ``newsletter_subscriber`` rows go to status 3 with ``change_status_at`` = now, in that website's
  stores only. A contact whose subscription changed in the store after the import started is left
  alone: the fresh subscription wins and is sent on its own. A contact already suppressed stays
  suppressed; nothing here ever subscribes anyone (the Magento connector's issue #565). The source
  row itself is settled ``IMPORTED``: the platform has taken its decision, resending cannot change it.
* **record failures** (:data:`RECORD_FAILURE_REASONS`, e.g. ``Invalid Email``): the record itself is
  bad. Its source row is quarantined ``FAILED`` with the reason; the rest of the batch is imported.
* anything else (``Duplicate``, ``Soft bounced``, ``Pending optin``...): the contact was imported;
  ``Duplicate`` only says the address appeared twice in the file, which is not a failure of the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from dotsync.models import Contact, Store
from dotsync.models.newsletter import SubscriberStatus

SUPPRESSION_REASONS = frozenset(
    reason.lower()
    for reason in (
        "Globally Suppressed",
        "Suppressed",
        "Blocked",
        "Blocker",
        "Unsubscribed",
        "Hard Bounced",
        "Isp Complaints",
        "Complained to ISP",
        "Domain Suppressed",
        "Suppressed by Domain",
        "Mail Blocked",
        "Suppressed by you",
    )
)
"""Fault reasons that mean the platform suppressed the address (lower case)."""

RECORD_FAILURE_REASONS = frozenset(
    reason.lower() for reason in ("Invalid Email", "Invalid Entries", "Invalid Entry", "Failures", "Failure")
)
"""Fault reasons that mean the record itself was rejected (lower case)."""


@dataclass
class FaultOutcome:
    """What a fault report asks for.

    Attributes:
        suppressed: emails the platform suppressed (as the batch spelled them) -> reason.
        rejected: source-row pk -> reason, for records the platform rejected.
    """

    suppressed: dict[str, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)


def read_faults(faults: Iterable[object], emails: dict[str, int]) -> FaultOutcome:
    """Sort fault rows into suppressions and record failures.

    Args:
        faults: rows with ``reason`` and ``email`` attributes (the client's ``ImportFault``).
        emails: the batch's email -> source-row pk map (``payload["emails"]``).
    """
    by_email = {email.lower(): pk for email, pk in emails.items()}
    spelled = {email.lower(): email for email in emails}
    out = FaultOutcome()
    for fault in faults:
        reason = str(getattr(fault, "reason", "")).strip()
        email = str(getattr(fault, "email", "")).strip().lower()
        key = reason.lower()
        if key in SUPPRESSION_REASONS:
            out.suppressed[spelled.get(email, email)] = reason
        elif key in RECORD_FAILURE_REASONS and email in by_email:
            out.rejected[by_email[email]] = f"Rejected by the platform: {reason}"
    return out


def unsubscribe_suppressed(
    website_id: int, suppressed: dict[str, str], *, import_started: datetime, now: datetime
) -> list[str]:
    """Unsubscribe the suppressed emails in one website (``email_contact`` and the store's newsletter).

    Args:
        website_id: the import's website; no other website is touched.
        suppressed: email (as the batch spelled it) -> the platform's reason.
        import_started: when the import started; a subscription changed after it is left alone.
        now: the time recorded as ``change_status_at`` and ``suppressed_at``.

    Returns:
        The emails unsubscribed.
    """
    if not suppressed:
        return []
    emails = sorted(suppressed)
    store_ids = list(Store.objects.filter(website_id=website_id).values_list("pk", flat=True))
    done: list[str] = []
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        contacts = Contact.objects.filter(website_id=website_id, email__in=chunk)
        fresh = Q(last_subscribed_at__gt=import_started, suppressed=False)
        contacts.exclude(fresh).filter(suppressed=False).update(suppressed_at=now)
        contacts.exclude(fresh).update(
            suppressed=True,
            is_subscriber=False,
            subscriber_status=SubscriberStatus.UNSUBSCRIBED,
            updated_at=now,
        )
        kept = set(contacts.filter(fresh).values_list("email", flat=True))
        chunk = [e for e in chunk if e not in kept]
        if chunk and store_ids:
            _store_unsubscribe(chunk, store_ids, now, import_started)
        done.extend(chunk)
    return done


def _store_unsubscribe(
    emails: Sequence[str], store_ids: Sequence[int], now: datetime, since: datetime
) -> None:
    """Write the unsubscriptions back to the shop through its store adapter."""
    from dotsync.store.registry import get_adapter

    get_adapter().unsubscribe(emails, store_ids, now, unless_changed_after=since)
