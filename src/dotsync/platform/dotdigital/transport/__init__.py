"""HTTP transport for the dotdigital client: retries, backoff, rate limits, error mapping."""

from dotsync.platform.dotdigital.transport.breaker import Breaker, BreakerState
from dotsync.platform.dotdigital.transport.http import CallStats, Transport
from dotsync.platform.dotdigital.transport.retry import RetryPolicy

__all__ = ["Breaker", "BreakerState", "CallStats", "RetryPolicy", "Transport"]
