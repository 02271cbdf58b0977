"""Helpers for the client tests: a fresh sandbox account and a client bound to it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from dotsync.platform.dotdigital import DotdigitalClient, InProcessRateLimiter, RetryPolicy

FAST_RETRY = dict(base_delay=0.05, max_delay=0.2, rate_limit_jitter=0.0)
"""Real but short backoff sleeps, so fault tests stay fast."""


def new_account(sandbox: Any) -> tuple[str, str]:
    """Create a sandbox account with unique credentials; return (api user, password)."""
    user = f"apiuser-{uuid.uuid4().hex[:12]}@apiconnector.com"
    password = f"pw-{uuid.uuid4().hex}"
    sandbox.create_account(user, password)
    return user, password


def new_client(sandbox: Any, *, max_retries: int = 5, **kwargs: Any) -> DotdigitalClient:
    """A client on a fresh sandbox account, with its own limiter and fast real backoff."""
    user, password = new_account(sandbox)
    kwargs.setdefault("limiter", InProcessRateLimiter())
    kwargs.setdefault("retry_policy", RetryPolicy(max_retries=max_retries, **FAST_RETRY))
    return DotdigitalClient(user, password, base_url=sandbox.url, **kwargs)


def wait_for(check: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
