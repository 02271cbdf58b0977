"""The Redis-backed limiter against a real Redis (CI's redis lane: DOTSYNC_REDIS_URL, ``pytest -m redis``)."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dotsync.platform.dotdigital import RateLimiter, RedisRateLimiter

REDIS_URL = os.environ.get("DOTSYNC_REDIS_URL")

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set DOTSYNC_REDIS_URL (e.g. redis://127.0.0.1:6379/15)"),
]


@pytest.fixture
def prefix() -> Iterator[str]:
    import redis

    name = f"dotsync-test:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(REDIS_URL or "")
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def test_two_limiters_share_one_budget(prefix: str) -> None:
    """Two workers (two limiter instances, two connections) spend one account budget."""
    a = RedisRateLimiter(REDIS_URL or "", calls=3, period=0.5, prefix=prefix)
    b = RedisRateLimiter(REDIS_URL or "", calls=3, period=0.5, prefix=prefix)
    assert isinstance(a, RateLimiter)
    assert [a.acquire("acct"), b.acquire("acct"), a.acquire("acct")] == [0.0, 0.0, 0.0]
    started = time.monotonic()
    waited = b.acquire("acct")
    assert waited > 0.3
    assert time.monotonic() - started >= 0.3
    # A different account is not affected.
    assert a.acquire("other") == 0.0


def test_penalty_from_one_worker_holds_the_other(prefix: str) -> None:
    a = RedisRateLimiter(REDIS_URL or "", calls=100, period=1.0, prefix=prefix)
    b = RedisRateLimiter(REDIS_URL or "", calls=100, period=1.0, prefix=prefix)
    a.penalize("acct", 0.4)
    a.penalize("acct", 0.05)  # a shorter penalty never shortens the longer one
    started = time.monotonic()
    b.acquire("acct")
    assert time.monotonic() - started >= 0.3


def test_max_wait_and_penalty_only_mode(prefix: str) -> None:
    from dotsync.exceptions import RateLimitedError

    capped = RedisRateLimiter(REDIS_URL or "", calls=1, period=30.0, prefix=prefix)
    capped.acquire("acct")
    with pytest.raises(RateLimitedError) as err:
        capped.acquire("acct", max_wait=1.0)
    assert err.value.retry_after is not None and err.value.retry_after > 25
    free = RedisRateLimiter(REDIS_URL or "", calls=None, prefix=prefix)
    assert [free.acquire("other") for _ in range(50)] == [0.0] * 50
    free.penalize("other", 0.3)
    assert free.acquire("other") >= 0.2


def _spend(url: str, prefix: str, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limiter = RedisRateLimiter(url, calls=4, period=0.6, prefix=prefix)
    for _ in range(n):
        limiter.acquire("acct")
        out.put(time.time())


def test_processes_stay_inside_one_budget(prefix: str) -> None:
    """Three OS processes, 12 calls, 4 per 0.6 s: the last call cannot start before two windows pass."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_spend, args=(REDIS_URL, prefix, 4, out)) for _ in range(3)]
    for p in procs:
        p.start()
    stamps = [out.get(timeout=20) for _ in range(12)]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    stamps.sort()
    assert stamps[-1] - stamps[0] >= 1.1
    for i, start in enumerate(stamps):
        assert sum(1 for t in stamps[i:] if t < start + 0.6 - 0.05) <= 4


def test_clients_in_two_workers_share_the_account_budget_through_redis(sandbox: Any, prefix: str) -> None:
    """Two clients (as two workers would hold) of one account, each with its own RedisRateLimiter."""
    from dotsync.platform.dotdigital import DotdigitalClient
    from tests.platform.client_helpers import new_account

    user, password = new_account(sandbox)
    clients = [
        DotdigitalClient(
            user,
            password,
            base_url=sandbox.url,
            endpoint=sandbox.url,
            limiter=RedisRateLimiter(REDIS_URL or "", calls=3, period=0.5, prefix=prefix),
        )
        for _ in range(2)
    ]
    started = time.monotonic()
    for _ in range(3):
        for c in clients:
            c.list_data_fields()
    elapsed = time.monotonic() - started
    assert sum(c.stats.calls for c in clients) == 6
    assert elapsed >= 0.45  # 6 calls at 3 per 0.5 s: the fourth waits for the window
    for c in clients:
        c.close()
