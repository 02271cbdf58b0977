"""Every error dotsync raises, split into transient (retry later) and terminal (do not retry).

Tree::

    DotsyncError
    ├── ConfigurationError                  terminal: lists every configuration problem
    ├── StoreError                          terminal: the store adapter could not read an entity
    ├── BatchConflict                       transient: another run queued some of a batch's rows first
    └── PlatformError                       an error from dotdigital (or the sandbox)
        ├── TransientPlatformError          retried (429, 5xx, timeouts) or rescheduled (busy imports)
        │   ├── RateLimitedError            429 or ERROR_APIUSAGE_EXCEEDED: carries retry_after seconds
        │   ├── ServerError                 5xx, ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE
        │   ├── PlatformTimeout             no answer within the timeout (121 s by default)
        │   ├── PlatformConnectionError     refused, reset, DNS, TLS
        │   │   └── CircuitOpenError        the account's circuit breaker is open: no call was made
        │   └── TooManyActiveImportsError   ERROR_IMPORT_TOOMANYACTIVEIMPORTS, *:tooManyActiveImports
        └── TerminalPlatformError           never retried
            ├── AuthenticationError         401/403, ERROR_INVALID_LOGIN, ERROR_APIUSER_INVALID
            ├── NotFoundError               404, ERROR_*_NOT_FOUND
            ├── ValidationError             400, 409, 422 and other 4xx
            └── PayloadTooLargeError        413 / over the platform's size limits

Which HTTP status, ``ERROR_*`` code or transport failure becomes which class is a data table:
``dotsync.platform.dotdigital.policy``.

Code that decides retry-versus-fail checks only :attr:`DotsyncError.transient`.
"""

from __future__ import annotations

from collections.abc import Iterable


class DotsyncError(Exception):
    """Base class of every dotsync error."""

    transient: bool = False


class ConfigurationError(DotsyncError):
    """Invalid configuration; the message lists every problem found, not just the first."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"dotsync is not configured correctly ({len(self.problems)} problem(s)):\n{lines}")


class StoreError(DotsyncError):
    """The store adapter could not provide an entity."""


class BatchConflict(DotsyncError):
    """Some rows of a batch were no longer pending when it was registered.

    Another run of the same job (an overlapping cron or Celery run) queued them first. Nothing of
    the batch is queued; the rows the other run did not take stay pending for the next run.
    """

    transient = True


class PlatformError(DotsyncError):
    """An error answered (or caused) by the dotdigital API.

    Attributes:
        status_code: HTTP status, or None when no response arrived.
        error_code: the platform's ``ERROR_*`` code parsed from the message, if any.
        operation: the client operation that failed (never the URL with personal data).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_code = error_code
        self.operation = operation
        self.unreachable: str | None = None
        """For transport failures: why the platform could not be reached (``refused``, ``dns``, ``tls``,
        ``timeout``, ``reset``; see :mod:`dotsync.platform.dotdigital.reachability`), else None."""


class TransientPlatformError(PlatformError):
    """Retry later: the same call may succeed."""

    transient = True


class TerminalPlatformError(PlatformError):
    """Do not retry: the same call will fail again."""

    transient = False


# --- transient platform errors ----------------------------------------------------------------------


class RateLimitedError(TransientPlatformError):
    """The platform throttled the call (HTTP 429, or ``ERROR_APIUSAGE_EXCEEDED``).

    Attributes:
        retry_after: seconds the platform asked us to wait (``Retry-After`` or ``x-ratelimit-reset``),
            or None when it did not say.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message, status_code=status_code, error_code=error_code, operation=operation)
        self.retry_after = retry_after


class ServerError(TransientPlatformError):
    """The platform failed (5xx, or ``ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE``)."""


class PlatformTimeout(TransientPlatformError):
    """No answer within the configured timeout (dotdigital advises allowing 121 s)."""


class PlatformConnectionError(TransientPlatformError):
    """The platform could not be reached (DNS, refused connection, connection reset)."""


class CircuitOpenError(PlatformConnectionError):
    """The account failed too often in a row; calls are held back until a probe is due (no call made).

    Attributes:
        retry_after: seconds until the breaker lets one probe call through.
        cause: the last failure's kind (``refused``, ``dns``, ``tls``, ``timeout``, ``server_error``...).
    """

    def __init__(self, message: str, *, retry_after: float, cause: str, operation: str = "") -> None:
        super().__init__(message, operation=operation)
        self.retry_after = retry_after
        self.cause = cause
        self.unreachable = cause


class TooManyActiveImportsError(TransientPlatformError):
    """The account already runs its maximum of imports (``ERROR_IMPORT_TOOMANYACTIVEIMPORTS``)."""


# --- terminal platform errors -----------------------------------------------------------------------


class AuthenticationError(TerminalPlatformError):
    """The API user or password is wrong, lacks a permission, or the region is wrong (401/403)."""


class NotFoundError(TerminalPlatformError):
    """The contact, address book, import, program or record does not exist (404 or ``*_NOT_FOUND``)."""


class ValidationError(TerminalPlatformError):
    """The platform rejected the request's content (400, 409, 422 and other 4xx)."""


class PayloadTooLargeError(TerminalPlatformError):
    """The request is over the platform's size limit (413, or caught before sending)."""
