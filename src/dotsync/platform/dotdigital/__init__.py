"""dotdigital REST client: typed calls, region discovery, retries, rate limits, typed errors.

Public surface::

    from dotsync.platform.dotdigital import DotdigitalClient, RedisRateLimiter

Errors raised are the ``PlatformError`` classes of :mod:`dotsync.exceptions`; check ``.transient``.
"""

from dotsync.platform.dotdigital.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    DotdigitalClient,
    account_property,
    clear_endpoint_cache,
)
from dotsync.platform.dotdigital.models import (
    CONTACT_IMPORT_FAILED_STATUSES,
    CONTACT_IMPORT_FINISHED,
    CONTACT_IMPORT_IN_PROGRESS,
    ImportFault,
    InsightImportFailure,
    InsightImportStatus,
)
from dotsync.platform.dotdigital.ratelimit import (
    InProcessRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    default_limiter,
    limiter_from_env,
    set_default_limiter,
)
from dotsync.platform.dotdigital.transport import CallStats, RetryPolicy

__all__ = [
    "CONTACT_IMPORT_FAILED_STATUSES",
    "CONTACT_IMPORT_FINISHED",
    "CONTACT_IMPORT_IN_PROGRESS",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "CallStats",
    "DotdigitalClient",
    "ImportFault",
    "InProcessRateLimiter",
    "InsightImportFailure",
    "InsightImportStatus",
    "RateLimiter",
    "RedisRateLimiter",
    "RetryPolicy",
    "account_property",
    "clear_endpoint_cache",
    "default_limiter",
    "limiter_from_env",
    "set_default_limiter",
]
