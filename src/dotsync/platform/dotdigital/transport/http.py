"""One place that sends requests, maps failures to dotsync's errors and decides retry versus fail.

Every call goes: rate limiter -> httpx -> (2xx: return) or (error: look up :mod:`..policy`, then retry
per :class:`.RetryPolicy` or raise). Logs name the operation, the status, the attempt and the time
taken; never the URL (it can hold an email address), credentials or payloads.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from dotsync.exceptions import AuthenticationError, PlatformError, RateLimitedError, ServerError
from dotsync.platform.dotdigital.errors import parse_error_body, retry_after_seconds
from dotsync.platform.dotdigital.policy import Action, Rule, rule_for_exception, rule_for_response
from dotsync.platform.dotdigital.ratelimit import RateLimiter
from dotsync.platform.dotdigital.reachability import Unreachable, diagnose
from dotsync.platform.dotdigital.reachability import hint as unreachable_hint
from dotsync.platform.dotdigital.transport import observers
from dotsync.platform.dotdigital.transport.breaker import Breaker
from dotsync.platform.dotdigital.transport.retry import RetryPolicy

logger = logging.getLogger("dotsync.platform.dotdigital")

_EMAIL_IN_TEXT = re.compile(r"[^\s/\"'?&=]+(?:@|%40)[^\s/\"'?&]+", re.IGNORECASE)


class _RedactEmails(logging.Filter):
    """Blank out email addresses in httpx's own request log lines (URLs can hold them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message or "%40" in message.lower():
            record.msg = _EMAIL_IN_TEXT.sub("<email>", message)
            record.args = ()
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactEmails) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactEmails())


@dataclass
class CallStats:
    """Counters of what the transport did (for logs, benchmarks and tests).

    Attributes:
        calls: requests sent (each retry counts).
        retries: retries made.
        rate_limited: 429 / allowance answers received.
        slept: seconds slept between retries.
        by_operation: requests sent per operation name.
        reads: requests sent that only read (``GET``): a re-sync with no store change may read the
            platform's feeds, but writes nothing (``calls - reads`` is the writes).
        answered: requests the platform answered with anything but a 5xx (the account is up).
        held: calls the circuit breaker held back (no request sent).
        credentials_refused: the last answer refused the credentials (401/403, ``ERROR_INVALID_LOGIN``).
    """

    calls: int = 0
    answered: int = 0
    held: int = 0
    credentials_refused: bool = False
    retries: int = 0
    rate_limited: int = 0
    slept: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)
    reads: int = 0


class Transport:
    """Sends requests with auth, timeouts, the account's rate limit, retries and error mapping.

    Args:
        api_user: the API user (HTTP Basic user name).
        api_password: its password (never logged).
        timeout: seconds before a call counts as timed out.
        retry: the retry policy.
        limiter: the account's rate limiter.
        limiter_key: the account's key in the limiter.
        event_hooks: httpx event hooks (e.g. the conformance harness).
        sleep: the sleep function (injectable for tests).
        transport: an httpx transport to use instead of the network (tests of edges the sandbox
            cannot produce).
        breaker: the account's circuit breaker (a new one by default).
    """

    def __init__(
        self,
        api_user: str,
        api_password: str,
        *,
        timeout: float,
        retry: RetryPolicy,
        limiter: RateLimiter,
        limiter_key: str,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        from dotsync import __version__

        self.retry = retry
        self.breaker = breaker or Breaker()
        self.limiter = limiter
        self.limiter_key = limiter_key
        self.stats = CallStats()
        self.observers: list[observers.CallObserver] = []
        """This transport's own call observers (told of each answer after the process-wide ones)."""
        self._sleep = sleep
        self._http = httpx.Client(
            auth=httpx.BasicAuth(api_user, api_password),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": f"dotsync/{__version__}"},
            event_hooks=dict(event_hooks or {}),
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        idempotent: bool = True,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one logical call, retrying transient failures as the policy allows.

        Args:
            operation: a short name for logs and errors, e.g. ``"contacts.import"``.
            method: the HTTP method.
            url: the absolute URL.
            idempotent: False for calls a repeat could duplicate (sends, enrolments, import starts).
            json: the JSON body, if any.
            content: a body already encoded as JSON (instead of ``json``).
            params: query parameters.

        Returns:
            The successful (2xx) response, body read.

        Raises:
            CircuitOpenError: the account's circuit breaker holds calls back (nothing was sent).
            PlatformError: a terminal error, or a transient one after the retries ran out.
        """
        attempt = 0
        while True:
            try:
                self.breaker.before_call(operation)
            except PlatformError:
                self.stats.held += 1
                raise
            try:
                waited = self.limiter.acquire(self.limiter_key, max_wait=self.retry.max_rate_limit_wait)
                observers.notify_rate_limit_wait(operation, waited)
                error, rule, response = self._attempt(
                    operation, method, url, json=json, content=content, params=params
                )
            except BaseException:
                self.breaker.released()
                raise
            self._record(error, response)
            if error is None and response is not None:
                return response
            assert error is not None and rule is not None
            if not self.retry.may_retry(rule, attempt, idempotent=idempotent):
                raise error
            wait = self._wait_before_retry(error, rule, attempt)
            if wait is None:
                raise error
            logger.warning(
                "dotdigital %s: %s (HTTP %s, %s); retry %d/%d in %.2f s",
                operation,
                type(error).__name__,
                error.status_code,
                error.error_code or "-",
                attempt + 1,
                self.retry.max_retries,
                wait,
            )
            self.stats.retries += 1
            observers.notify_retry(operation)
            self.stats.slept += wait
            self._sleep(wait)
            attempt += 1

    def _record(self, error: PlatformError | None, response: httpx.Response | None) -> None:
        """Tell the breaker and the stats how the attempt went."""
        if error is None or (error.unreachable is None and not isinstance(error, ServerError)):
            self.stats.answered += 1
            self.stats.credentials_refused = isinstance(error, AuthenticationError)
            self.breaker.answered()
            return
        self.breaker.failed(error.unreachable or Unreachable.SERVER_ERROR, error.message)

    def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        json: Any,
        content: bytes | None = None,
        params: Mapping[str, Any] | None,
    ) -> tuple[PlatformError | None, Rule | None, httpx.Response | None]:
        self.stats.calls += 1
        if method.upper() == "GET":
            self.stats.reads += 1
        self.stats.by_operation[operation] = self.stats.by_operation.get(operation, 0) + 1
        started = time.monotonic()
        try:
            if content is not None:
                response = self._http.request(
                    method, url, content=content, params=params, headers={"Content-Type": "application/json"}
                )
            else:
                response = self._http.request(method, url, json=json, params=params)
        except httpx.TransportError as exc:
            rule = rule_for_exception(exc)
            if rule is None:  # pragma: no cover - every TransportError has a row
                raise
            kind = diagnose(exc)
            failure = rule.error(
                f"dotdigital {operation} failed: {type(exc).__name__} ({kind}). "
                f"What to do: {unreachable_hint(kind)}.",
                operation=operation,
            )
            failure.unreachable = kind
            observers.notify_call(operation, observers.UNREACHABLE, self.observers)
            failure.__cause__ = exc
            logger.info("dotdigital %s: %s after %.0f ms", operation, type(exc).__name__, _ms(started))
            return failure, rule, None
        elapsed = _ms(started)
        observers.notify_call(operation, str(response.status_code), self.observers)
        if response.is_success:
            logger.debug("dotdigital %s: HTTP %d in %.0f ms", operation, response.status_code, elapsed)
            self._respect_spent_budget(response)
            return None, None, response
        body = parse_error_body(response)
        rule = rule_for_response(response.status_code, body.code)
        message = (
            f"dotdigital {operation} failed: HTTP {response.status_code}: {body.message}. "
            f"What to do: {rule.hint}."
        )
        error: PlatformError
        if rule.action is Action.RATE_LIMITED:
            self.stats.rate_limited += 1
            retry_after = retry_after_seconds(response)
            error = RateLimitedError(
                message,
                retry_after=rule.default_wait if retry_after is None else retry_after,
                status_code=response.status_code,
                error_code=body.code,
                operation=operation,
            )
            logger.info(
                "dotdigital %s: throttled (scope=%s limit=%s remaining=%s reset=%s retry-after=%s)",
                operation,
                response.headers.get("x-ratelimit-scope", "-"),
                response.headers.get("x-ratelimit-limit", "-"),
                response.headers.get("x-ratelimit-remaining", "-"),
                response.headers.get("x-ratelimit-reset", "-"),
                response.headers.get("retry-after", "-"),
            )
        else:
            error = rule.error(
                message, status_code=response.status_code, error_code=body.code, operation=operation
            )
        logger.info(
            "dotdigital %s: HTTP %d %s in %.0f ms", operation, response.status_code, body.code or "", elapsed
        )
        return error, rule, None

    def _respect_spent_budget(self, response: httpx.Response) -> None:
        """Hold the account's next calls until ``x-ratelimit-reset`` when a success says the budget is spent.

        Waiting here is cheaper than running into a 429 on the next call.
        """
        if response.headers.get("x-ratelimit-remaining", "").strip() != "0":
            return
        reset = retry_after_seconds(response)
        if reset:
            self.limiter.penalize(self.limiter_key, min(reset, self.retry.max_rate_limit_wait))

    def _wait_before_retry(self, error: PlatformError, rule: Rule, attempt: int) -> float | None:
        """Seconds to sleep before the next try, or None when the wait is too long to sleep here."""
        if rule.action is not Action.RATE_LIMITED:
            return self.retry.backoff(attempt)
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        if retry_after is not None and retry_after > self.retry.max_rate_limit_wait:
            return None
        wait = self.retry.rate_limit_wait(retry_after)
        self.limiter.penalize(self.limiter_key, wait)
        return wait


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
