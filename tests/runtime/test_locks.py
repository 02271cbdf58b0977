"""Lease rows (``email_job_lease``): take, refuse while held, renew, release, take over after the TTL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync.models import JobLease
from dotsync.runtime.locks import LeaseLock, RedisLock, make_lock

pytestmark = pytest.mark.django_db

TTL = timedelta(minutes=5)


def test_a_free_lease_is_taken_and_a_held_one_refused() -> None:
    a, b = LeaseLock("k", TTL), LeaseLock("k", TTL)
    assert a.acquire()
    assert not b.acquire()  # never waits: answers at once
    assert JobLease.objects.get(key="k").owner == a.owner
    a.release()
    assert not JobLease.objects.filter(key="k").exists()
    assert b.acquire()


def test_other_keys_are_independent() -> None:
    assert LeaseLock("job:orders:main", TTL).acquire()
    assert LeaseLock("job:orders:fr", TTL).acquire()


def test_a_dead_holders_lease_is_taken_over_after_its_ttl_only() -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        dead = LeaseLock("k", TTL)
        assert dead.acquire()
        clock.shift(TTL - timedelta(seconds=1))
        assert not LeaseLock("k", TTL).acquire()
        clock.shift(timedelta(seconds=1))
        heir = LeaseLock("k", TTL)
        assert heir.acquire()
        assert JobLease.objects.get(key="k").owner == heir.owner
        # the dead holder, back, cannot renew or release what is no longer its own
        assert not dead.renew()
        dead.release()
        assert JobLease.objects.get(key="k").owner == heir.owner


def test_renewal_keeps_a_live_holders_lease() -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        live = LeaseLock("k", TTL)
        assert live.acquire()
        for _ in range(3):
            clock.shift(TTL - timedelta(seconds=1))
            assert live.renew()
            assert not LeaseLock("k", TTL).acquire()


def test_make_lock_uses_redis_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOTSYNC_REDIS_URL", raising=False)
    assert isinstance(make_lock("k"), LeaseLock)
    monkeypatch.setenv("DOTSYNC_REDIS_URL", "redis://127.0.0.1:1/15")  # not connected until used
    assert isinstance(make_lock("k"), RedisLock)


@pytest.mark.redis
def test_redis_lock_semantics() -> None:
    """Against a real Redis (``-m redis`` with DOTSYNC_REDIS_URL set)."""
    import os

    url = os.environ.get("DOTSYNC_REDIS_URL")
    if not url:
        pytest.skip("DOTSYNC_REDIS_URL is not set")
    a, b = RedisLock("dotsync:test:lock", url, TTL), RedisLock("dotsync:test:lock", url, TTL)
    assert a.acquire()
    try:
        assert not b.acquire()
        assert a.renew()
    finally:
        a.release()
    assert b.acquire()
    b.release()
