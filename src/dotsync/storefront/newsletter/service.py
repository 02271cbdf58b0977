"""The writes behind the newsletter pages: ``newsletter_subscriber`` rows, address-book choices, mails.

Rows are saved through the ORM, so the subscription observers
(:mod:`dotsync.store.oscar.observers.receivers`) mark the contact on commit and the ``contacts`` job sends
it: a subscribed row joins the subscribers address book (double opt-in when the store requires
confirmation), an unsubscribed one leaves it. Address-book choices are kept in ``email_contact_book``
and each change queues one importer call (join: ``Contact_Update`` into the book; leave:
``Subscriber_Unsubscribe`` naming the book). Data-field edits are edits of the customer's own record,
which the customer observers send with the next contact import. Nothing here logs an email address.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from dotsync.config import get_config, get_store_config
from dotsync.jobs.consent import record_consent
from dotsync.jobs.queue import enqueue_single
from dotsync.models import NewsletterSubscriber, Store, Website
from dotsync.models.importer import ImportMode
from dotsync.models.newsletter import ContactBook, SubscriberStatus
from dotsync.models.sync import canonical_email
from dotsync.store.oscar.scope import resolve_store
from dotsync.storefront.newsletter import tokens

log = logging.getLogger("dotsync.storefront")

USER_ATTRIBUTES: dict[str, str] = {"firstname": "first_name", "lastname": "last_name"}
"""``newsletter_fields`` key -> the attribute of the shop's user model it edits."""


class Outcome(enum.StrEnum):
    """What a subscribe, confirm or unsubscribe did (the page shown follows it)."""

    SUBSCRIBED = "subscribed"
    """The row is subscribed now."""
    CONFIRMATION_SENT = "confirmation_sent"
    """The store requires confirmation: the row is unconfirmed and the link was mailed."""
    ALREADY = "already"
    """Nothing to change: the row already had that status."""
    MAIL_FAILED = "mail_failed"
    """The row is unconfirmed but the confirmation mail could not be sent (a new request sends another)."""
    UNSUBSCRIBED = "unsubscribed"
    """The row is unsubscribed now."""
    REFUSED = "refused"
    """The link was tampered with, expired, used, or names no row."""


def request_store(request: HttpRequest) -> Store | None:
    """The request's store: its Django Site's, else the customer's, else the default store.

    The observers' rule (:func:`dotsync.store.oscar.scope.resolve_store`), so the subscription lands in
    the store whose website the rest of the sync places the request in.
    """
    try:
        site_id: int | None = getattr(get_current_site(request), "pk", None)
    except Exception:  # a host with no Site
        site_id = None
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    ref = resolve_store(site_id, user_id)
    if ref is None:
        return None
    return Store.objects.select_related("website").filter(pk=ref.store_id).first()


def consent_text(store: Store) -> str:
    """The consent text the subscribe form shows, or "" when the store's consent is off."""
    values = get_store_config(store).values
    return str(values.get("consent_text") or "") if values.get("consent_enabled") else ""


def _absolute(request: HttpRequest, name: str, token: str) -> str:
    return request.build_absolute_uri(reverse(name, args=[token]))


def unsubscribe_url(request: HttpRequest, row: NewsletterSubscriber) -> str:
    """The absolute unsubscribe link of ``row``."""
    token = tokens.unsubscribe_token(row.subscriber_id, row.subscriber_email)
    return _absolute(request, "dotsync-newsletter-unsubscribe", token)


def _mail(request: HttpRequest, row: NewsletterSubscriber, subject: str, lines: list[str]) -> bool:
    """Send a mail to the subscriber through Django's email backend; False (logged) when it failed."""
    lines += ["", f"To unsubscribe: {unsubscribe_url(request, row)}"]
    try:
        send_mail(subject, "\n".join(lines), None, [row.subscriber_email])
    except Exception as exc:  # SMTP down or refusing: the page says so; the exception may name the address
        log.warning("newsletter mail not sent in store %s: %s", row.store.code, type(exc).__name__)
        return False
    return True


def subscribe(
    request: HttpRequest, email: str, store: Store, *, customer_id: int | None = None, consent: bool = False
) -> Outcome:
    """Subscribe ``email`` in ``store``: subscribed at once, or unconfirmed with a confirmation mail.

    A subscribed row stays as it is (``ALREADY``; the page does not say whether the email was known).
    ``consent``: the person ticked the store's consent text; it is recorded (``email_contact_consent``,
    with the request's IP and user agent) once the row is saved.
    """
    email = canonical_email(email.strip())
    confirm = store.requires_confirmation
    with transaction.atomic():
        row = (
            NewsletterSubscriber.objects.select_for_update()
            .filter(subscriber_email=email, store=store)
            .first()
        )
        if row is not None and row.subscriber_status == SubscriberStatus.SUBSCRIBED:
            if customer_id is not None and row.customer_id is None:
                row.customer_id = customer_id
                row.save(update_fields=["customer_id"])
            return Outcome.ALREADY
        row = row or NewsletterSubscriber(subscriber_email=email, store=store)
        if customer_id is not None:
            row.customer_id = customer_id
        row.subscriber_status = SubscriberStatus.UNCONFIRMED if confirm else SubscriberStatus.SUBSCRIBED
        row.subscriber_confirm_code = secrets.token_hex(16) if confirm else ""
        row.change_status_at = timezone.now()
        row.save()
        if consent:
            record_consent(email, store, request=request)
    if confirm:
        token = tokens.confirm_token(row.subscriber_id, email, row.subscriber_confirm_code)
        sent = _mail(
            request,
            row,
            f"Confirm your subscription to {store.name}",
            [
                "Please confirm your newsletter subscription:",
                _absolute(request, "dotsync-newsletter-confirm", token),
            ],
        )
        log.info("newsletter subscription awaiting confirmation in store %s", store.code)
        return Outcome.CONFIRMATION_SENT if sent else Outcome.MAIL_FAILED
    _mail(
        request, row, f"You are subscribed to {store.name}", ["Thank you for subscribing to our newsletter."]
    )
    log.info("newsletter subscription in store %s", store.code)
    return Outcome.SUBSCRIBED


def confirm(claim: tokens.Claim) -> Outcome:
    """Subscribe the unconfirmed row a valid confirmation token names (once; a second click: ``ALREADY``)."""
    with transaction.atomic():
        row = (
            NewsletterSubscriber.objects.select_for_update()
            .filter(pk=claim.subscriber_id, subscriber_email=claim.email)
            .first()
        )
        if row is None:
            return Outcome.REFUSED
        if row.subscriber_status == SubscriberStatus.UNCONFIRMED and secrets.compare_digest(
            row.subscriber_confirm_code, claim.code
        ):
            row.subscriber_status = SubscriberStatus.SUBSCRIBED
            row.subscriber_confirm_code = ""
            row.change_status_at = timezone.now()
            row.save()
            return Outcome.SUBSCRIBED
        if row.subscriber_status == SubscriberStatus.SUBSCRIBED and not row.subscriber_confirm_code:
            return Outcome.ALREADY
    return Outcome.REFUSED


def unsubscribe(subscriber_id: int, email: str) -> Outcome:
    """Unsubscribe the row ``subscriber_id`` of ``email`` (an unconfirmed one too)."""
    with transaction.atomic():
        row = (
            NewsletterSubscriber.objects.select_for_update()
            .filter(pk=subscriber_id, subscriber_email=email)
            .first()
        )
        if row is None:
            return Outcome.REFUSED
        if row.subscriber_status == SubscriberStatus.UNSUBSCRIBED:
            return Outcome.ALREADY
        row.subscriber_status = SubscriberStatus.UNSUBSCRIBED
        row.subscriber_confirm_code = ""
        row.change_status_at = timezone.now()
        row.save()
    return Outcome.UNSUBSCRIBED


def subscription(email: str, store: Store) -> NewsletterSubscriber | None:
    """The ``newsletter_subscriber`` row of ``email`` in ``store``, if any."""
    return NewsletterSubscriber.objects.filter(subscriber_email=canonical_email(email), store=store).first()


def book_choices(website: Website, email: str) -> dict[int, bool]:
    """Address book id -> whether the customer chose to be in it (books never chosen are absent)."""
    rows = ContactBook.objects.filter(website=website, email=canonical_email(email))
    return dict(rows.values_list("address_book_id", "member"))


def set_books(website: Website, email: str, wanted: Mapping[int, bool]) -> int:
    """Record the customer's address-book choices and queue a platform call for each change.

    A book never chosen counts as "not in it", so leaving it unticked changes nothing. The calls are
    queued only while the website syncs (``enabled``); the choice is kept either way. Returns the
    number of books changed.
    """
    email = canonical_email(email)
    now = timezone.now()
    queue = get_config(website).enabled
    changed = 0
    with transaction.atomic():
        current = {
            row.address_book_id: row
            for row in ContactBook.objects.select_for_update().filter(website=website, email=email)
        }
        for book, member in wanted.items():
            row = current.get(book)
            if (row.member if row is not None else False) == member:
                continue
            ContactBook.objects.update_or_create(
                website=website,
                email=email,
                address_book_id=book,
                defaults={"member": member, "changed_at": now},
            )
            changed += 1
            if not queue:
                continue
            if member:
                payload: dict[str, Any] = {"email": email, "data_fields": {}, "address_book_id": book}
                mode = ImportMode.CONTACT_UPDATE
            else:
                payload = {"email": email, "address_book_id": book}
                mode = ImportMode.SUBSCRIBER_UNSUBSCRIBE
            enqueue_single(website_id=website.pk, import_type="Contact", import_mode=mode, payload=payload)
    return changed


def set_fields(user: Any, values: Mapping[str, str]) -> bool:
    """Write the edited data fields to the customer's own record (:data:`USER_ATTRIBUTES`).

    Saving the user is a customer change: the observers mark the contact, and the next contact import
    carries the new values to the platform. Returns whether anything changed.
    """
    changed = [
        attr
        for key, value in values.items()
        if (attr := USER_ATTRIBUTES.get(key)) is not None and getattr(user, attr) != value
    ]
    for key, value in values.items():
        if key in USER_ATTRIBUTES:
            setattr(user, USER_ATTRIBUTES[key], value)
    if changed:
        user.save(update_fields=changed)
    return bool(changed)
