"""The error policy as data: which status, ``ERROR_*`` code or transport failure means what.

Three tables, looked up in this order:

1. :data:`ERROR_CODE_RULES`: the platform's ``ERROR_*`` / v3 ``errorCode`` (most specific; e.g. a 400
   ``ERROR_IMPORT_TOOMANYACTIVEIMPORTS`` is transient, not a validation error);
2. :data:`STATUS_RULES`: the HTTP status;
3. the fallbacks :data:`SERVER_FALLBACK` (any other 5xx) and :data:`CLIENT_FALLBACK` (any other status).

Transport failures (no response) are looked up by exception class in :data:`EXCEPTION_RULES`, walking
the class's MRO so the most specific httpx class wins.

``retry_unsafe`` says whether a *non-idempotent* call (campaign send, enrolment, SMS, import start) may be
retried after this failure: only when the platform surely did not act on the request (the connection
was never made, or the platform answered that it refused the call).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import httpx

from dotsync.exceptions import (
    AuthenticationError,
    NotFoundError,
    PayloadTooLargeError,
    PlatformConnectionError,
    PlatformError,
    PlatformTimeout,
    RateLimitedError,
    ServerError,
    TooManyActiveImportsError,
    ValidationError,
)


class Action(enum.Enum):
    """What the client does with a failure."""

    RETRY = "retry"
    """Back off exponentially with full jitter, then try again."""
    RATE_LIMITED = "rate_limited"
    """Wait what the platform asked (Retry-After / x-ratelimit-reset), then try again."""
    FAIL = "fail"
    """Raise at once; the same call would fail again."""
    DEFER = "defer"
    """Raise at once as a transient error: the caller reschedules the work, because a retry within
    seconds would meet the same answer (the account's import slots are taken)."""


@dataclass(frozen=True)
class Rule:
    """One row of the policy.

    Attributes:
        action: retry, wait-and-retry, or fail.
        error: the exception class raised (or retried).
        retry_unsafe: whether a non-idempotent call may be retried after this failure.
        hint: what the user should do next; appended to the error message.
        default_wait: for ``RATE_LIMITED`` rules, the wait assumed when the platform sends no
            Retry-After / x-ratelimit-reset header (None: the retry policy's default).
    """

    action: Action
    error: type[PlatformError]
    retry_unsafe: bool
    hint: str
    default_wait: float | None = None


_CHECK_CREDENTIALS = (
    "check the API user and password, that the API user has this permission, and that the endpoint "
    "matches the account's region"
)
_FIX_REQUEST = "fix the data or settings named in the message; retrying will not help"
_RETRY_LATER = "dotsync retries automatically; if it keeps failing, check dotdigital's status page"

RATE_LIMITED = Rule(
    Action.RATE_LIMITED,
    RateLimitedError,
    True,
    "the account is over its API rate limit; dotsync waits as asked and retries, then reschedules the job",
)
SERVER_FALLBACK = Rule(Action.RETRY, ServerError, False, _RETRY_LATER)
CLIENT_FALLBACK = Rule(Action.FAIL, ValidationError, False, _FIX_REQUEST)

STATUS_RULES: dict[int, Rule] = {
    400: Rule(Action.FAIL, ValidationError, False, _FIX_REQUEST),
    401: Rule(Action.FAIL, AuthenticationError, False, _CHECK_CREDENTIALS),
    403: Rule(Action.FAIL, AuthenticationError, False, _CHECK_CREDENTIALS),
    404: Rule(Action.FAIL, NotFoundError, False, "the object does not exist (any more) on the account"),
    409: Rule(Action.FAIL, ValidationError, False, "the object is in use or already exists"),
    413: Rule(Action.FAIL, PayloadTooLargeError, False, "send smaller batches (lower the batch size)"),
    422: Rule(Action.FAIL, ValidationError, False, "activate the program in dotdigital, then retry"),
    429: RATE_LIMITED,
    500: Rule(Action.RETRY, ServerError, False, _RETRY_LATER),
    502: Rule(Action.RETRY, ServerError, False, _RETRY_LATER),
    # 503 means the platform refused the call before handling it: safe even for non-idempotent calls.
    503: Rule(Action.RETRY, ServerError, True, _RETRY_LATER),
    504: Rule(Action.RETRY, ServerError, False, _RETRY_LATER),
}
"""HTTP status -> rule. Singer's defaults: 429 and 5xx retriable, other 4xx fatal."""

_BUSY_IMPORTS = Rule(
    Action.DEFER,
    TooManyActiveImportsError,
    True,
    "the account runs too many imports at once; dotsync starts this one again when one finishes",
)
_NOT_FOUND = STATUS_RULES[404]
_AUTH = STATUS_RULES[401]

ERROR_CODE_RULES: dict[str, Rule] = {
    "ERROR_IMPORT_TOOMANYACTIVEIMPORTS": _BUSY_IMPORTS,
    "contacts:tooManyActiveImports": _BUSY_IMPORTS,
    "insightData:tooManyActiveImports": _BUSY_IMPORTS,
    "ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE": Rule(Action.RETRY, ServerError, True, _RETRY_LATER),
    # the same refusal on v3 paths (the sandbox answers v3 bodies there; the live spelling is UNCONFIRMED)
    "insightData:serviceTemporarilyUnavailable": Rule(Action.RETRY, ServerError, True, _RETRY_LATER),
    "contacts:serviceTemporarilyUnavailable": Rule(Action.RETRY, ServerError, True, _RETRY_LATER),
    # Flat-rate allowance (2,000 calls per rolling hour): waiting seconds in-process cannot help, so the
    # assumed wait is long enough that the client raises at once and the job is rescheduled.
    "ERROR_APIUSAGE_EXCEEDED": Rule(
        Action.RATE_LIMITED,
        RateLimitedError,
        True,
        "the account is over its hourly API allowance; syncing resumes when the hour rolls over",
        default_wait=900.0,
    ),
    "ERROR_INVALID_LOGIN": _AUTH,
    "ERROR_APIUSER_INVALID": _AUTH,
    "ERROR_ACCOUNT_INVALID": _AUTH,
    "ERROR_CONTACT_NOT_FOUND": _NOT_FOUND,
    "ERROR_ADDRESSBOOK_NOT_FOUND": _NOT_FOUND,
    "ERROR_PROGRAM_NOT_FOUND": _NOT_FOUND,
    "ERROR_ENROLMENT_NOT_FOUND": _NOT_FOUND,
    "ERROR_CAMPAIGN_NOT_FOUND": _NOT_FOUND,
    "ERROR_IMPORT_NOT_FOUND": _NOT_FOUND,
    "ERROR_TRANSACTIONAL_DATA_DOES_NOT_EXIST": _NOT_FOUND,
    "ERROR_TRANSACTIONAL_DATA_COLLECTION_DOES_NOT_EXIST": _NOT_FOUND,
    "insightData:contactNotFound": _NOT_FOUND,
    "insightData:collectionNotFound": _NOT_FOUND,
    "insightData:recordNotFound": _NOT_FOUND,
    "insightData:importNotFound": _NOT_FOUND,
    "contacts:contactNotFound": _NOT_FOUND,
    "ERROR_PROGRAM_NOT_ACTIVE": STATUS_RULES[422],
}
"""Platform error code -> rule; overrides the status rule."""

EXCEPTION_RULES: dict[type[Exception], Rule] = {
    # The connection was never made: the platform did not see the request.
    httpx.ConnectError: Rule(Action.RETRY, PlatformConnectionError, True, _RETRY_LATER),
    httpx.ConnectTimeout: Rule(Action.RETRY, PlatformTimeout, True, _RETRY_LATER),
    httpx.PoolTimeout: Rule(Action.RETRY, PlatformTimeout, True, _RETRY_LATER),
    # The request may have reached the platform: only idempotent calls are retried.
    httpx.TimeoutException: Rule(Action.RETRY, PlatformTimeout, False, _RETRY_LATER),
    httpx.TransportError: Rule(Action.RETRY, PlatformConnectionError, False, _RETRY_LATER),
}
"""Transport exception class -> rule (looked up along the MRO)."""


def rule_for_response(status_code: int, error_code: str | None) -> Rule:
    """Pick the rule for an error response.

    Args:
        status_code: the HTTP status (non-2xx).
        error_code: the parsed ``ERROR_*`` or v3 ``errorCode``, if any.

    Returns:
        The matching rule; unknown 5xx retry, unknown other statuses fail.
    """
    if error_code and error_code in ERROR_CODE_RULES:
        return ERROR_CODE_RULES[error_code]
    if status_code in STATUS_RULES:
        return STATUS_RULES[status_code]
    return SERVER_FALLBACK if status_code >= 500 else CLIENT_FALLBACK


def rule_for_exception(exc: BaseException) -> Rule | None:
    """Pick the rule for a transport exception, or None if it is not a transport failure.

    Args:
        exc: the exception httpx raised.

    Returns:
        The rule of the most specific class in :data:`EXCEPTION_RULES`, or None.
    """
    for cls in type(exc).__mro__:
        if cls in EXCEPTION_RULES:
            return EXCEPTION_RULES[cls]
    return None
