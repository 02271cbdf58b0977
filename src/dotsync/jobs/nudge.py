"""The fast path's first step: a store change, once committed, nudges the job that sends it.

:func:`nudging` wraps dotsync's store-event sink (:data:`dotsync.jobs.events.SINK`): each event is
passed on unchanged, then a nudge is written for the job of the event's stream and the website it
belongs to (:data:`EVENT_STREAMS`, :func:`job_for_stream`). A delete, which queues an importer row
directly, nudges the importer. A nudge is one ``email_job_nudge`` row per
(job, website), inserted in the observer's own transaction (so it commits with the rows it is about)
and kept as it is while it waits (a burst of changes is one nudge, timed from its first change).

Who acts on it:

* ``dotsync run`` reads the table every half second (:mod:`dotsync.runtime.fastpath`), so a shop
  in another process nudges it through the database (SQLite or PostgreSQL);
* listeners added with :func:`add_listener` (or named in ``DOTSYNC_NUDGE_LISTENERS``) are told
  after the commit: ``dotsync.celery.send_nudge`` sends a de-duplicated Celery task.

Catalogue changes nudge nothing: the catalogue job runs at its own interval.

A nudged run sends by the singles-below-N rule (:mod:`dotsync.jobs.singles`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from dotsync.models import Contact, JobNudge, Quote, Review
from dotsync.store.events import StoreEvents, StoreRef

logger = logging.getLogger(__name__)

IMPORTER = "importer"

EVENT_STREAMS: dict[str, tuple[str, ...]] = {
    "upsert_contact": ("customers",),
    "touch_customer_contacts": ("customers",),
    "customer_deleted": (IMPORTER,),
    "upsert_subscription": ("subscribers",),
    "subscription_removed": ("subscribers",),
    "upsert_order": ("orders",),
    "upsert_quote": ("quotes",),
    "set_quote_active": ("quotes",),
    "upsert_wishlist": ("wishlists",),
    "upsert_review": ("reviews",),
    "review_withdrawn": ("reviews",),
    "record_deleted": (IMPORTER,),
}
"""Store event (a :class:`~dotsync.store.events.StoreEvents` method) -> the streams it changes.

A nudged batching run is followed by the importer, so ``importer`` is named only by events that
queue importer rows and nothing else (deletes). An event not listed nudges nothing."""

Listener = Callable[[str, int], None]
_listeners: list[Listener] = []

LISTENERS_ENV = "DOTSYNC_NUDGE_LISTENERS"
"""Comma-separated dotted paths of listeners to add when the first nudge is written, e.g.
``dotsync.celery.send_nudge`` in a shop whose jobs run under Celery (``settings.DOTSYNC
["nudge_listeners"]``, a list, works too)."""

_configured = False


def _configure() -> None:
    """Add the listeners named in the environment or settings (once per process)."""
    global _configured
    if _configured:
        return
    _configured = True
    from django.conf import settings
    from django.utils.module_loading import import_string

    names = [n.strip() for n in os.environ.get(LISTENERS_ENV, "").split(",") if n.strip()]
    names += list(getattr(settings, "DOTSYNC", {}).get("nudge_listeners", []))
    for name in names:
        add_listener(import_string(name))


def add_listener(listener: Listener) -> None:
    """Call ``listener(job_id, website_id)`` after the commit of every nudge (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    """Stop calling ``listener``."""
    if listener in _listeners:
        _listeners.remove(listener)


@functools.cache
def _stream_jobs() -> dict[str, str]:
    from dotsync.jobs.registry import ALL
    from dotsync.jobs.stream import StreamJob

    return {s.name: job.id for job in ALL if isinstance(job, StreamJob) for s in job.streams}


def job_for_stream(stream: str) -> str | None:
    """The id of the job that sends ``stream`` (``importer`` for itself), or None."""
    return IMPORTER if stream == IMPORTER else _stream_jobs().get(stream)


def nudge(job_ids: Iterable[str], website_ids: Iterable[int]) -> int:
    """Ask for each job to run soon for each website; returns the number of (job, website) pairs.

    Inserted in the caller's transaction; a pair already waiting keeps its row and time. Listeners
    are told once the transaction commits.
    """
    pairs = sorted({(j, w) for j in job_ids for w in website_ids if w})
    if not pairs:
        return 0
    now = timezone.now()
    JobNudge.objects.bulk_create(
        [JobNudge(job_id=j, website_id=w, nudged_at=now) for j, w in pairs], ignore_conflicts=True
    )
    _configure()
    if _listeners:
        transaction.on_commit(functools.partial(_tell, pairs))
    return len(pairs)


def _tell(pairs: list[tuple[str, int]]) -> None:
    for listener in list(_listeners):
        for job_id, website_id in pairs:
            try:
                listener(job_id, website_id)
            except Exception:  # a nudge is an optimisation: the scheduled run still comes
                logger.exception("nudge listener failed for %s [%s]", job_id, website_id)


def _customer_websites(customer_id: int) -> list[int]:
    return list(Contact.objects.filter(customer_id=customer_id).values_list("website_id", flat=True))


def _websites(event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[int]:
    """The websites an event is about, read before it runs (a delete removes the row it names)."""
    refs = [a for a in (*args, *kwargs.values()) if isinstance(a, StoreRef)]
    if refs:
        return [r.website_id for r in refs]
    first = args[0] if args else None
    if event in ("touch_customer_contacts", "customer_deleted"):
        return _customer_websites(int(first or kwargs.get("customer_id") or 0))
    if event == "set_quote_active":
        return list(Quote.objects.filter(quote_id=int(first or 0)).values_list("website_id", flat=True))
    if event == "review_withdrawn":
        return list(Review.objects.filter(review_id=int(first or 0)).values_list("website_id", flat=True))
    if event == "record_deleted":
        from dotsync.jobs.events import DELETABLE

        target = DELETABLE.get(str(first))
        key = args[1] if len(args) > 1 else kwargs.get("key")
        if target is None:
            return []
        rows: Any = target.model._default_manager.filter(**{target.source_id: key})
        return list(rows.values_list("website_id", flat=True))
    return []


class NudgingSink:
    """A store-event sink that passes every event on, then nudges the jobs that send it."""

    def __init__(self, inner: StoreEvents) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        streams = EVENT_STREAMS.get(name)
        if streams is None or not callable(target):
            return target

        @functools.wraps(target)
        def call(*args: Any, **kwargs: Any) -> Any:
            websites = _websites(name, args, kwargs) if name in _BEFORE else []
            out = target(*args, **kwargs)
            if name in _COUNTED and not out:
                return out  # it changed no row: nothing to send
            if name not in _BEFORE:
                websites = _websites(name, args, kwargs)
            jobs = [j for j in (job_for_stream(s) for s in streams) if j]
            nudge(jobs, websites)
            return out

        return call


_BEFORE = frozenset({"customer_deleted", "record_deleted", "review_withdrawn"})
"""Events whose websites are read before the event runs (it deletes the rows named)."""

_COUNTED = frozenset({"touch_customer_contacts", "set_quote_active", "record_deleted"})
"""Events that return how many rows they changed (or whether they found one): none, no nudge."""


def nudging(inner: StoreEvents) -> StoreEvents:
    """``inner`` wrapped so that every store event it receives also nudges its job."""
    return cast(StoreEvents, NudgingSink(inner))
