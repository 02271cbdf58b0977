"""Locks that keep a job to at most one run at a time per scope, across processes and machines.

Two kinds, one interface (:class:`Lock`): :class:`LeaseLock`, a row of ``email_job_lease`` (SQLite and
PostgreSQL alike), and :class:`RedisLock`, redis-py's ``Lock`` with a TTL, used when ``DOTSYNC_REDIS_URL``
(or ``settings.DOTSYNC["redis_url"]``) is set. Neither waits: :meth:`Lock.acquire` answers at once.

A lease is taken with one conditional ``UPDATE`` (``WHERE key = ... AND expires_at <= now``) and, when
no row exists, an ``INSERT`` that the unique key refuses to a second taker. Its holder renews it while
it runs (:class:`Heartbeat`); a holder that died stops renewing, and its lease is taken over once its
TTL has passed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dotsync.models import JobLease

logger = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=10)
"""How long a lease lasts without renewal: how soon a dead holder's lock is taken over."""


class Lock(Protocol):
    """A named, non-blocking lock with a TTL."""

    key: str

    def acquire(self) -> bool:
        """Take the lock now; False when someone else holds it (never waits)."""

    def renew(self) -> bool:
        """Extend the lock by its TTL; False when it is no longer ours."""

    def release(self) -> None:
        """Give the lock up (a lock that is no longer ours is left alone)."""


def new_owner() -> str:
    """A token naming one holder: host, process id and a random part (unique per acquisition)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaseLock:
    """A lease row in ``email_job_lease``: atomic on SQLite and PostgreSQL (see the module docstring)."""

    def __init__(self, key: str, ttl: timedelta = DEFAULT_TTL, owner: str | None = None) -> None:
        self.key = key
        self.ttl = ttl
        self.owner = owner or new_owner()

    def acquire(self) -> bool:
        """Take the lease when it is free, expired or already ours."""
        now = timezone.now()
        expires = now + self.ttl
        taken = JobLease.objects.filter(key=self.key, expires_at__lte=now).update(
            owner=self.owner, expires_at=expires
        ) or JobLease.objects.filter(key=self.key, owner=self.owner).update(expires_at=expires)
        if taken:
            return True
        try:
            with transaction.atomic():
                JobLease.objects.create(key=self.key, owner=self.owner, expires_at=expires)
        except IntegrityError:  # another process holds it (or took it a moment ago)
            return False
        return True

    def renew(self) -> bool:
        """Push the expiry one TTL ahead, if the lease is still ours."""
        expires = timezone.now() + self.ttl
        return bool(JobLease.objects.filter(key=self.key, owner=self.owner).update(expires_at=expires))

    def release(self) -> None:
        """Delete the lease row, if it is still ours."""
        JobLease.objects.filter(key=self.key, owner=self.owner).delete()


class RedisLock:
    """redis-py's ``Lock`` (a token in a key with a TTL), taken without blocking."""

    def __init__(self, key: str, url_or_client: Any, ttl: timedelta = DEFAULT_TTL) -> None:
        if isinstance(url_or_client, str):
            import redis

            url_or_client = redis.Redis.from_url(url_or_client)
        self.key = key
        self.ttl = ttl
        self._lock = url_or_client.lock(key, timeout=ttl.total_seconds(), blocking=False)

    def acquire(self) -> bool:
        """Take the lock when the key is free."""
        return bool(self._lock.acquire(blocking=False))

    def renew(self) -> bool:
        """Reset the key's TTL, if the token is still ours."""
        from redis.exceptions import LockError

        try:
            return bool(self._lock.reacquire())
        except LockError:
            return False

    def release(self) -> None:
        """Delete the key, if the token is still ours."""
        from redis.exceptions import LockError

        with contextlib.suppress(LockError):  # expired and maybe taken by another: not ours to delete
            self._lock.release()


def redis_url() -> str:
    """The Redis URL locks use: ``DOTSYNC_REDIS_URL``, else ``settings.DOTSYNC["redis_url"]``, else ""."""
    return os.environ.get("DOTSYNC_REDIS_URL") or getattr(settings, "DOTSYNC", {}).get("redis_url", "") or ""


def make_lock(key: str, ttl: timedelta = DEFAULT_TTL) -> Lock:
    """A Redis lock when a Redis URL is configured, else a lease row."""
    url = redis_url()
    return RedisLock(key, url, ttl) if url else LeaseLock(key, ttl)


class Heartbeat:
    """Renews a lock every third of its TTL from a thread, while a job runs (a context manager)."""

    def __init__(self, lock: Lock, ttl: timedelta = DEFAULT_TTL) -> None:
        self.lock = lock
        self.every = ttl.total_seconds() / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease:{lock.key}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if not self.lock.renew():
                        logger.warning("lock %s: lost (taken over after its TTL)", self.lock.key)
                except Exception:  # a busy database: the next beat tries again, well within the TTL
                    logger.warning("lock %s: renewal failed, retrying", self.lock.key, exc_info=True)
        finally:
            connection.close()  # this thread's own database connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
