"""A per-account circuit breaker: stop calling an account that keeps failing, probe it now and then.

States:

* **closed**: calls go through. Every transient failure that says the platform is down (no answer,
  a timeout, a 5xx) adds one to a run of consecutive failures; any answer that is not such a failure
  (a 2xx, a 4xx, a 429) ends the run. After :attr:`Breaker.threshold` failures in a row it opens, or
  sooner when the run has lasted :attr:`Breaker.max_failing` seconds (at least two failures): slow
  failures such as timeouts (121 s each by default) open it after two, not ten.
* **open**: no call is made; :class:`~dotsync.exceptions.CircuitOpenError` (transient) is raised at
  once, saying when the next probe is due and why the account is held. The cool-down starts at
  :attr:`Breaker.cooldown` seconds and doubles each time a probe fails, up to
  :attr:`Breaker.max_cooldown`.
* **half-open**: the cool-down is over: one call (the probe) goes through; while it runs, others are
  still held. An answer closes the breaker and resets the cool-down; a failure opens it again.

The breaker lives in the account's client, which :mod:`dotsync.accounts` caches per process,
so every job of the account shares it, and region discovery failing for a row holds every later row
too. Nothing is persisted: a new process starts closed (``dotsync retry`` needs no reset).
The clock is the wall clock (``time.time``), so tests move it with time-machine.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dotsync.exceptions import CircuitOpenError
from dotsync.platform.dotdigital.reachability import hint


class BreakerState(enum.StrEnum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Breaker:
    """One account's circuit breaker (thread-safe).

    Attributes:
        threshold: consecutive failures that open the breaker.
        max_failing: seconds of consecutive failures (two at least) that open it sooner.
        cooldown: seconds of the first cool-down.
        max_cooldown: the longest cool-down.
        clock: the time source (seconds).
    """

    threshold: int = 10
    max_failing: float = 60.0
    cooldown: float = 15.0
    max_cooldown: float = 300.0
    clock: Callable[[], float] = field(default=time.time, repr=False)
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    """Consecutive failures so far."""
    opened: int = 0
    """Times the breaker opened in a row without an answer in between (sets the cool-down)."""
    cause: str = ""
    """The last failure's kind (``refused``, ``dns``, ``tls``, ``timeout``, ``reset``, ``server_error``)."""
    last_error: str = ""
    """The last failure's message (no payloads, no credentials)."""
    reopens_at: float = 0.0
    failing_since: float = 0.0
    """When the current run of failures began (clock time)."""
    _probing: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current_cooldown(self) -> float:
        """The cool-down of the current (or next) opening, in seconds."""
        return min(self.max_cooldown, self.cooldown * 2 ** max(0, self.opened - 1))

    def before_call(self, operation: str) -> None:
        """Let a call through, or raise :class:`CircuitOpenError` without touching the network.

        Raises:
            CircuitOpenError: the breaker is open (or half-open with its probe in flight).
        """
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return
            now = self.clock()
            if self.state is BreakerState.OPEN and now >= self.reopens_at:
                self.state = BreakerState.HALF_OPEN
            if self.state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True
                return
            wait = max(0.0, self.reopens_at - now)
        raise CircuitOpenError(
            f"dotdigital {operation} not called: the account failed {self.failures} time(s) in a row "
            f"({self.cause}: {self.last_error}); next try in {wait:.0f}s. What to do: {hint(self.cause)}.",
            retry_after=wait,
            cause=self.cause,
            operation=operation,
        )

    def answered(self) -> None:
        """The platform answered (any status but a 5xx): close the breaker."""
        with self._lock:
            self.state, self.failures, self.opened, self._probing = BreakerState.CLOSED, 0, 0, False
            self.cause = self.last_error = ""

    def failed(self, cause: str, message: str) -> None:
        """A call got no usable answer (transport failure, timeout, 5xx)."""
        with self._lock:
            now = self.clock()
            if not self.failures:
                self.failing_since = now
            self.failures += 1
            self.cause, self.last_error = cause, message[:300]
            was_probe = self.state is BreakerState.HALF_OPEN
            self._probing = False
            slow = self.failures >= 2 and now - self.failing_since >= self.max_failing
            if was_probe or slow or self.failures >= self.threshold:
                self.opened += 1
                self.state = BreakerState.OPEN
                self.reopens_at = now + self.current_cooldown()

    def released(self) -> None:
        """The probe ended without a verdict (e.g. the call was not made): let the next one probe."""
        with self._lock:
            self._probing = False

    @property
    def is_open(self) -> bool:
        """True while calls are held back (open or half-open)."""
        return self.state is not BreakerState.CLOSED
