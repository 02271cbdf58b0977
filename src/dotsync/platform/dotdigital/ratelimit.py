"""Per-account call budgets, so every job that shares a dotdigital account stays inside one limit.

dotdigital tracks limits per account: 2,000 calls per rolling hour on the flat scheme, per-minute tiers
on the tiered one (only Low/Basic = 35/min is published). A :class:`RateLimiter` holds a *sliding-window*
budget per key (the client uses ``"<base url>|<api user>"``, the same identity as
:class:`~dotsync.platform.dotdigital.models.AccountKey`) and a *penalty box*: after a 429 the client calls
:meth:`RateLimiter.penalize`, and every caller of that key waits, not only the one that was throttled.

Two implementations:

* :class:`InProcessRateLimiter` (the default): threads of one process share it.
* :class:`RedisRateLimiter`: processes share it through Redis (for Celery workers). Same semantics, atomic
  Lua scripts, the Redis server's clock.

A caller never waits longer than ``max_wait`` for a slot: past it, :meth:`RateLimiter.acquire` raises
:class:`~dotsync.exceptions.RateLimitedError` (transient) so the job is rescheduled instead of holding a
worker for most of an hour.

The process-wide default (:func:`default_limiter`) is in-process with dotdigital's flat-rate budget of
2,000 calls per hour. ``DOTSYNC_RATE_LIMIT`` changes it: ``"<calls>/<seconds>"`` (e.g. ``"35/60"`` for the
Low tier) or ``"off"`` (no proactive budget; 429 penalties still apply). :func:`set_default_limiter`
swaps in another limiter, e.g. a :class:`RedisRateLimiter` when Celery workers run.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dotsync.exceptions import RateLimitedError

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

DEFAULT_CALLS = 2000
"""Default budget: dotdigital's flat-rate cap of 2,000 calls ..."""
DEFAULT_PERIOD = 3600.0
"""... per rolling hour (seconds)."""
ENV_VAR = "DOTSYNC_RATE_LIMIT"
"""Environment variable that sets the default limiter's budget (``"<calls>/<seconds>"`` or ``"off"``)."""


@runtime_checkable
class RateLimiter(Protocol):
    """A per-key call budget shared by every client of the key."""

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        """Block until one call may be made for ``key``; return the seconds waited.

        Raises:
            RateLimitedError: the wait would exceed ``max_wait`` seconds.
        """
        ...

    def penalize(self, key: str, seconds: float) -> None:
        """Make every caller of ``key`` wait ``seconds`` (the platform throttled the account)."""
        ...


class InProcessRateLimiter:
    """A sliding-window budget per key, shared by the threads of one process.

    Args:
        calls: calls allowed per ``period``; None for no budget (penalties only).
        period: window length in seconds.
        sleep: the sleep function (injectable for tests).
        clock: a monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        calls: int | None = DEFAULT_CALLS,
        period: float = DEFAULT_PERIOD,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_budget(calls, period)
        self.calls = calls
        self.period = period
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, collections.deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def _reserve(self, key: str) -> float:
        """Take a slot and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            blocked = self._blocked_until.get(key, 0.0)
            if blocked > now:
                return blocked - now
            if self.calls is None:
                return 0.0
            window = self._windows.setdefault(key, collections.deque())
            while window and window[0] <= now - self.period:
                window.popleft()
            if len(window) < self.calls:
                window.append(now)
                return 0.0
            return max(window[0] + self.period - now, 0.001)

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        """Block until one call may be made for ``key``.

        Args:
            key: the account key.
            max_wait: the longest total wait accepted, in seconds (None: no limit).

        Returns:
            Seconds spent waiting.

        Raises:
            RateLimitedError: the wait would exceed ``max_wait``.
        """
        waited = 0.0
        while (wait := self._reserve(key)) > 0:
            _check_wait(waited + wait, max_wait)
            self._sleep(wait)
            waited += wait
        if waited:
            logger.info("rate limiter held a call for %.2f s", waited)
        return waited

    def penalize(self, key: str, seconds: float) -> None:
        """Make every caller of ``key`` wait ``seconds`` from now (never shortens a longer wait).

        Args:
            key: the account key.
            seconds: how long the platform asked us to wait.
        """
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), until)


_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
if limit < 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + period - now)
"""

_PENALIZE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local target = now + ms
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if target > current then redis.call('SET', KEYS[1], target, 'PX', math.max(1, ms)) end
return target
"""


class RedisRateLimiter:
    """The same sliding-window budget and penalty box, shared by processes through Redis.

    Each key uses a sorted set of call times and a "blocked until" string, both expiring on their own.
    Decisions run in Lua scripts, so concurrent workers never overspend, and use the Redis clock, so
    workers' clocks need not agree.

    Args:
        redis_client: a ``redis.Redis`` instance, or a URL such as ``redis://127.0.0.1:6379/0``.
        calls: calls allowed per ``period``; None for no budget (penalties only).
        period: window length in seconds.
        prefix: prefix of the Redis keys.
        sleep: the sleep function (injectable for tests).
    """

    def __init__(
        self,
        redis_client: redis.Redis | str,
        calls: int | None = DEFAULT_CALLS,
        period: float = DEFAULT_PERIOD,
        *,
        prefix: str = "dotsync:ratelimit",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_budget(calls, period)
        if isinstance(redis_client, str):
            import redis as redis_lib

            redis_client = redis_lib.Redis.from_url(redis_client)
        self.redis = redis_client
        self.calls = calls
        self.period = period
        self.prefix = prefix
        self._sleep = sleep
        self._acquire = redis_client.register_script(_ACQUIRE_LUA)
        self._penalize = redis_client.register_script(_PENALIZE_LUA)

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}:{key}:calls", f"{self.prefix}:{key}:blocked"

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        """Block until one call may be made for ``key``.

        Args:
            key: the account key.
            max_wait: the longest total wait accepted, in seconds (None: no limit).

        Returns:
            Seconds spent waiting.

        Raises:
            RateLimitedError: the wait would exceed ``max_wait``.
        """
        calls_key, blocked_key = self._keys(key)
        period_ms = max(1, int(self.period * 1000))
        limit = self.calls if self.calls is not None else -1  # -1: no budget, penalties only
        waited = 0.0
        while True:
            member = uuid.uuid4().hex
            wait_ms = int(self._acquire(keys=[calls_key, blocked_key], args=[limit, period_ms, member]))
            if wait_ms <= 0:
                break
            _check_wait(waited + wait_ms / 1000, max_wait)
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000
        if waited:
            logger.info("rate limiter (redis) held a call for %.2f s", waited)
        return waited

    def penalize(self, key: str, seconds: float) -> None:
        """Make every caller of ``key``, in every process, wait ``seconds`` from now.

        Args:
            key: the account key.
            seconds: how long the platform asked us to wait.
        """
        _, blocked_key = self._keys(key)
        self._penalize(keys=[blocked_key], args=[max(0, int(seconds * 1000))])


def _check_budget(calls: int | None, period: float) -> None:
    if (calls is not None and calls < 1) or period <= 0:
        raise ValueError("a rate limit needs calls >= 1 (or None) and period > 0")


def _check_wait(wait: float, max_wait: float | None) -> None:
    if max_wait is not None and wait > max_wait:
        raise RateLimitedError(
            f"the account's API budget is spent for the next {wait:.0f} s. What to do: nothing; "
            "the job is retried later (raise the budget with DOTSYNC_RATE_LIMIT if the account allows more).",
            retry_after=wait,
            operation="ratelimit.acquire",
        )


def limiter_from_env(value: str | None = None) -> InProcessRateLimiter:
    """An in-process limiter for a ``DOTSYNC_RATE_LIMIT`` value (``"<calls>/<seconds>"`` or ``"off"``).

    Args:
        value: the setting; None reads the environment variable (unset: 2,000 calls per hour).

    Returns:
        The limiter.

    Raises:
        ValueError: the value is neither ``off`` nor ``<calls>/<seconds>``.
    """
    value = os.environ.get(ENV_VAR, "") if value is None else value
    value = value.strip().lower()
    if not value:
        return InProcessRateLimiter()
    if value in ("off", "none", "0"):
        return InProcessRateLimiter(calls=None)
    calls, sep, period = value.partition("/")
    try:
        return InProcessRateLimiter(calls=int(calls), period=float(period) if sep else 60.0)
    except ValueError:
        raise ValueError(
            f"{ENV_VAR}={value!r}: use '<calls>/<seconds>' such as '2000/3600', or 'off'"
        ) from None


_default: RateLimiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> RateLimiter:
    """The process-wide limiter clients use when given none (``DOTSYNC_RATE_LIMIT``; 2,000 calls/hour)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = limiter_from_env()
        return _default


def set_default_limiter(limiter: RateLimiter | None) -> None:
    """Replace the process-wide limiter (e.g. with a :class:`RedisRateLimiter` in Celery workers).

    Clients created afterwards use it; None goes back to reading ``DOTSYNC_RATE_LIMIT`` on next use.
    """
    global _default
    with _default_lock:
        _default = limiter
