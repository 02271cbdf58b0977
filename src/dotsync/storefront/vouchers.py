"""Unique voucher codes for the coupon dynamic content (reference §5.1): real Oscar vouchers, one per email.

:func:`issue` answers a code for an email from a chosen Oscar offer (``ConditionalOffer`` of type
``Voucher``). A new code is an Oscar ``Voucher`` tied to that offer, usable once (``SINGLE_USE``), ending
``expires_after_days`` from now (else when the offer ends), and recorded in ``email_coupon_attribute``.
What an email gets depends on its current code, exactly as the reference's table:

============  ===========  =====================  ============================
allow_resend  cancel_send  current code           result
============  ===========  =====================  ============================
no            any          any                    a new code (``regenerated``)
yes           yes          expired                a new code
yes           yes          used (not expired)     nothing (``used_expired``)
yes           yes          active                 the same code (``resent``)
yes           no           used or expired        a new code
yes           no           active                 the same code (``resent``)
any           any          none                   a new code (``generated``)
============  ===========  =====================  ============================

"Used" is Oscar's own record (a ``VoucherApplication``: an order used it); "expired" is Oscar's
``Voucher.is_expired``, the same check that refuses the code at the basket. An offer that is not
available (suspended, not started, ended, consumed) gives nothing (``used_expired``); an invalid email
gives nothing (``email_invalid``); no email gives a new anonymous code every time.

Simultaneous requests for one email settle on one code: each request notes the email's current code
before it takes the row lock (``select_for_update``; SQLite's immediate transactions serialise writers),
and a request that finds a different current code once it holds the lock answers that code, made by a
request that overlapped it. The partial unique constraint on ``email_coupon_attribute`` (one current row
per website, offer and email) catches two first codes inserted at once; the loser answers the winner's.
"""

from __future__ import annotations

import enum
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync.models import EmailCouponAttribute, Website

DEFAULT_PREFIX = "DOT-"
"""The reference's prefix when the URL names none."""
RANDOM_LENGTH = 9
"""Random characters in a code, grouped by :data:`GROUP` with :data:`SEPARATOR`."""
GROUP = 3
SEPARATOR = "-"
AFFIX_LENGTH = 32
"""The longest prefix or suffix kept (Oscar's codes hold 128 characters)."""
NO_END = timedelta(days=100 * 365)
"""A voucher's lifetime when neither the request nor the offer sets an end (Oscar needs one)."""
CODE_ATTEMPTS = 5
"""New random codes tried when one is already an Oscar voucher's."""
EMAIL_LENGTH = 255
"""The longest email ``email_coupon_attribute`` holds (longer is refused as invalid)."""
CONFLICTS = 20
"""Most lost inserts of an email's current code one request retries (each is another request's code)."""
LOCK_WAIT = 10.0
"""Seconds a request waits for another one's lock on the same email's code."""


class CodeFormat(enum.StrEnum):
    """``code_format``: the characters of a code's random part."""

    ALPHANUM = "alphanum"
    ALPHA = "alpha"
    NUM = "num"

    @property
    def charset(self) -> str:
        """The characters the random part is drawn from."""
        letters, digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
        return {CodeFormat.ALPHA: letters, CodeFormat.NUM: digits}.get(self, letters + digits)


class Outcome(enum.StrEnum):
    """What a coupon request ended in (the reference processor's statuses)."""

    GENERATED = "generated"
    """A first code for this email (or an anonymous code)."""
    REGENERATED = "regenerated"
    """A new code that replaced the email's current one."""
    RESENT = "resent"
    """The email's current code again."""
    USED_EXPIRED = "used_expired"
    """No code: the offer is unavailable, or the email's code was used and cancel-send is on."""
    EMAIL_INVALID = "email_invalid"
    """No code: the email is not a valid address."""


class State(enum.Enum):
    """The state of an email's current code."""

    NONE = "none"
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


class Action(enum.Enum):
    """What the table says to do."""

    NEW = "new"
    RESEND = "resend"
    NOTHING = "nothing"


@dataclass(frozen=True)
class CodeRequest:
    """One coupon request: the offer, the email and the reference's ``code_*`` options."""

    offer_id: int
    email: str = ""
    """As sent (``@EMAIL@`` resolved by dotdigital); empty asks for an anonymous code."""
    prefix: str = DEFAULT_PREFIX
    suffix: str = ""
    code_format: CodeFormat = CodeFormat.ALPHANUM
    expires_after_days: int | None = None
    """The code's lifetime; ``None``: until the offer ends."""
    allow_resend: bool = False
    cancel_send: bool = False


@dataclass(frozen=True)
class Issued:
    """The answer: the outcome and the code to show (empty when there is none)."""

    outcome: Outcome
    code: str = ""


def decide(state: State, *, allow_resend: bool, cancel_send: bool) -> Action:
    """The reference's table: what to do for an email whose current code is in ``state``."""
    if state is State.NONE or not allow_resend:
        return Action.NEW
    if state is State.ACTIVE:
        return Action.RESEND
    if cancel_send and state is State.USED:
        return Action.NOTHING
    return Action.NEW


def normalise_email(raw: str) -> str | None:
    """The email lower case, ``""`` when none was sent, ``None`` when invalid (or too long to record).

    A ``+`` decoded as a space from an unencoded query string is tried once as ``+``, as the reference does.
    """
    email = raw.strip()
    if not email:
        return ""
    if len(email) > EMAIL_LENGTH:
        return None
    for candidate in (email, email.replace(" ", "+")):
        try:
            validate_email(candidate)
        except ValidationError:
            continue
        return candidate.lower()
    return None


def clean_affix(raw: str) -> str:
    """A prefix or suffix as a code may hold it: letters, digits, ``-`` and ``_``, upper case, bounded."""
    return "".join(ch for ch in raw if ch.isascii() and (ch.isalnum() or ch in "-_")).upper()[:AFFIX_LENGTH]


def make_code(prefix: str, suffix: str, code_format: CodeFormat) -> str:
    """``prefix`` + 9 random characters in groups of 3 (``ABC-DEF-GHI``) + ``suffix``."""
    chars = "".join(secrets.choice(code_format.charset) for _ in range(RANDOM_LENGTH))
    body = SEPARATOR.join(chars[i : i + GROUP] for i in range(0, RANDOM_LENGTH, GROUP))
    return f"{clean_affix(prefix)}{body}{clean_affix(suffix)}"


def voucher_offer(offer_id: int) -> Any:
    """The Oscar voucher-type offer ``offer_id``, or ``None``."""
    offers = get_model("offer", "ConditionalOffer")
    return offers._default_manager.filter(pk=offer_id, offer_type=offers.VOUCHER).first()


def _current(website: Website, offer_id: int, email: str) -> QuerySet[EmailCouponAttribute]:
    return EmailCouponAttribute.objects.filter(
        website=website, offer_id=offer_id, email=email, replaced_at__isnull=True
    ).order_by("pk")


def _state(row: EmailCouponAttribute | None) -> State:
    """The state of the current row's voucher (a voucher deleted in Oscar's dashboard counts as none)."""
    voucher = (
        get_model("voucher", "Voucher")._default_manager.filter(pk=row.voucher_id).first()
        if row is not None
        else None
    )
    if voucher is None:
        return State.NONE
    if voucher.is_expired():
        return State.EXPIRED
    if voucher.applications.exists():
        return State.USED
    return State.ACTIVE


def _new_code(website: Website, offer: Any, email: str, request: CodeRequest, now: datetime) -> str:
    """Make an Oscar voucher for ``offer`` and record it; returns its code."""
    voucher_model = get_model("voucher", "Voucher")
    expires_at = now + timedelta(days=request.expires_after_days) if request.expires_after_days else None
    end = expires_at or offer.end_datetime or now + NO_END
    for attempt in range(CODE_ATTEMPTS):
        code = make_code(request.prefix, request.suffix, request.code_format).upper()
        name = f"{offer.name[: 128 - len(code) - 3]} ({code})"
        try:
            with transaction.atomic():  # a savepoint: a code already taken is tried again
                voucher = voucher_model._default_manager.create(
                    name=name,
                    code=code,
                    usage=voucher_model.SINGLE_USE,
                    start_datetime=now,
                    end_datetime=end,
                )
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1:
                raise
            continue
        voucher.offers.add(offer)
        EmailCouponAttribute.objects.create(
            website=website,
            offer_id=offer.pk,
            voucher_id=voucher.pk,
            code=voucher.code,
            email=email,
            expires_at=expires_at,
            created_at=now,
        )
        return str(voucher.code)
    raise AssertionError("unreachable")  # pragma: no cover


def _seen(website: Website, offer_id: int, email: str) -> int | None:
    """The email's current row as this request found it on arrival, before taking the lock."""
    return _current(website, offer_id, email).values_list("pk", flat=True).first()


def _settle(website: Website, offer: Any, email: str, request: CodeRequest, seen: int | None) -> Issued:
    """Under the lock on the email's current row: the table's answer, or the overlapping request's code."""
    now = timezone.now()
    with transaction.atomic():
        row = _current(website, offer.pk, email).select_for_update().first()
        if row is not None and row.pk != seen:
            return Issued(Outcome.RESENT, row.code)  # made by a request that overlapped this one
        action = decide(_state(row), allow_resend=request.allow_resend, cancel_send=request.cancel_send)
        if action is Action.NOTHING:
            return Issued(Outcome.USED_EXPIRED)
        if action is Action.RESEND and row is not None:
            return Issued(Outcome.RESENT, row.code)
        if row is not None:
            row.replaced_at = now
            row.save(update_fields=["replaced_at"])
        outcome = Outcome.GENERATED if row is None else Outcome.REGENERATED
        return Issued(outcome, _new_code(website, offer, email, request, now))


def _busy(exc: OperationalError) -> bool:
    return "locked" in str(exc).lower()


def issue(website: Website, request: CodeRequest) -> Issued:
    """Answer a coupon request for ``website`` (see the module's table)."""
    now = timezone.now()
    offer = voucher_offer(request.offer_id)
    if offer is None or not offer.is_available(test_date=now):
        return Issued(Outcome.USED_EXPIRED)
    email = normalise_email(request.email)
    if email is None:
        return Issued(Outcome.EMAIL_INVALID)
    if not email:
        with transaction.atomic():
            return Issued(Outcome.GENERATED, _new_code(website, offer, "", request, now))
    seen: int | None = None
    looked = False
    deadline, pause, conflicts = time.monotonic() + LOCK_WAIT, 0.005, 0
    while True:
        try:
            if not looked:  # once, on arrival (a busy table is waited for as the lock is)
                seen, looked = _seen(website, offer.pk, email), True
            return _settle(website, offer, email, request, seen)
        except IntegrityError:
            # another request inserted the email's current code at once: its row is current now, and
            # the next pass answers it. Under a stream of requests that each make a code (allow_resend
            # off) a request can lose again: on PostgreSQL the row it waited for was replaced meanwhile,
            # so its locked read found none; each conflict is another request's committed code
            conflicts += 1
            if conflicts > CONFLICTS or time.monotonic() > deadline:
                raise
        except OperationalError as exc:
            # SQLite's shared-cache databases (Django's in-memory test database) refuse a busy write
            # lock at once instead of waiting out the timeout: wait for it here
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
