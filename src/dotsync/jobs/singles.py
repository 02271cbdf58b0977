"""The batching rule of a nudged run (the fast path): **singles below N**.

A run of ``dotsync run`` that a store change nudged (:mod:`dotsync.jobs.nudge`,
:mod:`dotsync.runtime.fastpath`) runs inside :func:`fast_path`. In it, a website's insight stream
(orders, quotes, reviews, wishlists) with fewer than N pending rows sends each record as a single
call (:class:`Singles`, the importer's ``INSIGHT_UPSERT``: one PUT, settled in the run that sends
it); N or more go as one batch import, as every scheduled run and ``sync all`` do, so a flash sale is
a few imports, not thousands of calls. N is ``batch_sizes["singles_below"]`` (default
:data:`SINGLES_BELOW`). Contacts always go as a CSV import (address books, opt-in), polled promptly.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.db import models

from dotsync.jobs.batching import Batch, single
from dotsync.models import Importer, SyncStatus
from dotsync.models.importer import ImportMode

_fast: ContextVar[bool] = ContextVar("dotsync_fast_path", default=False)


@contextlib.contextmanager
def fast_path() -> Iterator[None]:
    """Run the jobs in this context as a nudged run (the singles-below-N rule applies)."""
    token = _fast.set(True)
    try:
        yield
    finally:
        _fast.reset(token)


def in_fast_path() -> bool:
    """True inside :func:`fast_path`."""
    return _fast.get()


def singles_below(pending: int, n: int) -> bool:
    """The rule: in a nudged run, fewer than ``n`` pending records go as single calls."""
    return in_fast_path() and pending < n


SINGLES_BELOW = 10
"""N of the singles-below-N rule when ``batch_sizes`` has no ``singles_below``."""


def singles_threshold(batch_sizes: dict[str, int]) -> int:
    """N for a website: its ``batch_sizes["singles_below"]``, else :data:`SINGLES_BELOW`."""
    return int(batch_sizes.get("singles_below", SINGLES_BELOW))


class Singles(Batch):
    """A stand-in for an insight :class:`~dotsync.jobs.batching.Batch` that queues one single call per record.

    Each record becomes an ``email_importer`` row in ``Single`` mode (the importer's
    ``INSIGHT_UPSERT``: one PUT, settled in the run that sends it) carrying its source row, with the
    hash the batch would have recorded.
    """

    def __init__(self, *, collection: str, collection_type: str, scope: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.collection, self.collection_type, self.scope = collection, collection_type, scope

    def add(self, pk: int, hash_: str, item: Any, size: int) -> None:
        """Queue the record as a single call at once."""
        record = json.loads(str(item))
        identity = record.get("contactIdentity") or {}
        payload = {
            "collection": self.collection,
            "scope": self.scope,
            "type": self.collection_type,
            "key": str(record["key"]),
            "email": identity.get("value"),
            "json": record.get("json") or {},
        }
        queued = single(
            website_id=self.website_id,
            import_type=self.import_type,
            import_mode=ImportMode.SINGLE,
            table=self.table,
            pk=pk,
            payload=payload,
            stream=self.stream,
            hash_=hash_,
        )
        if queued is not None and self.result is not None:
            self.result.add(self.result_key, "singles")
            self.result.add(self.result_key, "records")

    def flush(self) -> Importer | None:
        """Nothing to flush: every record was queued when added."""
        return None


def insight_sender(
    batch: Batch,
    *,
    model: type[models.Model],
    collection: str,
    collection_type: str,
    scope: str,
    batch_sizes: dict[str, int],
) -> Batch:
    """``batch``, or :class:`Singles` in its place when the singles-below-N rule says so.

    Counts the website's pending rows of the stream's table (one query) only in a nudged run.
    """
    if not in_fast_path():
        return batch
    pending = model._default_manager.filter(
        website_id=batch.website_id, sync_status__in=SyncStatus.pending()
    ).count()
    if not singles_below(pending, singles_threshold(batch_sizes)):
        return batch
    return Singles(
        collection=collection,
        collection_type=collection_type,
        scope=scope,
        website_id=batch.website_id,
        import_type=batch.import_type,
        import_mode=ImportMode.SINGLE,
        table=batch.table,
        render=batch.render,
        max_records=batch.max_records,
        max_bytes=batch.max_bytes,
        base_bytes=batch.base_bytes,
        result=batch.result,
        result_key=batch.result_key,
        exclusive=batch.exclusive,
    )
