"""Marketing consent (reference §1.10 ``email_contact_consent``, §4.8 ``connector_consent``).

When a store has consent on (store-scope settings ``consent_enabled``, ``consent_text``,
``consent_url``), a subscription made with a request records what the person agreed to:
:func:`record_consent` writes one ``email_contact_consent`` row (text, URL, IP, user agent, time) for
the (email, website) contact and marks the contact's subscriber stream ``MODIFIED``.

The ``contacts`` job's subscriber stream sends a contact's newest pending record in the import
file's consent columns (``CONSENTTEXT, CONSENTURL, CONSENTDATETIME, CONSENTIP, CONSENTUSERAGENT``,
the platform's bulk-import consent fields): :func:`pending_for` reads them, and the batch names the
record ids in its payload (``consents``: contact pk -> record ids). Exactly once: :func:`settle`
flips ``consent_imported`` in the transaction that records the import's result, only for the
contacts the platform confirmed; a contact the platform refused (rejected, or reported suppressed)
keeps its records pending, so they go with its next import. A record that is imported is never sent
again (the consent cells are not part of the row's hash, so a re-sync of an unchanged contact sends
nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from dotsync.config import get_store_config
from dotsync.models import Contact, ContactConsent, Store, SyncStatus
from dotsync.models.sync import canonical_email

logger = logging.getLogger(__name__)

COLUMNS = ("CONSENTTEXT", "CONSENTURL", "CONSENTDATETIME", "CONSENTIP", "CONSENTUSERAGENT")
"""The consent columns of a contact import file, in this order."""

PAYLOAD_KEY = "consents"
"""The import payload's map of contact pk -> the consent record ids its row carries."""


@dataclass(frozen=True)
class Pending:
    """A contact's consent to send: the newest pending record's cells, and every pending record id."""

    cells: tuple[str, str, str, str, str]
    ids: tuple[int, ...]


def client_address(request: Any) -> tuple[str, str]:
    """The request's client IP (``REMOTE_ADDR``) and user agent (``HTTP_USER_AGENT``), or empty strings."""
    meta = getattr(request, "META", None) or {}
    return str(meta.get("REMOTE_ADDR") or ""), str(meta.get("HTTP_USER_AGENT") or "")


def record_consent(
    email: str,
    store: Store | int,
    *,
    request: Any = None,
    ip: str | None = None,
    user_agent: str | None = None,
    at: datetime | None = None,
) -> None:
    """Record the consent given with a subscription, once the caller's transaction commits.

    Call it where a subscription is made with a request (a storefront view), after saving the
    ``newsletter_subscriber`` row: the subscription's observer creates the contact on commit first.
    Nothing is recorded when the store's ``consent_enabled`` is off.

    Args:
        email: the subscriber's email.
        store: the store (or its id) the subscription was made in.
        request: the HTTP request, for the IP and user agent (``ip``/``user_agent`` override it).
        ip: the client's IP address.
        user_agent: the client's user agent.
        at: when consent was given (default: now).
    """
    req_ip, req_agent = client_address(request)
    when = at or timezone.now()
    store_id = store.pk if isinstance(store, Store) else int(store)
    ip_value = ip if ip is not None else req_ip
    agent = user_agent if user_agent is not None else req_agent
    transaction.on_commit(lambda: _record(email, store_id, ip_value, agent, when))


def _record(email: str, store_id: int, ip: str, user_agent: str, at: datetime) -> ContactConsent | None:
    store = Store.objects.select_related("website").filter(pk=store_id).first()
    if store is None:
        return None
    settings = get_store_config(store)
    if not settings.values.get("consent_enabled"):
        return None
    with transaction.atomic():
        contact = (
            Contact.objects.select_for_update()
            .filter(email=canonical_email(email), website_id=store.website_id)
            .first()
        )
        if contact is None:
            logger.warning("consent not recorded: no contact for the subscription in store %s", store_id)
            return None
        consent = ContactConsent.objects.create(
            email_contact=contact,
            consent_text=str(settings.values.get("consent_text") or ""),
            consent_url=str(settings.values.get("consent_url") or ""),
            consent_datetime=at,
            consent_ip=ip[:255],
            consent_user_agent=user_agent,
        )
        Contact.objects.filter(pk=contact.pk).update(
            subscriber_sync_status=Case(
                When(subscriber_sync_status=SyncStatus.NEW, then=Value(SyncStatus.NEW)),
                default=Value(SyncStatus.MODIFIED),
            )
        )
    return consent


def pending_for(contact_ids: Sequence[int]) -> dict[int, Pending]:
    """The pending (not imported) consent of these contacts: contact pk -> :class:`Pending`."""
    rows: dict[int, list[ContactConsent]] = {}
    for consent in ContactConsent.objects.filter(
        email_contact_id__in=list(contact_ids), consent_imported=False
    ).order_by("consent_datetime", "pk"):
        rows.setdefault(consent.email_contact_id, []).append(consent)
    out: dict[int, Pending] = {}
    for pk, records in rows.items():
        newest = records[-1]
        when = newest.consent_datetime.isoformat() if newest.consent_datetime else ""
        out[pk] = Pending(
            cells=(
                newest.consent_text,
                newest.consent_url,
                when,
                newest.consent_ip,
                newest.consent_user_agent,
            ),
            ids=tuple(r.pk for r in records),
        )
    return out


def website_has_pending(website_id: int) -> bool:
    """Whether any contact of the website has a consent record not imported yet."""
    return ContactConsent.objects.filter(
        email_contact__website_id=website_id, consent_imported=False
    ).exists()


def settle(payload: Mapping[str, Any], confirmed: Iterable[int]) -> int:
    """Mark imported the consent records the import carried for the contacts the platform confirmed.

    A contact the import's fault report named as suppressed (``email_contact.suppressed``, set in the same
    transaction) keeps its records pending. Call inside the transaction that records the import's
    result. Returns the records marked.
    """
    carried: Mapping[str, Any] = payload.get(PAYLOAD_KEY) or {}
    if not carried:
        return 0
    # a contact the platform reported suppressed (marked so in this transaction) did not take the consent
    applied = Contact.objects.filter(pk__in=[int(p) for p in carried], suppressed=False).values_list(
        "pk", flat=True
    )
    ids = [int(i) for pk in set(confirmed) & set(applied) for i in carried.get(str(pk)) or ()]
    if not ids:
        return 0
    return ContactConsent.objects.filter(pk__in=ids, consent_imported=False).update(consent_imported=True)
