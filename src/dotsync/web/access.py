"""Who may read ``/metrics``: loopback clients, or holders of the token in ``DOTSYNC_METRICS_TOKEN``."""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.http import HttpRequest

TOKEN_ENV = "DOTSYNC_METRICS_TOKEN"
"""Environment variable holding the bearer token that lets non-loopback clients scrape ``/metrics``."""


def is_loopback(request: HttpRequest) -> bool:
    """True when the request comes from 127.0.0.0/8 or ::1 (``REMOTE_ADDR``; a proxy's address counts)."""
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def has_token(request: HttpRequest) -> bool:
    """True when ``DOTSYNC_METRICS_TOKEN`` is set and the request carries it as ``Authorization: Bearer``.

    The comparison takes the same time whatever the token sent (``hmac.compare_digest``).
    """
    expected = os.environ.get(TOKEN_ENV, "")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(sent.strip().encode(), expected.encode())


def may_scrape(request: HttpRequest) -> bool:
    """True for a loopback client or a holder of the metrics token."""
    return is_loopback(request) or has_token(request)
