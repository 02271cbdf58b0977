"""Easy email capture (issue 12 §5, reference ``Controller/Ajax/Emailcapture.php``).

``POST dotsync/capture/email/`` with ``email=...`` (CSRF-protected; the capture script sends the token):
when the session's basket is a guest's, has lines and the email is new for it, the basket's
``email_quote`` row takes the email (the observers'
:func:`~dotsync.store.oscar.observers.handlers.guest_basket_email`, as when a guest types it at Oscar's
checkout), so the basket feeds the guests' abandoned-cart series.

Answers (JSON ``{"outcome": ...}``, a :class:`Outcome`): 200 for every valid email, 400 for an invalid
one, 429 when the client (``REMOTE_ADDR``) posted more than :data:`RATE_LIMIT` times in
:data:`RATE_WINDOW` seconds, 404 when capture is off for the request's website. The email is never logged.
"""

from __future__ import annotations

import enum
import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from dotsync.models import Quote
from dotsync.models.sync import canonical_email
from dotsync.store.oscar.observers import handlers
from dotsync.storefront import tracking
from dotsync.storefront.passcode import client_ip
from dotsync.storefront.ratelimit import over_limit

log = logging.getLogger("dotsync.storefront")

RATE_LIMIT = 20
"""Posts a client may make in :data:`RATE_WINDOW` seconds."""
RATE_WINDOW = 60
MAX_LENGTH = 254
"""The longest email accepted (RFC 5321's path limit)."""


class Outcome(enum.StrEnum):
    """What a capture did."""

    CAPTURED = "captured"
    """The basket's quote row has the email now."""
    UNCHANGED = "unchanged"
    """The basket's quote row had that email already."""
    EMPTY_BASKET = "empty_basket"
    """The session has no basket with lines: nothing to follow up."""
    CUSTOMER_BASKET = "customer_basket"
    """The basket belongs to a customer: their account's email is the basket's."""
    INVALID = "invalid"
    """Not an email (400)."""
    RATE_LIMITED = "rate_limited"
    """Too many posts from the client (429)."""
    NO_STORE = "no_store"
    """No store takes the basket (no website is configured for the shop)."""
    OFF = "off"
    """Email capture is off for the website (404)."""


def _answer(outcome: Outcome, status: int = 200) -> JsonResponse:
    return JsonResponse({"outcome": outcome.value}, status=status)


def _valid(email: str) -> bool:
    if not email or len(email) > MAX_LENGTH:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


@csrf_protect
@require_POST
def capture_email(request: HttpRequest) -> JsonResponse:
    """``dotsync/capture/email/``: set a typed email on the session's guest basket (see the module)."""
    settings = tracking.for_request(request)
    if settings is None or not settings.capture_enabled:
        return _answer(Outcome.OFF, 404)
    if over_limit("capture", client_ip(request), limit=RATE_LIMIT, window=RATE_WINDOW):
        log.warning("email capture refused: client over the rate limit (website %s)", settings.website_code)
        return _answer(Outcome.RATE_LIMITED, 429)
    email = request.POST.get("email", "").strip()
    if not _valid(email):
        return _answer(Outcome.INVALID, 400)
    outcome = _capture(request, canonical_email(email))
    log.info("email capture: %s (website %s)", outcome.value, settings.website_code)
    return _answer(outcome)


def _capture(request: HttpRequest, email: str) -> Outcome:
    basket = getattr(request, "basket", None)  # Oscar's BasketMiddleware
    if basket is None or basket.id is None or basket.is_empty:
        return Outcome.EMPTY_BASKET
    if basket.owner_id is not None:
        return Outcome.CUSTOMER_BASKET
    current = Quote.objects.filter(quote_id=basket.id).values_list("email", flat=True).first()
    if current and canonical_email(current) == email:
        return Outcome.UNCHANGED
    with transaction.atomic():
        handlers.guest_basket_email(basket.id, tracking.site_id(request), email)
    saved = Quote.objects.filter(quote_id=basket.id).values_list("email", flat=True).first()
    return Outcome.CAPTURED if saved == email else Outcome.NO_STORE
