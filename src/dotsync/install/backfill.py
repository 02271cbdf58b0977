"""The history backfill: fill every sync table from the store's history, in bulk, resumably.

For each :class:`~dotsync.store.protocol.HistorySource` of each table (in
:data:`~dotsync.store.protocol.HISTORY_TABLES` order) the backfill reads the driving table's id
bounds, then walks them in chunks of ``chunk_size`` ids. Each chunk is one ``INSERT … SELECT … ON
CONFLICT`` statement plus the update of its resume pointer (``dotsync_install_progress``, one row
per source), **committed together**. So:

* rows never pass through Python: memory stays flat whatever the store's size;
* a kill at any moment loses at most the chunk in flight, and the next run resumes after the last
  committed chunk (``last_id``), ending with the same rows as an uninterrupted run;
* running it again changes nothing: every source resumes at its pointer, past the ids it already
  read, and ``ON CONFLICT`` keeps rows observers (or an earlier run) created. Store rows added since
  with higher ids are picked up, which makes a re-run after a bulk import useful.

Rows are inserted ``NEW``; the sync jobs send them. :func:`reset` empties tables (and their
pointers) for ``dotsync migrate-data``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dotsync.models import InstallProgress
from dotsync.store.protocol import HISTORY_TABLES, HistorySource, StoreAdapter

logger = logging.getLogger("dotsync.install")

DEFAULT_CHUNK_SIZE = 50_000
"""Source ids per ``INSERT … SELECT``: large enough that per-statement overhead vanishes, small
enough that one chunk's transaction stays short."""


@dataclass
class SourceResult:
    """What the backfill did for one history source."""

    table: str
    source: str
    rows: int = 0
    """Rows written by this run (inserted, or merged into existing rows for merging sources)."""
    chunks: int = 0
    seconds: float = 0.0
    resumed_from: int = 0
    """The id the run resumed after (0 for a fresh start)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


ChunkHook = Callable[[HistorySource, int, int, int], None]
"""Called after each committed chunk with (source, lo, hi, rows written); may raise to stop."""


def progress_key(source: HistorySource) -> str:
    """The ``dotsync_install_progress.table`` key of a source: ``<table>:<source name>``."""
    return f"{source.table}:{source.name}"


def validate_tables(tables: Iterable[str] | None) -> tuple[str, ...]:
    """The tables to fill, in fill order; all of :data:`HISTORY_TABLES` when ``tables`` is None.

    Raises:
        ValueError: an unknown table name (the message lists the valid ones).
    """
    if tables is None:
        return HISTORY_TABLES
    wanted = list(tables)
    unknown = [t for t in wanted if t not in HISTORY_TABLES]
    if unknown:
        raise ValueError(f"Unknown sync table {', '.join(unknown)}; choose from {', '.join(HISTORY_TABLES)}.")
    return tuple(t for t in HISTORY_TABLES if t in wanted)


def id_bounds(source: HistorySource) -> tuple[int, int] | None:
    """``(min id, max id)`` of the source's driving table, or None when it is empty."""
    with connection.cursor() as cursor:
        cursor.execute(source.id_bounds_sql)
        row = cursor.fetchone()
    if not row or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def backfill_source(
    source: HistorySource,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: ChunkHook | None = None,
    on_start: Callable[[HistorySource, int], None] | None = None,
) -> SourceResult:
    """Fill one source's rows from its resume pointer to the driving table's current maximum id.

    Args:
        source: the history source.
        chunk_size: source ids per statement.
        on_chunk: progress hook, called after each committed chunk.
        on_start: called once with the number of ids left to walk (for a progress bar).
    """
    result = SourceResult(source.table, source.name)
    started = time.perf_counter()
    key = progress_key(source)
    pointer, _ = InstallProgress.objects.get_or_create(table=key)
    result.resumed_from = pointer.last_id
    bounds = id_bounds(source)
    if bounds is None:
        _finish(key)
        if on_start:
            on_start(source, 0)
        return result
    lo_id, hi_id = bounds
    start = max(pointer.last_id + 1, lo_id)
    if on_start:
        on_start(source, max(0, hi_id - start + 1))
    sql = source.insert_sql()
    for lo in range(start, hi_id + 1, chunk_size):
        hi = min(lo + chunk_size, hi_id + 1)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, source.bind(lo, hi))
                written = max(cursor.rowcount, 0)
            InstallProgress.objects.filter(table=key).update(
                last_id=hi - 1,
                rows=pointer.rows + result.rows + written,
                done=False,
                updated_at=timezone.now(),
            )
        result.rows += written
        result.chunks += 1
        if on_chunk:
            on_chunk(source, lo, hi, written)
    _finish(key)
    result.seconds = time.perf_counter() - started
    logger.info(
        "install %s/%s: %s rows in %s chunks, %.2fs",
        source.table,
        source.name,
        result.rows,
        result.chunks,
        result.seconds,
    )
    return result


def _finish(key: str) -> None:
    InstallProgress.objects.filter(table=key).update(done=True, updated_at=timezone.now())


def backfill(
    tables: Iterable[str] | None = None,
    *,
    adapter: StoreAdapter | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: ChunkHook | None = None,
    on_start: Callable[[HistorySource, int], None] | None = None,
) -> list[SourceResult]:
    """Fill sync tables from the store's history (every history table when ``tables`` is None).

    Args:
        tables: sync table names, e.g. ``["email_order"]``.
        adapter: the store adapter; :func:`dotsync.store.registry.get_adapter` when omitted.
        chunk_size: source ids per ``INSERT … SELECT``.
        on_chunk: progress hook after each committed chunk (may raise to stop the run).
        on_start: called once per source with the number of ids left to walk.

    When ``email_contact`` is filled, rows that differ only by the case of their email are merged
    afterwards (:func:`dotsync.install.emails.merge_case_variants`).

    Returns:
        One result per source, in the order they ran.
    """
    if adapter is None:
        from dotsync.store.registry import get_adapter

        adapter = get_adapter()
    results: list[SourceResult] = []
    wanted = validate_tables(tables)
    with _fewer_checkpoints():
        for table in wanted:
            for source in adapter.history(table):
                results.append(
                    backfill_source(source, chunk_size=chunk_size, on_chunk=on_chunk, on_start=on_start)
                )
    if "email_contact" in wanted:
        from dotsync.install.emails import merge_case_variants

        merged = merge_case_variants()
        if merged.merged or merged.renamed or merged.conflicts:
            logger.warning(
                "email_contact: %d case variants merged, %d renamed, %d conflicts: %s",
                merged.merged,
                merged.renamed,
                len(merged.conflicts),
                "; ".join(merged.conflicts),
            )
    return results


SQLITE_BACKFILL_AUTOCHECKPOINT = 16_384
"""WAL pages (4 KiB) between automatic checkpoints while the backfill runs on SQLite (default 1000)."""


@contextmanager
def _fewer_checkpoints() -> Iterator[None]:
    """On SQLite, checkpoint the WAL less often during the backfill.

    Every chunk commits; with SQLite's default (a checkpoint every 1000 WAL pages) the same index
    pages are written back to the database again and again. A larger interval for the duration of
    the backfill (64 MiB of WAL) removes most of that write amplification; the setting is restored
    afterwards and the WAL is checkpointed as usual.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_BACKFILL_AUTOCHECKPOINT}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {before}")


def reset(tables: Sequence[str]) -> dict[str, int]:
    """Empty these sync tables and their resume pointers, for a rebuild; returns rows deleted per table.

    Contacts that carry consent records are kept (reset to ``NEW``) so consent is never lost; the
    rebuild merges into them.
    """
    from dotsync.models import Contact, ContactConsent
    from dotsync.models.sync import SyncStatus

    deleted: dict[str, int] = {}
    q = connection.ops.quote_name
    for table in validate_tables(tables):
        with transaction.atomic():
            with connection.cursor() as cursor:
                if table == Contact._meta.db_table:
                    consent = ContactConsent._meta
                    fk = str(consent.get_field("email_contact").column)  # type: ignore[union-attr]
                    cursor.execute(
                        f"DELETE FROM {q(table)} WHERE {q('email_contact_id')} NOT IN "
                        f"(SELECT {q(fk)} FROM {q(consent.db_table)})"
                    )
                    deleted[table] = max(cursor.rowcount, 0)
                    cursor.execute(f"UPDATE {q(table)} SET {q('sync_status')} = %s", [int(SyncStatus.NEW)])
                else:
                    cursor.execute(f"DELETE FROM {q(table)}")
                    deleted[table] = max(cursor.rowcount, 0)
            InstallProgress.objects.filter(table__startswith=f"{table}:").delete()
    return deleted
