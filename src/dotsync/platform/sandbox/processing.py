"""Asynchronous work, processed lazily: an import is applied on the first request after it is due.

An import is due when ``import_delay`` seconds have passed since it was accepted *and* it has been polled
``import_polls`` times (both are fixed when the import is accepted). Any API call by the account, and
``GET /sandbox/state``, processes the account's due imports first, so the result is the same as a
background worker's, but deterministic.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from dotsync.platform.sandbox.faults import Faults
from dotsync.platform.sandbox.storage import Store

log = logging.getLogger("dotsync.sandbox")

Processor = Callable[[Store, Faults, sqlite3.Row], None]
"""Applies one due import of its kind to the account's state."""

PROCESSORS: dict[str, Processor] = {}
"""Import kind (``contacts``, ``insight``) -> its processor. Each kind's module registers its own when it is
imported (:mod:`.imports`, :mod:`.insight`); :mod:`.app` imports them all, so every kind is registered."""


def register(kind: str, processor: Processor) -> None:
    """Make ``processor`` apply the due imports of ``kind``."""
    PROCESSORS[kind] = processor


def _process(store: Store, faults: Faults, row: sqlite3.Row) -> None:
    """Apply one due import; one that cannot be applied ends ``Failed`` instead of failing every call.

    A stored import is processed by whichever request of its account comes next (and by
    ``/sandbox/state``), so an exception here would poison all of them, across restarts.
    """
    try:
        PROCESSORS[row["kind"]](store, faults, row)
    except Exception:  # a bug or a bad stored row: log it, settle the import, keep the account usable
        log.exception("sandbox import %s could not be processed; marked Failed", row["id"])
        store.run("UPDATE imports SET status = 'Failed' WHERE id = ?", (row["id"],))


def process_due(store: Store, faults: Faults, account_id: int | None = None) -> int:
    """Process every due import (of one account, or of all); returns how many were processed."""
    sql = (
        "SELECT * FROM imports WHERE status IN ('NotFinished', 'NotStarted') "
        "AND ready_at <= ? AND polls >= polls_needed"
    )
    params: list[object] = [time.time()]
    if account_id is not None:
        sql += " AND account_id = ?"
        params.append(account_id)
    done = 0
    with store.lock:
        for row in store.all(sql + " ORDER BY created", params):
            _process(store, faults, row)
            done += 1
    return done


def poll(store: Store, faults: Faults, account_id: int, import_id: str, kind: str) -> sqlite3.Row | None:
    """Count one status poll of an import, process it if that made it due, and return its row."""
    with store.lock:
        row = store.one(
            "SELECT * FROM imports WHERE id = ? AND account_id = ? AND kind = ?",
            (import_id, account_id, kind),
        )
        if row is None:
            return None
        if row["status"] in ("NotFinished", "NotStarted"):
            store.run("UPDATE imports SET polls = polls + 1 WHERE id = ?", (import_id,))
            row = store.one("SELECT * FROM imports WHERE id = ?", (import_id,))
            assert row is not None
            if row["ready_at"] <= time.time() and row["polls"] >= row["polls_needed"]:
                _process(store, faults, row)
                row = store.one("SELECT * FROM imports WHERE id = ?", (import_id,))
        return row
