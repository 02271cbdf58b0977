"""The importer's failure policy as data: what each error does to an importer row, and the backoff.

Every platform error is classified once, here, into an :class:`Outcome`:

========================  ==============================================================================
outcome                   effect on the row
========================  ==============================================================================
``WAIT``                  the account runs too many imports: stays ``PENDING``, ``next_attempt_at``
                          moves on, the retry budget is **not** spent, and no more imports of that
                          kind start for the account in this run (single-record calls go on).
``THROTTLED``             the platform rate-limited the account: as ``WAIT`` (for as long as the
                          platform asked), and the account makes no more calls in this run.
``RETRY``                 a transient failure (5xx, timeout, connection): stays ``PENDING``,
                          ``retry_count`` + 1 and ``next_attempt_at`` = now + backoff, capped at
                          :attr:`Backoff.cap` (15 min). It **never** fails: however long the outage,
                          the row waits (``wait_reason`` ``platform_error``) until the platform answers.
``UNREACHABLE``           the account's circuit breaker is open (no call was made): as ``RETRY`` but
                          no retry is counted, the row waits until the breaker's next probe
                          (``wait_reason`` ``unreachable``), and the account makes no more calls in
                          this run.
``SPLIT``                 the platform rejected the *content* of a multi-record batch (or it is too
                          large): the batch is bisected until the poison record is alone
                          (see :mod:`.bisect`).
``FAIL``                  terminal: the row and its source rows fail with the platform's message.
``HALT_ACCOUNT``          the credentials are wrong: nothing is wrong with the row, so it stays
                          ``PENDING`` (no retry spent) and waits :attr:`Backoff.account` seconds; the
                          account makes no more calls in this run, so one broken account never burns
                          calls on, or fails, its whole queue. Fix the credentials, then the rows go.
========================  ==============================================================================
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from dotsync.exceptions import (
    AuthenticationError,
    CircuitOpenError,
    DotsyncError,
    PayloadTooLargeError,
    RateLimitedError,
    TooManyActiveImportsError,
    ValidationError,
)


class Outcome(enum.Enum):
    """What a failure does to an importer row (see the module docstring)."""

    WAIT = "wait"
    THROTTLED = "throttled"
    RETRY = "retry"
    UNREACHABLE = "unreachable"
    SPLIT = "split"
    FAIL = "fail"
    HALT_ACCOUNT = "halt_account"


OUTCOMES: tuple[tuple[type[Exception], Outcome], ...] = (
    (CircuitOpenError, Outcome.UNREACHABLE),
    (TooManyActiveImportsError, Outcome.WAIT),
    (RateLimitedError, Outcome.THROTTLED),
    (AuthenticationError, Outcome.HALT_ACCOUNT),
    (PayloadTooLargeError, Outcome.SPLIT),
    (ValidationError, Outcome.SPLIT),
    (ValueError, Outcome.SPLIT),  # the client refused a record before sending (e.g. no contact email)
)
"""Error class -> outcome, first match wins. Anything else: transient errors retry, terminal ones fail.

Only a terminal answer from the platform (or a person, through the admin) fails a row: a transient
error of any length keeps it queued.
"""


def classify(exc: Exception, *, records: int) -> Outcome:
    """The outcome of ``exc`` for a row carrying ``records`` records.

    A ``SPLIT`` of a one-record row is a ``FAIL``: that record is the poison one.
    """
    for cls, outcome in OUTCOMES:
        if isinstance(exc, cls):
            if outcome is Outcome.SPLIT and records <= 1:
                return Outcome.FAIL
            return outcome
    if isinstance(exc, DotsyncError) and exc.transient:
        return Outcome.RETRY
    return Outcome.FAIL


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter and a cap.

    Attributes:
        base: seconds before the first retry.
        factor: growth per attempt.
        cap: the longest wait, in seconds (a row in a long outage is tried at least this often).
        jitter: fraction of the delay drawn at random (0.2 = the delay varies by ±20 %), so the
            rows of many websites do not retry in lock-step.
        busy: seconds to wait when the account is busy and the platform did not say how long.
        account: seconds to wait after the platform refused the account's credentials
            (``dotsync retry`` makes the rows due at once after the credentials are fixed).
        import_failures: imports of a row the platform may fail (``RejectedByWatchdog``, ``Failed``...)
            before the row fails with the platform's status; each failure waits :meth:`delay`.
    """

    base: float = 30.0
    factor: float = 2.0
    cap: float = 900.0
    jitter: float = 0.2
    busy: float = 5.0
    account: float = 900.0
    import_failures: int = 3

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        raw = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        spread = raw * self.jitter
        return max(0.0, raw + (rng or random).uniform(-spread, spread))

    def wait(self, exc: Exception) -> float:
        """Seconds to wait when the account is busy: what the platform asked, else :attr:`busy`."""
        if isinstance(exc, AuthenticationError):
            return self.account
        asked = getattr(exc, "retry_after", None)
        if isinstance(exc, CircuitOpenError):
            return min(self.cap, max(1.0, float(asked or 0)))
        return min(self.cap, float(asked)) if asked else self.busy

    def next_attempt(self, now: datetime, seconds: float) -> datetime:
        """``now`` plus ``seconds``."""
        return now + timedelta(seconds=seconds)


BACKOFF = Backoff()
"""The policy the importer uses."""


def describe(exc: Exception) -> str:
    """A short message for the row: the platform's text, never a payload."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]
