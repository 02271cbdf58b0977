"""Every error dotsync raises, split into transient (retry later) and terminal (do not retry).

Tree::

    DotsyncError
    ├── ConfigurationError                  terminal: lists every configuration problem
    ├── StoreError                          terminal: the store adapter could not read an entity
    └── PlatformError                       an error from dotdigital (or the sandbox)
        ├── TransientPlatformError          retry with backoff (429, 5xx, timeouts, busy imports)
        │   ├── RateLimitedError            429: carries retry_after seconds
        │   ├── ServerError                 5xx
        │   ├── PlatformTimeout
        │   ├── PlatformConnectionError
        │   └── TooManyActiveImportsError   ERROR_IMPORT_TOOMANYACTIVEIMPORTS
        └── TerminalPlatformError           never retried
            ├── AuthenticationError         401/403
            ├── NotFoundError               404
            ├── ValidationError             400 and other 4xx
            └── PayloadTooLargeError        413 / over the platform's size limits

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


class TransientPlatformError(PlatformError):
    """Retry later: the same call may succeed."""

    transient = True


class TerminalPlatformError(PlatformError):
    """Do not retry: the same call will fail again."""

    transient = False
