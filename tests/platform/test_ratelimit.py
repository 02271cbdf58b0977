"""The in-process per-account limiter, with real clocks and short windows."""

from __future__ import annotations

import threading
import time

import pytest

from dotsync.exceptions import RateLimitedError
from dotsync.platform.dotdigital import (
    InProcessRateLimiter,
    RateLimiter,
    default_limiter,
    limiter_from_env,
    set_default_limiter,
)


def _max_in_window(stamps: list[float], period: float) -> int:
    stamps = sorted(stamps)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, sum(1 for t in stamps[i:] if t < start + period))
    return best


def test_budget_is_enforced_with_a_real_wait() -> None:
    limiter = InProcessRateLimiter(calls=3, period=0.4)
    started = time.monotonic()
    waits = [limiter.acquire("acct") for _ in range(4)]
    elapsed = time.monotonic() - started
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0.3
    assert 0.35 <= elapsed < 1.5


def test_accounts_have_separate_budgets() -> None:
    limiter = InProcessRateLimiter(calls=2, period=5.0)
    assert [limiter.acquire("a"), limiter.acquire("a")] == [0.0, 0.0]
    started = time.monotonic()
    assert limiter.acquire("b") == 0.0
    assert time.monotonic() - started < 0.05


def test_threads_sharing_an_account_stay_inside_one_budget() -> None:
    limiter = InProcessRateLimiter(calls=4, period=0.3)
    stamps: list[float] = []
    lock = threading.Lock()

    def job() -> None:
        for _ in range(3):
            limiter.acquire("shared")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(stamps) == 12
    # 12 calls at 4 per 0.3 s need at least two full windows after the first burst.
    assert max(stamps) - min(stamps) >= 0.55
    assert _max_in_window(stamps, 0.3) <= 4


def test_penalize_holds_every_caller_of_the_account() -> None:
    limiter = InProcessRateLimiter(calls=100, period=1.0)
    limiter.penalize("acct", 0.3)
    waited: list[float] = []

    def job() -> None:
        started = time.monotonic()
        limiter.acquire("acct")
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert len(waited) == 3
    assert all(w >= 0.25 for w in waited)
    # Another account is not held.
    started = time.monotonic()
    limiter.acquire("other")
    assert time.monotonic() - started < 0.05


def test_penalize_never_shortens_a_longer_wait() -> None:
    limiter = InProcessRateLimiter(calls=100, period=1.0)
    limiter.penalize("acct", 0.3)
    limiter.penalize("acct", 0.0)
    started = time.monotonic()
    limiter.acquire("acct")
    assert time.monotonic() - started >= 0.25


def test_invalid_budget_is_rejected() -> None:
    with pytest.raises(ValueError):
        InProcessRateLimiter(calls=0)
    with pytest.raises(ValueError):
        InProcessRateLimiter(period=0)


def test_default_limiter_is_shared_and_satisfies_the_protocol() -> None:
    assert default_limiter() is default_limiter()
    assert isinstance(default_limiter(), RateLimiter)


def test_budget_from_the_environment_setting() -> None:
    default = limiter_from_env("")
    assert (default.calls, default.period) == (2000, 3600.0)  # dotdigital's flat-rate cap
    low_tier = limiter_from_env("35/60")
    assert (low_tier.calls, low_tier.period) == (35, 60.0)
    assert limiter_from_env("off").calls is None
    with pytest.raises(ValueError, match="DOTSYNC_RATE_LIMIT"):
        limiter_from_env("lots")


def test_set_default_limiter_swaps_the_process_wide_one() -> None:
    mine = InProcessRateLimiter(calls=5, period=1.0)
    try:
        set_default_limiter(mine)
        assert default_limiter() is mine
    finally:
        set_default_limiter(None)
    assert default_limiter() is not mine


def test_no_budget_still_honours_penalties() -> None:
    limiter = InProcessRateLimiter(calls=None)
    started = time.monotonic()
    for _ in range(500):
        limiter.acquire("acct")
    assert time.monotonic() - started < 0.5
    limiter.penalize("acct", 0.2)
    assert limiter.acquire("acct") >= 0.15


def test_a_wait_over_max_wait_raises_instead_of_holding_the_worker() -> None:
    limiter = InProcessRateLimiter(calls=1, period=30.0)
    limiter.acquire("acct")
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as err:
        limiter.acquire("acct", max_wait=5.0)
    assert time.monotonic() - started < 0.1
    assert err.value.transient and err.value.retry_after is not None and err.value.retry_after > 25
