"""``sms``: SMS order-status messages (issue 12 §6, reference §7), at most once per order, status and slot.

**Queue.** The Oscar observer (:mod:`dotsync.store.oscar.observers.sms`) writes one ``pending``
``email_sms_order_queue`` row (:class:`~dotsync.models.SmsOrderQueue`) per enabled message slot when an
order reaches the slot's status; the table's unique key on (order, status, slot) is the "once".

**Settings** (store scope: a store's row over its website's over the defaults, ``config.py``):
``sms_enabled``; ``sms_opt_in``; four slots ``sms_<n>_enabled``, ``sms_<n>_status`` (an order status
name, compared without case) and ``sms_<n>_message`` with the placeholders ``{{var customer_name}}``
(first and last name), ``{{var customer_first_name}}`` and ``{{var order_number}}``. The customer's name
is the account's for a customer's order, else the billing address's, else the delivery address's.

**Opt-in** (``sms_opt_in``), checked when the row is sent, so an unsubscribe after the status change is
respected:

* ``subscribers`` (the default): the order's email is subscribed to the newsletter of the order's store
  (its ``newsletter_subscriber`` row is *Subscribed*) and the website's ``email_contact`` for it is not
  suppressed. Oscar records no SMS consent; the newsletter subscription is the customer's explicit,
  recorded and revocable opt-in to messages from the store, and unsubscribing (in the shop, or on the
  platform: the ``unsubscriber`` job writes it back) stops the SMS too. Otherwise the row is
  ``skipped``, reason ``not_opted_in``.
* ``all``: every order. Choose it only when the checkout tells customers that order updates come by SMS
  (a service message about their order, not marketing).

**Phone number.** The order's delivery address phone (Oscar's ``ShippingAddress.phone_number``), else the
billing address's, parsed with ``phonenumbers``: any country, a national number read in the address's
country. It must be a valid number for its country and able to take SMS (not a fixed line, toll-free,
premium-rate, shared-cost, UAN, voicemail or pager number); the row fails otherwise (``no_number``,
``invalid_number``, ``not_mobile``) without a call. The row keeps it in E.164 (``+33612345678``); the call
gets its digits (``33612345678``, the API's own example form).

**Text.** Placeholders filled, then cut to :data:`MAX_TEXT` UTF-16 code units (the platform's 1,600
characters as its .NET strings count them: an emoji counts two) at a character boundary that never splits
a surrogate pair, an accent from its letter, an emoji sequence (joiners, modifiers, variation selectors,
tags) or a flag; ``truncated`` says so.

**Sending, crash-safe.** Per website with an account, each run:

1. ``sending`` rows claimed more than :data:`CLAIM_TIMEOUT` ago were left by a run that stopped between
   its claim and the outcome: the SMS may or may not have gone, and the platform keeps no report of
   single sends to look it up in, so they go to ``review`` (``unconfirmed``). They are never sent again
   automatically: the admin grid's *Retry* is the operator's decision that it did not go.
2. Up to ``limit`` pending rows, oldest first: the order is read through the store adapter; a switched-off
   message or store, or a slot moved to another status since, is ``skipped`` (``switched_off``); opt-in
   and number checked; then the row is **claimed** (``sending``, ``claimed_at``, ``telephone``, ``text``)
   in its own committed transaction, checked to be still ours right before the call, sent, and its outcome
   recorded in one transaction:
   ``sent``; ``failed`` with ``platform_invalid_number`` (``ERROR_SMS_INVALIDPHONENUMBER``),
   ``not_permitted`` (``ERROR_SMS_SENDNOTPERMITTED``: no SMS credit; the website's run stops, the other
   rows wait) or ``refused`` (any other refusal), the platform's text in ``message``. A transient error
   after which the platform surely did not act (throttled, 503, connection refused, circuit open) puts
   the row back to ``pending``; one after which it may have acted (timeout, 500, dropped connection)
   puts it in ``review``. Either ends the website's run.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import SMS_PLACEHOLDER_RE, SMS_SLOTS, StoreSettings, get_store_config
from dotsync.exceptions import (
    AuthenticationError,
    CircuitOpenError,
    PlatformError,
    RateLimitedError,
    ServerError,
)
from dotsync.jobs.automation.passes import run_per_website
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.jobs.status_lines import TableReport
from dotsync.models import Contact, NewsletterSubscriber, SmsFailReason, SmsOrderQueue, SmsStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.models.sync import canonical_email
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.store.records import Address, Customer, Order
from dotsync.store.registry import get_adapter

logger = logging.getLogger(__name__)

JOB_ID = "sms"
SEND_LIMIT = 200
"""Rows sent per website per run (a call each); the rest wait for the next run (5 minutes by default)."""
MAX_TEXT = 1600
"""The platform's limit on one message (``sms-campaigns.yaml``: ``message`` maxLength 1600), counted in
UTF-16 code units as the platform's .NET strings count."""
CLAIM_TIMEOUT = dt.timedelta(minutes=15)
"""A row still ``sending`` this long after its claim was left by a run that stopped. Longer than a send
call can take with the client's retries, so a slow run's own claim is never taken for a stopped one."""
NOT_SMS_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
        phonenumbers.PhoneNumberType.PAGER,
    }
)
"""Number types that cannot take an SMS (``FIXED_LINE_OR_MOBILE``, as in the US, may)."""
NOT_SENT_UNREACHABLE = frozenset({"refused", "dns", "tls"})
"""Transport failures after which the request surely never reached the platform."""
ERROR_INVALID_NUMBER = "ERROR_SMS_INVALIDPHONENUMBER"
ERROR_NOT_PERMITTED = "ERROR_SMS_SENDNOTPERMITTED"
OPT_IN_ALL = "all"

S = SmsStatus
R = SmsFailReason


def _now() -> dt.datetime:
    return timezone.now()


# --- the phone number and the text -------------------------------------------------------------------


def e164(raw: str, country: str = "") -> tuple[str, SmsFailReason]:
    """A phone number as typed, in E.164 (``+33612345678``), or why it cannot take an SMS.

    Args:
        raw: the number as the shop holds it (international, or national to ``country``).
        country: the address's ISO 3166-1 alpha-2 country, for a national number.

    Returns:
        ``(number, NONE)``, or ``("", reason)`` with ``no_number``, ``invalid_number`` or ``not_mobile``.
    """
    raw = (raw or "").strip()
    if not raw:
        return "", R.NO_NUMBER
    try:
        number = phonenumbers.parse(raw, country.strip().upper() or None)
    except phonenumbers.NumberParseException:
        return "", R.INVALID_NUMBER
    if not phonenumbers.is_valid_number(number):
        return "", R.INVALID_NUMBER
    if phonenumbers.number_type(number) in NOT_SMS_TYPES:
        return "", R.NOT_MOBILE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), R.NONE


def phone_of(order: Order) -> tuple[str, SmsFailReason]:
    """The order's phone in E.164 (delivery address first, then billing), or the first address's reason."""
    reason = R.NO_NUMBER
    for address in (order.delivery_address, order.billing_address):
        if address is None or not address.telephone.strip():
            continue
        number, why = e164(address.telephone, address.country)
        if number:
            return number, R.NONE
        reason = why if reason is R.NO_NUMBER else reason
    return "", reason


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _joins_previous(text: str, i: int) -> bool:
    """Whether ``text[i]`` belongs to the same user-perceived character as ``text[i - 1]``."""
    ch, cp = text[i], ord(text[i])
    if unicodedata.category(ch) in ("Mn", "Me", "Mc"):  # combining accents and marks
        return True
    if cp == 0x200D or text[i - 1] == "\u200d":  # zero-width joiner, and what it joins
        return True
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:  # skin-tone modifiers, emoji tag sequences
        return True
    if 0x1F1E6 <= cp <= 0x1F1FF:  # a regional indicator: the second of a flag's pair joins the first
        run = 0
        while i - run - 1 >= 0 and 0x1F1E6 <= ord(text[i - run - 1]) <= 0x1F1FF:
            run += 1
        return run % 2 == 1
    return text[i - 1] == "\r" and ch == "\n"


def truncate(text: str, limit: int = MAX_TEXT) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` UTF-16 code units without splitting a character; and whether it was.

    The cut never falls inside a surrogate pair (Python strings hold code points), nor between a letter and
    its combining accents, inside an emoji sequence (joiner, modifier, variation selector, tag), inside a
    flag's pair of regional indicators, or between CR and LF.
    """
    if sum(_utf16_units(ch) for ch in text) <= limit:
        return text, False
    used = cut = 0
    for ch in text:
        used += _utf16_units(ch)
        if used > limit:
            break
        cut += 1
    while cut > 0 and _joins_previous(text, cut):
        cut -= 1
    return text[:cut].rstrip(), True


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{{var name}}`` replaced by ``values[name]`` (empty when unknown)."""
    return SMS_PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), template)


def placeholders(order: Order, customer: Customer | None) -> dict[str, str]:
    """The values of the placeholders for an order (see the module docstring for the name's source)."""
    names: list[tuple[str, str]] = []
    if customer is not None:
        names.append((customer.first_name, customer.last_name))
    for address in (order.billing_address, order.delivery_address):
        if isinstance(address, Address):
            names.append((address.first_name, address.last_name))
    first, last = next(((f.strip(), la.strip()) for f, la in names if f.strip() or la.strip()), ("", ""))
    return {
        "customer_name": " ".join(part for part in (first, last) if part),
        "customer_first_name": first,
        "order_number": order.number,
    }


# --- opt-in --------------------------------------------------------------------------------------------


def opted_in(website_id: int, wanted: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (store id, email) pairs have opted in under ``subscribers`` (two queries).

    Subscribed to the store's newsletter, and the website's contact (if any) not suppressed.
    """
    pairs = {(store_id, canonical_email(email)) for store_id, email in wanted if email}
    if not pairs:
        return set()
    emails = {email for _, email in pairs}
    subscribed = {
        (store_id, email)
        for store_id, email in NewsletterSubscriber.objects.annotate(email=Lower("subscriber_email"))
        .filter(
            store_id__in={s for s, _ in pairs},
            email__in=emails,
            subscriber_status=SubscriberStatus.SUBSCRIBED,
        )
        .values_list("store_id", "email")
    }
    suppressed = set(
        Contact.objects.filter(website_id=website_id, email__in=emails, suppressed=True).values_list(
            "email", flat=True
        )
    )
    return {pair for pair in pairs & subscribed if pair[1] not in suppressed}


# --- the row's state -------------------------------------------------------------------------------------


def _close(row: SmsOrderQueue, status: SmsStatus, reason: SmsFailReason, message: str = "") -> bool:
    """A pending row failed or skipped before any call (only if still pending)."""
    return bool(
        SmsOrderQueue.objects.filter(pk=row.pk, send_status=S.PENDING).update(
            send_status=status, fail_reason=reason, message=message[:255], updated_at=_now()
        )
    )


def _claim(row: SmsOrderQueue, telephone: str, text: str, truncated: bool, at: dt.datetime) -> bool:
    """Claim a pending row in its own committed transaction, with what is about to be sent."""
    with transaction.atomic():
        return bool(
            SmsOrderQueue.objects.filter(pk=row.pk, send_status=S.PENDING).update(
                send_status=S.SENDING,
                claimed_at=at,
                telephone=telephone,
                text=text,
                truncated=truncated,
                fail_reason=R.NONE,
                message="",
                updated_at=at,
            )
        )


def _still_ours(row: SmsOrderQueue, at: dt.datetime) -> bool:
    """The row is still ``sending`` under this run's claim (no later run moved it to review)."""
    return SmsOrderQueue.objects.filter(pk=row.pk, send_status=S.SENDING, claimed_at=at).exists()


def _settle(
    row: SmsOrderQueue, at: dt.datetime, status: SmsStatus, reason: SmsFailReason, message: str
) -> None:
    """Record the outcome of this run's call, in one transaction.

    A row a later run moved to ``review`` meanwhile still gets the outcome the platform gave: what the
    call did is known now.
    """
    fields: dict[str, Any] = {
        "send_status": status,
        "fail_reason": reason,
        "message": message[:255],
        "updated_at": _now(),
    }
    if status is S.SENT:
        fields["sent_at"] = fields["updated_at"]
    if status is S.PENDING:
        fields["claimed_at"] = None
    with transaction.atomic():
        SmsOrderQueue.objects.filter(pk=row.pk, claimed_at=at, send_status__in=(S.SENDING, S.REVIEW)).update(
            **fields
        )


def _surely_not_sent(exc: PlatformError) -> bool:
    """The platform surely did not act on the call (the same rule as the transport's retry policy)."""
    if isinstance(exc, CircuitOpenError | RateLimitedError | AuthenticationError):
        return True
    if isinstance(exc, ServerError):
        return exc.status_code == 503 or exc.error_code == "ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE"
    return exc.unreachable in NOT_SENT_UNREACHABLE


# --- the job -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What one row will send."""

    telephone: str
    text: str
    truncated: bool


class SmsJob(Job):
    """Sends queued ``email_sms_order_queue`` rows per website (see the module docstring)."""

    def run(self, ctx: RunContext, *, limit: int = SEND_LIMIT) -> JobResult:
        """Expire interrupted sends, then send up to ``limit`` pending rows per website."""
        return run_per_website(
            self.id, ctx, "sms", lambda site, client, result: run_website(site, client, result, limit=limit)
        )


def run_website(site: WebsiteContext, client: DotdigitalClient, result: JobResult, *, limit: int) -> None:
    """One website's run: interrupted sends to review, then the pending rows."""
    expire_interrupted(site.website.pk, result, site.code)
    rows = list(
        SmsOrderQueue.objects.filter(website_id=site.website.pk, send_status=S.PENDING).order_by("id")[:limit]
    )
    if not rows:
        return
    adapter = get_adapter()
    orders = {o.id: o for o in adapter.orders({r.order_id for r in rows})}
    customer_ids = {o.customer_id for o in orders.values() if o.customer_id is not None}
    customers = {c.id: c for c in adapter.customers(customer_ids)} if customer_ids else {}
    settings: dict[int, StoreSettings] = {}
    for store_id in {r.store_id for r in rows}:
        scfg = get_store_config(store_id, site.cfg)
        if scfg.row_problems:  # its rows wait until the store's settings are fixed
            result.errors.extend(scfg.row_problems)
            continue
        settings[store_id] = scfg
    consent = opted_in(
        site.website.pk, [(r.store_id, orders[r.order_id].email) for r in rows if r.order_id in orders]
    )
    for row in rows:
        if row.store_id not in settings:
            continue
        order = orders.get(row.order_id)
        customer = customers.get(order.customer_id) if order and order.customer_id is not None else None
        outcome = prepare(row, order, customer, settings[row.store_id], consent)
        if not isinstance(outcome, Prepared):
            status, reason = outcome
            if _close(row, status, reason):
                result.add(site.code, "skipped" if status is S.SKIPPED else "failed")
                result.add(site.code, reason.value)
            continue
        if not send(row, outcome, client, result, site.code):
            return


def prepare(
    row: SmsOrderQueue,
    order: Order | None,
    customer: Customer | None,
    scfg: StoreSettings,
    consent: set[tuple[int, str]],
) -> Prepared | tuple[SmsStatus, SmsFailReason]:
    """What a pending row sends, or the status and reason it ends with unsent."""
    if order is None:
        return S.FAILED, R.ORDER_GONE
    values = scfg.values
    template = str(values[f"sms_{row.slot}_message"]) if row.slot in SMS_SLOTS else ""
    status = str(values.get(f"sms_{row.slot}_status") or "")
    if not (values["sms_enabled"] and values.get(f"sms_{row.slot}_enabled") and template):
        return S.SKIPPED, R.SWITCHED_OFF
    if status.lower() != row.order_status.strip().lower():  # the slot now texts another status
        return S.SKIPPED, R.SWITCHED_OFF
    if values["sms_opt_in"] != OPT_IN_ALL and (row.store_id, canonical_email(order.email)) not in consent:
        return S.SKIPPED, R.NOT_OPTED_IN
    telephone, reason = phone_of(order)
    if not telephone:
        return S.FAILED, reason
    text, truncated = truncate(render(template, placeholders(order, customer)))
    if not text:
        return S.SKIPPED, R.SWITCHED_OFF
    return Prepared(telephone, text, truncated)


def send(
    row: SmsOrderQueue, prepared: Prepared, client: DotdigitalClient, result: JobResult, code: str
) -> bool:
    """Claim, send and settle one row; False when the website's run must stop (no SMS credit).

    Raises:
        PlatformError: a transient error (the row is back to pending, or in review) or a refused login.
    """
    at = _now()
    if not _claim(row, prepared.telephone, prepared.text, prepared.truncated, at):
        result.add(code, "claim_lost")
        return True
    if not _still_ours(row, at):  # never call for a row another run took meanwhile
        result.add(code, "claim_lost")
        return True
    try:
        client.send_sms(prepared.telephone.lstrip("+"), prepared.text)
    except PlatformError as exc:
        return _failed(row, at, exc, result, code)
    _settle(row, at, S.SENT, R.NONE, "")
    result.add(code, "sent")
    logger.info("sms: row %s sent (order status %r, slot %s)", row.pk, row.order_status, row.slot)
    return True


def _failed(row: SmsOrderQueue, at: dt.datetime, exc: PlatformError, result: JobResult, code: str) -> bool:
    if exc.transient or isinstance(exc, AuthenticationError):
        if _surely_not_sent(exc):
            _settle(row, at, S.PENDING, R.NONE, "")
            result.add(code, "requeued")
        else:
            _settle(row, at, S.REVIEW, R.UNCONFIRMED, exc.message)
            result.add(code, "review")
        raise exc  # the platform is in trouble (or refuses the login): this website's run ends here
    if exc.error_code == ERROR_INVALID_NUMBER:
        reason = R.PLATFORM_INVALID_NUMBER
    elif exc.error_code == ERROR_NOT_PERMITTED:
        reason = R.NOT_PERMITTED
    else:
        reason = R.REFUSED
    _settle(row, at, S.FAILED, reason, exc.message)
    result.add(code, "failed")
    result.add(code, reason.value)
    if reason is R.NOT_PERMITTED:
        result.errors.append(f"{code}: sms: the platform does not permit SMS sends ({exc.message})")
        return False
    return True


def expire_interrupted(website_id: int, result: JobResult, code: str) -> None:
    """Step 1: rows claimed more than :data:`CLAIM_TIMEOUT` ago and never settled go to review."""
    now = _now()
    n = SmsOrderQueue.objects.filter(
        website_id=website_id, send_status=S.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        send_status=S.REVIEW,
        fail_reason=R.UNCONFIRMED,
        message="The run sending it stopped before the platform's answer was recorded.",
        updated_at=now,
    )
    if n:
        result.add(code, "review", n)


# --- the admin's actions ---------------------------------------------------------------------------------

RETRYABLE = (S.FAILED, S.REVIEW, S.SKIPPED)
CANCELLABLE = (S.PENDING, S.REVIEW)
CANCELLED_MESSAGE = "Cancelled in dotsync."


def retry(rows: QuerySet[SmsOrderQueue]) -> int:
    """Queue failed, review and skipped rows again (the admin's *Retry*); returns how many.

    A ``review`` row is one whose send could not be confirmed after an interrupted run: retrying it is the
    operator's decision that the customer did not get it. The next run checks everything again.
    """
    return rows.filter(send_status__in=RETRYABLE).update(
        send_status=S.PENDING,
        fail_reason=R.NONE,
        message="",
        claimed_at=None,
        sent_at=None,
        updated_at=_now(),
    )


def cancel(rows: QuerySet[SmsOrderQueue]) -> int:
    """Never send pending and review rows (the admin's *Cancel*): ``failed``, reason ``cancelled``.

    Rows being sent cannot be cancelled: the platform may have them already.
    """
    return rows.filter(send_status__in=CANCELLABLE).update(
        send_status=S.FAILED, fail_reason=R.CANCELLED, message=CANCELLED_MESSAGE, updated_at=_now()
    )


STATUS_LINE = TableReport(
    "email_sms_order_queue", SmsOrderQueue, "send_status", {s.value: s.label for s in S}
)
"""The ``dotsync status`` line of ``email_sms_order_queue``: rows per website by send status."""

JOB = SmsJob(
    JOB_ID,
    "sms_order_status",
    "SMS order-status messages (email_sms_order_queue) -> the platform, at most once per order and status",
    JobScope.WEBSITE,
    default_frequency=5,
    # with the other sends, once the imports drained; the platform's unsubscribes are known before the
    # opt-in is checked
    after=("importer", "unsubscriber"),
)


def run(website_code: str | None = None) -> JobResult:
    """Run the sms job once (every enabled website, or ``website_code``)."""
    return JOB(website_code)
