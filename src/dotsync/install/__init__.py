"""``dotsync install`` and ``dotsync migrate-data``: migrate, then fill the sync tables from history.

See :mod:`dotsync.install.backfill` for how the backfill stays bulk, flat in memory, idempotent and
resumable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dotsync.install.backfill import (
    DEFAULT_CHUNK_SIZE,
    ChunkHook,
    SourceResult,
    backfill,
    reset,
    validate_tables,
)
from dotsync.store.protocol import HistorySource

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkHook",
    "SourceResult",
    "backfill",
    "migrate",
    "migrate_data",
    "reset",
    "run_install",
    "validate_tables",
]


def migrate() -> None:
    """Apply every pending Django migration (Oscar's and dotsync's), quietly."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def run_install(
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: ChunkHook | None = None,
    on_start: Callable[[HistorySource, int], None] | None = None,
    run_migrations: bool = True,
) -> list[SourceResult]:
    """Migrate, then backfill every sync table from the store's history (resuming where it stopped)."""
    if run_migrations:
        migrate()
    return backfill(chunk_size=chunk_size, on_chunk=on_chunk, on_start=on_start)


def migrate_data(
    tables: Iterable[str] | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: ChunkHook | None = None,
    on_start: Callable[[HistorySource, int], None] | None = None,
) -> tuple[dict[str, int], list[SourceResult]]:
    """Rebuild sync tables from history: empty them (and their pointers), then refill.

    Returns:
        Rows deleted per table, and the backfill results.
    """
    chosen = validate_tables(tables)
    deleted = reset(chosen)
    return deleted, backfill(chosen, chunk_size=chunk_size, on_chunk=on_chunk, on_start=on_start)
