"""Signed newsletter links: confirmation (expiring, one use) and unsubscribe, with Django's signing.

A token is :func:`~django.core.signing.dumps` of the subscription's id and email under its own salt, so
a token signed for one purpose (or a cart-restore token) never works for another, and an id cannot be
guessed into someone else's subscription. A confirmation token also carries the row's
``subscriber_confirm_code``, which confirming clears: the link works once, and a new subscribe request
makes the old link useless. Confirmation tokens expire after the website's ``newsletter_confirm_max_age``;
unsubscribe tokens do not expire (the link sits in old emails, and it can only unsubscribe).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

CONFIRM_SALT = "dotsync.storefront.newsletter-confirm"
UNSUBSCRIBE_SALT = "dotsync.storefront.newsletter-unsubscribe"


@dataclass(frozen=True)
class Claim:
    """What a valid token names: the ``newsletter_subscriber`` row, its email and (confirm) its code."""

    subscriber_id: int
    email: str
    code: str = ""


def confirm_token(subscriber_id: int, email: str, code: str) -> str:
    """A signed, time-stamped confirmation token for the row ``subscriber_id`` with ``code``."""
    return signing.dumps({"s": int(subscriber_id), "e": email, "c": code}, salt=CONFIRM_SALT)


def unsubscribe_token(subscriber_id: int, email: str) -> str:
    """A signed unsubscribe token for the row ``subscriber_id`` of ``email``."""
    return signing.dumps({"s": int(subscriber_id), "e": email}, salt=UNSUBSCRIBE_SALT)


def _claim(data: object, *, with_code: bool) -> Claim | None:
    if not isinstance(data, dict):
        return None
    sid, email, code = data.get("s"), data.get("e"), data.get("c", "")
    if not isinstance(sid, int) or sid <= 0 or not isinstance(email, str) or not email:
        return None
    if with_code and (not isinstance(code, str) or not code):
        return None
    return Claim(sid, email, code if with_code else "")


def read_confirm(token: str, max_age_seconds: int) -> Claim | None:
    """The claim of a valid confirmation token no older than ``max_age_seconds``; None when bad or expired."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age_seconds)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return _claim(data, with_code=True)


def read_unsubscribe(token: str) -> Claim | None:
    """The claim of a valid unsubscribe token; None when tampered."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return _claim(data, with_code=False)
