"""The platform's contact id for an email: got or created with one call, cached on ``email_contact``.

Campaign sends and programme enrolments address contacts by the platform's id. :func:`resolve` returns
it for each email of a website:

* a cached ``email_contact.contact_id`` is used as is (no call);
* an email whose ``email_contact`` row is marked suppressed is refused without a call;
* otherwise one ``POST /v2/contacts`` (create or update, optionally with an opt-in type and data
  fields) returns the id, which is cached on the row (when the email has one);
* a data field the account lacks (``ERROR_DATAFIELD_NOTFOUND``) costs a second call, without the data
  fields: it never blocks the id;
* a contact the platform reports suppressed (``ERROR_CONTACT_SUPPRESSED``, or a status other than
  subscribed / pending opt-in) is refused with :attr:`ContactIdStatus.SUPPRESSED`, and its
  ``email_contact`` row is marked suppressed (``suppressed``, ``suppressed_at``).

A transient platform error (rate limit, 5xx, timeout, open breaker) is raised: the caller stops and
tries again on its next run. Any other refusal is :attr:`ContactIdStatus.ERROR` with the platform's
message. The caller decides what a refusal does to its own row (a campaign send fails with the reason
in a column).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils import timezone

from dotsync.exceptions import PlatformError
from dotsync.models import Contact
from dotsync.models.sync import canonical_email
from dotsync.platform.dotdigital import DotdigitalClient

logger = logging.getLogger(__name__)

SUPPRESSED_CODE = "ERROR_CONTACT_SUPPRESSED"
DATAFIELD_NOT_FOUND = "ERROR_DATAFIELD_NOTFOUND"
SENDABLE_STATUSES = frozenset({"Subscribed", "PendingOptIn"})
"""Contact statuses a campaign may be sent to (``POST /v2/contacts`` answers with the status)."""
SUPPRESSED_MESSAGE = "Send not permitted. Contact is suppressed."
"""The message the reference connector stores on a row refused for a suppressed contact."""


class ContactIdStatus(enum.StrEnum):
    """The outcome of getting a contact's id."""

    OK = "ok"
    SUPPRESSED = "suppressed"
    ERROR = "error"


@dataclass(frozen=True)
class ContactId:
    """The platform id of one email, or why there is none.

    Attributes:
        email: the email as asked (canonical form).
        status: ok, suppressed or error.
        contact_id: the platform's contact id when ``status`` is ok.
        message: the platform's message when refused.
        cached: the id came from ``email_contact`` (no call was made).
        platform_status: the contact's status as the call answered it (``Subscribed``,
            ``PendingOptIn`` ...); empty when no call was made.
    """

    email: str
    status: ContactIdStatus
    contact_id: int | None = None
    message: str = ""
    cached: bool = False
    platform_status: str = ""

    @property
    def ok(self) -> bool:
        """Whether there is an id to send to."""
        return self.status is ContactIdStatus.OK and self.contact_id is not None


def resolve(
    client: DotdigitalClient,
    website_id: int,
    emails: Iterable[str],
    *,
    opt_in_type: str | None = None,
    data_fields: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, ContactId]:
    """The platform contact id of each email of a website (see the module docstring).

    Args:
        client: the website's account client.
        website_id: the website whose ``email_contact`` rows cache the ids.
        emails: the addresses (any case; keys of the result are canonical).
        opt_in_type: sent when the contact is created or updated (``Single``, ``Double`` ...).
        data_fields: per canonical email, data-field values to write in the same call. An email with
            data fields is always sent (its cached id is refreshed by the call).

    Returns:
        Canonical email -> :class:`ContactId`.

    Raises:
        TransientPlatformError: the platform could not answer now; nothing was cached for the email.
    """
    wanted = sorted({canonical_email(e) for e in emails if e})
    fields = {canonical_email(k): v for k, v in (data_fields or {}).items()}
    rows = {
        c.email: c
        for c in Contact.objects.filter(website_id=website_id, email__in=wanted).only(
            "email_contact_id", "email", "contact_id", "suppressed"
        )
    }
    out: dict[str, ContactId] = {}
    for email in wanted:
        row = rows.get(email)
        if row is not None and row.suppressed:
            out[email] = ContactId(email, ContactIdStatus.SUPPRESSED, message=SUPPRESSED_MESSAGE, cached=True)
            continue
        if row is not None and row.contact_id.isdigit() and not fields.get(email):
            out[email] = ContactId(email, ContactIdStatus.OK, int(row.contact_id), cached=True)
            continue
        out[email] = _ask(client, website_id, email, opt_in_type, fields.get(email))
    return out


def get_or_create(
    client: DotdigitalClient, website_id: int, email: str, *, opt_in_type: str | None = None
) -> ContactId:
    """The platform contact id of one email of a website (:func:`resolve` for a single address)."""
    return resolve(client, website_id, [email], opt_in_type=opt_in_type)[canonical_email(email)]


def forget(website_id: int, emails: Iterable[str]) -> int:
    """Drop cached contact ids (e.g. after the platform said ``ERROR_CONTACT_NOT_FOUND``); returns rows."""
    keys = [canonical_email(e) for e in emails]
    return (
        Contact.objects.filter(website_id=website_id, email__in=keys)
        .exclude(contact_id="")
        .update(contact_id="", updated_at=timezone.now())
    )


def _ask(
    client: DotdigitalClient,
    website_id: int,
    email: str,
    opt_in_type: str | None,
    fields: Mapping[str, object] | None,
) -> ContactId:
    try:
        contact = client.upsert_contact(email, data_fields=fields or None, opt_in_type=opt_in_type)
    except PlatformError as exc:
        if exc.transient:
            raise
        if exc.error_code == SUPPRESSED_CODE:
            _mark_suppressed(website_id, email)
            return ContactId(email, ContactIdStatus.SUPPRESSED, message=SUPPRESSED_MESSAGE)
        if exc.error_code == DATAFIELD_NOT_FOUND and fields:
            # a mapped data field missing on the account must not block the send: the id without them
            logger.warning("contact id for website %s: a data field is missing on the account", website_id)
            return _ask(client, website_id, email, opt_in_type, None)
        logger.warning("contact id for website %s: %s", website_id, exc.error_code or exc.status_code)
        return ContactId(email, ContactIdStatus.ERROR, message=str(exc.message)[:255])
    status = str(contact.get("status") or "Subscribed")
    if status not in SENDABLE_STATUSES:
        _mark_suppressed(website_id, email)
        return ContactId(email, ContactIdStatus.SUPPRESSED, message=SUPPRESSED_MESSAGE)
    contact_id = contact.get("id")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        return ContactId(email, ContactIdStatus.ERROR, message="No contact id returned.")
    Contact.objects.filter(website_id=website_id, email=email).update(
        contact_id=str(contact_id), updated_at=timezone.now()
    )
    return ContactId(email, ContactIdStatus.OK, contact_id, platform_status=status)


def _mark_suppressed(website_id: int, email: str) -> None:
    now = timezone.now()
    Contact.objects.filter(website_id=website_id, email=email, suppressed=False).update(
        suppressed=True, suppressed_at=now, updated_at=now
    )
