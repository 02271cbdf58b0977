"""Fault injection and behaviour knobs of the sandbox.

Every knob can be set on the command line (``dotsync sandbox --error-rate 0.1 ...``), at run time with
``POST /sandbox/faults {"error_rate": 0.1}`` (only the keys given change; ``{"reset": true}`` first restores
the defaults), or from tests with ``SandboxControl.set_faults(...)``. ``GET /sandbox/faults`` shows them.

Faults (error rate, rate limit, latency, timeouts) apply to the dotdigital API paths only, never to
``/sandbox/``; ``paths`` narrows them further to some path prefixes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, get_args, get_type_hints

IMPORT_OUTCOMES = (
    "Finished",
    "RejectedByWatchdog",
    "InvalidFileFormat",
    "Failed",
    "ExceedsAllowedContactLimit",
)


@dataclass
class Faults:
    """The knobs. Defaults give a well-behaved, fast sandbox.

    Attributes:
        error_rate: probability (0..1) that an API call fails with ``error_status`` before doing anything.
        error_status: the 5xx status used for injected errors (500, 502, 503 or 504).
        fail_next: fail exactly the next N API calls with ``error_status`` (deterministic; counts down).
        rate_limit_per_minute: tiered rate limit in calls per minute per account; over it the call is
            answered 429 with ``x-ratelimit-scope/-limit/-remaining/-reset`` headers. None = unlimited.
        rate_limit_window: the length in seconds of the rate limit's rolling window (60: per minute). A
            shorter window lets a test reach the tier and its resets in seconds.
        rate_limit_scope: value of ``x-ratelimit-scope`` (the platform's tier name; spelling UNCONFIRMED).
        rate_limit_reset_epoch: send ``x-ratelimit-reset`` as a UTC epoch instead of seconds-until-reset
            (the docs disagree on the unit; seconds is the SDK's reading and the default).
        retry_after_header: also send ``Retry-After`` (seconds) on 429 (UNCONFIRMED on the live API).
        hourly_call_limit: flat-rate mode: at most N calls per rolling hour per account, then 400
            ``ERROR_APIUSAGE_EXCEEDED``. None = off.
        latency_ms: added latency on every API call.
        timeout_rate: probability that an API call hangs for ``timeout_seconds`` and then answers 504
            without doing anything (a client with a shorter timeout sees a timeout).
        timeout_next: hang exactly the next N API calls (deterministic; counts down).
        timeout_seconds: how long a "timed out" call hangs.
        seed: seed of the random generator behind ``error_rate`` / ``timeout_rate`` (None = random).
        paths: apply the faults above only to API paths starting with one of these prefixes (None = all).
        import_delay: seconds before a contact or insight import, an enrolment or a campaign send is
            processed (imports answer ``NotFinished`` until then).
        import_polls: an import also needs this many status polls before it finishes (0 = time only).
        import_outcome: final status of contact imports: ``Finished`` or one of the failure statuses.
        campaign_send_outcome: final status of campaign sends accepted from now on: ``Sent`` or
            ``Cancelled`` (a cancelled send reaches no one and is not in the send report).
        max_active_imports: active contact imports per account before ``ERROR_IMPORT_TOOMANYACTIVEIMPORTS``.
        max_active_insight_imports: concurrent v3 insight bulk imports per account before 429.
        insight_max_bytes: size limit of one insight bulk import body (50 MB on the platform).
        csv_max_bytes: size limit of one CSV contact import file (10 MB in the legacy docs).
        insight_done_status: the status a finished v3 insight import reports. The spec enum says
            ``Complete`` but its example and the Magento connector use ``Finished``; default ``Finished``.
        insight_autocreate_on_put: create a missing collection on a single-record PUT (the spec answers
            404 ``insightData:collectionNotFound``; default False follows the spec).
        import_unknown_columns: CSV columns that match no data field are ``ignore``d (default) or ``create``
            a String data field.
        resubscribe_challenge: ``POST /v2/contacts/resubscribe`` answers ``ContactChallenged`` and leaves the
            contact unsubscribed (platform default). False: ``ContactAdded`` and the contact is subscribed.
        enrolments_per_hour: program enrolment calls per hour per account (20 on the platform).
        enrolment_max_contacts: contact ids per enrolment call (25 on the platform).
    """

    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    rate_limit_per_minute: int | None = None
    rate_limit_window: float = 60.0
    rate_limit_scope: str = "lowCallRate"
    rate_limit_reset_epoch: bool = False
    retry_after_header: bool = True
    hourly_call_limit: int | None = None
    latency_ms: int = 0
    timeout_rate: float = 0.0
    timeout_next: int = 0
    timeout_seconds: float = 30.0
    seed: int | None = None
    paths: list[str] | None = None
    import_delay: float = 0.2
    import_polls: int = 0
    import_outcome: str = "Finished"
    campaign_send_outcome: str = "Sent"
    max_active_imports: int = 25
    max_active_insight_imports: int = 5
    insight_max_bytes: int = 50 * 1024 * 1024
    csv_max_bytes: int = 10 * 1024 * 1024
    insight_done_status: str = "Finished"
    insight_autocreate_on_put: bool = False
    import_unknown_columns: str = "ignore"
    resubscribe_challenge: bool = True
    enrolments_per_hour: int = 20
    enrolment_max_contacts: int = 25

    def validate(self) -> None:
        """Raise ValueError naming the first knob with an impossible value."""
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.error_status not in (500, 502, 503, 504):
            raise ValueError("error_status must be one of 500, 502, 503, 504")
        if self.import_outcome not in IMPORT_OUTCOMES:
            raise ValueError(f"import_outcome must be one of {', '.join(IMPORT_OUTCOMES)}")
        if self.campaign_send_outcome not in ("Sent", "Cancelled"):
            raise ValueError("campaign_send_outcome must be 'Sent' or 'Cancelled'")
        if self.import_unknown_columns not in ("ignore", "create"):
            raise ValueError("import_unknown_columns must be 'ignore' or 'create'")
        if self.insight_done_status not in ("Finished", "Complete"):
            raise ValueError("insight_done_status must be 'Finished' or 'Complete'")
        for name in ("rate_limit_per_minute", "hourly_call_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or null for no limit)")
        for name in ("fail_next", "timeout_next", "latency_ms", "import_polls", "max_active_imports"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number")
        if self.rate_limit_window <= 0:
            raise ValueError("rate_limit_window must be positive")
        if self.import_delay < 0 or self.timeout_seconds < 0:
            raise ValueError("import_delay and timeout_seconds must not be negative")

    def as_dict(self) -> dict[str, Any]:
        """The knobs as JSON-ready data."""
        return dataclasses.asdict(self)


KNOB_NAMES = frozenset(f.name for f in dataclasses.fields(Faults))


def _type_problem(name: str, value: Any) -> str | None:
    """Why ``value`` does not fit knob ``name``'s declared type, in words, or None when it fits."""
    hint = get_type_hints(Faults)[name]
    args = get_args(hint)
    if value is None:
        return None if type(None) in args else f"{name} must not be null"
    base = next((a for a in args if a is not type(None)), hint)
    if base is bool:
        ok = isinstance(value, bool)
        wanted = "true or false"
    elif base is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        wanted = "a number"
    elif base is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        wanted = "a whole number"
    elif base is str:
        ok = isinstance(value, str)
        wanted = "a string"
    else:  # list[str]
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        wanted = "a list of strings"
    if ok:
        return None
    return f"{name} must be {wanted}{' or null' if type(None) in args else ''}, got {json.dumps(value)[:40]}"


def updated(current: Faults, changes: dict[str, Any]) -> Faults:
    """A copy of ``current`` with ``changes`` applied and validated.

    Raises:
        ValueError: an unknown knob or an invalid value.
    """
    unknown = set(changes) - KNOB_NAMES
    if unknown:
        raise ValueError(
            f"unknown fault knob(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOB_NAMES))}"
        )
    problems = [p for name, value in sorted(changes.items()) if (p := _type_problem(name, value))]
    if problems:
        raise ValueError("; ".join(problems))
    new = dataclasses.replace(current, **changes)
    new.validate()
    return new


@dataclass
class Decision:
    """What the fault layer decided for one API call."""

    latency: float = 0.0
    hang: float | None = None
    error_status: int | None = None
    rate_limited_headers: dict[str, str] | None = None
    usage_exceeded: bool = False


@dataclass
class FaultState:
    """The live knobs plus the counters they need (rate windows, countdowns, random generator)."""

    faults: Faults = field(default_factory=Faults)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)
    _minute: dict[str, deque[float]] = field(default_factory=dict)
    _hour: dict[str, deque[float]] = field(default_factory=dict)

    def set(self, changes: dict[str, Any], *, reset: bool = False) -> Faults:
        """Change some knobs (after restoring defaults when ``reset``); returns the new knobs."""
        with self._lock:
            base = Faults() if reset else self.faults
            self.faults = updated(base, changes)
            if reset or "seed" in changes:
                self._rng = random.Random(self.faults.seed)
            if reset or "rate_limit_per_minute" in changes or "rate_limit_window" in changes:
                self._minute.clear()
            if reset or "hourly_call_limit" in changes:
                self._hour.clear()
            return self.faults

    def applies_to(self, path: str) -> bool:
        """Whether faults apply to this API path."""
        prefixes = self.faults.paths
        return prefixes is None or any(path.startswith(p) for p in prefixes)

    def decide(self, account_key: str, path: str) -> Decision:
        """Decide latency, hang, 5xx and rate limiting for one API call by ``account_key``."""
        with self._lock:
            f = self.faults
            d = Decision(latency=f.latency_ms / 1000.0)
            if not self.applies_to(path):
                return d
            now = time.time()
            if f.timeout_next > 0:
                f.timeout_next -= 1
                d.hang = f.timeout_seconds
                return d
            if f.timeout_rate and self._rng.random() < f.timeout_rate:
                d.hang = f.timeout_seconds
                return d
            if f.fail_next > 0:
                f.fail_next -= 1
                d.error_status = f.error_status
                return d
            if f.error_rate and self._rng.random() < f.error_rate:
                d.error_status = f.error_status
                return d
            if f.rate_limit_per_minute is not None:
                window = self._minute.setdefault(account_key, deque())
                span = f.rate_limit_window
                while window and window[0] <= now - span:
                    window.popleft()
                if len(window) >= f.rate_limit_per_minute:
                    reset_in = max(1, int(window[0] + span - now + 0.999))
                    reset_value = int(now) + reset_in if f.rate_limit_reset_epoch else reset_in
                    headers = {
                        "x-ratelimit-scope": f.rate_limit_scope,
                        "x-ratelimit-limit": str(f.rate_limit_per_minute),
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(reset_value),
                    }
                    if f.retry_after_header:
                        headers["Retry-After"] = str(reset_in)
                    d.rate_limited_headers = headers
                    return d
                window.append(now)
            if f.hourly_call_limit is not None:
                window = self._hour.setdefault(account_key, deque())
                while window and window[0] <= now - 3600:
                    window.popleft()
                if len(window) >= f.hourly_call_limit:
                    d.usage_exceeded = True
                    return d
                window.append(now)
            return d
