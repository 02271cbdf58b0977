"""A fixed-window request counter per client, in Django's cache: the public forms' rate limit.

Each public form (email capture, the newsletter's subscribe form) counts posts per client address
in windows of its own length and refuses the ones over its limit. The counter lives in Django's
cache: a shop with several processes needs a shared cache (Redis, Memcached, the database) for the
limit to hold across them.
"""

from __future__ import annotations

from django.core.cache import cache


def over_limit(scope: str, client: str, *, limit: int, window: int) -> bool:
    """Count one request from ``client`` under ``scope``; True when it is over ``limit`` in the window.

    Args:
        scope: what is counted, e.g. ``"capture"`` (each form has its own counters).
        client: the client's address.
        limit: requests allowed per window.
        window: the window's length in seconds (it starts with the client's first request).
    """
    key = f"dotsync:{scope}:{client}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        count = 1
    return count > limit
