"""When and how long to wait before retrying a failed call.

Transient failures are retried up to ``max_retries`` times. Backoff is exponential with *full jitter*
(``uniform(0, min(max_delay, base_delay * 2**attempt))``), so workers that failed together do not retry
together. A throttled call (429) waits what the platform asked instead, plus a little jitter; a wait
longer than ``max_rate_limit_wait`` is not slept in-process: the transient error is raised so the job
is rescheduled. Terminal failures are never retried.

Non-idempotent calls (campaign send, program enrolment, SMS, starting an import) are retried only
after failures where the platform surely did not act on the request: the connection was never made,
the platform throttled the call (429), answered 503, or said too many imports are running. A read
timeout or a 500 after such a call is raised, not retried, because the platform may have acted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from dotsync.platform.dotdigital.policy import Action, Rule


@dataclass(frozen=True)
class RetryPolicy:
    """Retry limits and backoff.

    Attributes:
        max_retries: retries after the first attempt (Singer's default of 5).
        base_delay: first backoff ceiling in seconds.
        max_delay: cap on one backoff sleep in seconds.
        max_rate_limit_wait: the longest Retry-After the client sleeps in-process.
        rate_limit_jitter: extra random seconds (0..this) added to a Retry-After wait.
        default_rate_limit_wait: wait after a 429 that carries no usable header.
    """

    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_rate_limit_wait: float = 300.0
    rate_limit_jitter: float = 0.25
    default_rate_limit_wait: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def may_retry(self, rule: Rule, attempt: int, *, idempotent: bool) -> bool:
        """Whether a call that failed under ``rule`` on retry number ``attempt`` (0 = first try) is retried.

        Args:
            rule: the policy row the failure matched.
            attempt: how many retries were already made.
            idempotent: whether repeating the call is harmless.

        Returns:
            True to retry.
        """
        if rule.action in (Action.FAIL, Action.DEFER) or attempt >= self.max_retries:
            return False
        return idempotent or rule.retry_unsafe

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (0-based), in seconds."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return self.rng.uniform(0, ceiling)

    def rate_limit_wait(self, retry_after: float | None) -> float:
        """Seconds to wait after a throttled call: what the platform asked, plus a little jitter."""
        base = self.default_rate_limit_wait if retry_after is None else retry_after
        return base + self.rng.uniform(0, self.rate_limit_jitter)
