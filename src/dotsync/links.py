"""Signed cart-restore links: the token and the URL, with signing only (no views, no models).

The jobs (CartInsight ``cartUrl``) and the storefront's basket fragment build links here; the view that
opens them is :mod:`dotsync.storefront.restore`. A token is Django's :func:`~django.core.signing.dumps` of
the basket id under its own salt, time-stamped: :func:`read_token` refuses a tampered token and one older
than the website's ``cart_restore_max_age``, so a basket id cannot be guessed into someone else's basket.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.core import signing

SALT = "dotsync.storefront.cart-restore"
"""The signing salt of cart-restore tokens (a token signed for anything else never opens a basket)."""

RESTORE_PREFIX = "dotsync/cart/"
"""Where the restore view is mounted (``dotsync.storefront.urls``): ``<prefix><website>/<token>/``."""


def make_token(basket_id: int) -> str:
    """A signed, time-stamped token carrying ``basket_id``."""
    return signing.dumps({"b": int(basket_id)}, salt=SALT)


def read_token(token: str, max_age_seconds: int) -> int | None:
    """The basket id of a valid token no older than ``max_age_seconds``; None when tampered or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age_seconds)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    basket_id = data.get("b") if isinstance(data, dict) else None
    return basket_id if isinstance(basket_id, int) and basket_id > 0 else None


def restore_path(basket_id: int, website_code: str) -> str:
    """The site-relative path of the cart-restore link of ``basket_id`` in ``website_code``."""
    return f"/{RESTORE_PREFIX}{quote(website_code)}/{make_token(basket_id)}/"


def restore_url(
    basket_id: int, website_code: str, domain: str | None, params: dict[str, str] | None = None
) -> str:
    """The absolute cart-restore link (a path when ``domain`` is unknown), with ``params`` (UTM) appended.

    Args:
        basket_id: the Oscar basket to restore.
        website_code: the website whose ``cart_restore_max_age`` applies.
        domain: the store's Django ``Site`` domain.
        params: query parameters carried through to the basket page (UTM, tracking).
    """
    path = restore_path(basket_id, website_code)
    url = f"https://{domain}{path}" if domain else path
    return f"{url}?{urlencode(params)}" if params else url
