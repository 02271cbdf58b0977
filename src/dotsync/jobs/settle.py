"""Settling: what happens to an import's source rows once the platform has answered for it.

The importer (:mod:`dotsync.jobs.importer.state`) calls these inside the transaction that records
the platform's answer on the ``email_importer`` row: :func:`settle_imported` after a confirmation,
:func:`settle_failed` after a terminal failure; :func:`release` hands rows back to the batchers and
:func:`reattach` takes failed rows back for a retried importer row. Source rows are addressed through
the envelope's :class:`~dotsync.jobs.queue.SyncSource` (their table and state columns).

This module sits above the streams: a confirmed import runs its table's streams' ``after_confirmed``
hooks (:func:`dotsync.jobs.streams.after_confirmed`; e.g. confirmed ``email_contact`` rows release
the records held for those contacts). The queue (:mod:`dotsync.jobs.queue`) sits below the batching
jobs and knows nothing of those rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from dotsync.jobs import consent, streams
from dotsync.jobs.queue import Envelope, SyncSource
from dotsync.models import HoldReason, Importer, SyncStatus

CLEARED: dict[str, Any] = {"sync_message": "", "hold_reason": HoldReason.NONE, "requeue_count": 0}
"""A source row's note, hold reason and re-queue count, cleared together."""


def settle_imported(
    importer: Importer, *, failed: dict[int, str] | None = None, envelope: Envelope | None = None
) -> int:
    """Mark an importer row's source rows imported, after the platform confirmed the import.

    Rows named in ``failed`` (pk -> reason, e.g. per-record faults) are quarantined as ``FAILED``
    with the reason instead. Rows an observer changed meanwhile (status no longer ``IMPORTING``)
    keep their status; their hash still records what was sent. Returns the rows marked imported.
    Call inside the transaction that marks the importer row done. The table's streams'
    ``after_confirmed`` hooks then run on the confirmed rows (confirmed contacts release the records
    held for them: :func:`~dotsync.jobs.contact_gate.release_held`).
    ``envelope`` is the row's envelope when the caller has read it already (it is not read again).
    """
    envelope = envelope or Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    failed = failed or {}
    source = envelope.source
    cols = source.columns
    now = timezone.now()
    settled = [(row_pk, h) for row_pk, h in envelope.rows if row_pk not in failed]
    imported = 0
    mine = {cols.importer: importer.pk}
    for start in range(0, len(settled), SETTLE_CHUNK):
        chunk = settled[start : start + SETTLE_CHUNK]
        imported += source.filter(
            **{f"{source.pk}__in": [p for p, _ in chunk], cols.status: SyncStatus.IMPORTING}, **mine
        ).update(**{cols.status: SyncStatus.IMPORTED}, **CLEARED)
        _record_hashes(source, chunk, now, importer.pk)
    for row_pk, reason in failed.items():
        mine_now = source.filter(**{source.pk: row_pk}, **mine)
        # a row changed while importing stays pending: its new state is sent as usual
        mine_now.filter(**{cols.status: SyncStatus.IMPORTING}).update(
            **{cols.status: SyncStatus.FAILED}, sync_message=reason[:255], requeue_count=0
        )
        mine_now.update(**{cols.importer: None})
    streams.after_confirmed(envelope.table, [p for p, _ in settled])
    consent.settle(envelope.payload, [p for p, _ in settled])  # consent records the import carried
    return imported


SETTLE_CHUNK = 400
"""Rows settled per statement (two parameters each: inside SQLite's 999-parameter limit)."""


def _record_hashes(source: SyncSource, rows: Sequence[tuple[int, str]], now: Any, importer_pk: int) -> None:
    """Record each row's sent hash and import time, and detach it from ``importer_pk``: one statement.

    Every row has its own hash, so this joins a ``VALUES`` list (``UPDATE ... FROM``: SQLite 3.33+ and
    PostgreSQL) instead of one ``UPDATE`` per row.
    """
    opts = source.model._meta
    q = connection.ops.quote_name
    table = q(opts.db_table)
    columns = {f.name: str(f.column) for f in opts.concrete_fields}
    column = {key: q(columns[getattr(source.columns, key)]) for key in ("hash", "imported_at", "importer")}
    assert opts.pk is not None
    pk = q(str(opts.pk.column))
    sql = (
        f"WITH v(id, h) AS (VALUES {', '.join(['(%s, %s)'] * len(rows))}) "
        f"UPDATE {table} SET {column['hash']} = v.h, {column['imported_at']} = %s, "
        f"{column['importer']} = NULL "
        f"FROM v WHERE {table}.{pk} = v.id AND {table}.{column['importer']} = %s"
    )
    params: list[Any] = [x for row in rows for x in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, importer_pk])


def settle_failed(importer: Importer, reason: str) -> int:
    """Mark an importer row's source rows ``FAILED`` with the platform's reason (terminal failure).

    Rows an observer changed meanwhile stay ``MODIFIED`` (they will be batched again anyway).
    Returns the rows marked failed.
    """
    envelope = Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    n = 0
    for qs in source.rows([r[0] for r in envelope.rows], **{cols.importer: importer.pk}):
        n += qs.filter(**{cols.status: SyncStatus.IMPORTING}).update(
            **{cols.status: SyncStatus.FAILED}, sync_message=reason[:255], requeue_count=0
        )
        qs.update(**{cols.importer: None})
    return n


def release(importer: Importer) -> int:
    """Return an importer row's source rows to ``MODIFIED`` (e.g. when the row is split or cancelled)."""
    envelope = Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    n = 0
    for qs in source.rows([r[0] for r in envelope.rows], **{cols.importer: importer.pk}):
        n += qs.update(**{cols.status: SyncStatus.MODIFIED, cols.importer: None})
    return n


def reattach(row: Importer) -> int:
    """Re-attach a failed row's source rows to it, so retrying the row settles them again.

    Only source rows still ``FAILED`` and carried by no other row come back (as ``IMPORTING``); a
    row an observer changed since is already back in the batchers' hands. Returns the rows re-attached.
    """
    envelope = Envelope.load(row, records=False)
    if not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    n = 0
    for qs in source.rows(
        [p for p, _ in envelope.rows], **{cols.status: SyncStatus.FAILED, cols.importer: None}
    ):
        n += qs.update(**{cols.status: SyncStatus.IMPORTING, cols.importer: row.pk}, **CLEARED)
    return n
