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

    Set-based whatever the batch's size: the failed rows in one statement per :data:`SETTLE_CHUNK`,
    the status of the rest in one statement (a source row's importer column names this row only
    while the row is in its envelope: :func:`~dotsync.jobs.queue.register_batch`, the bisection's
    re-pointing, :func:`reattach`), their hashes in one per :data:`SETTLE_CHUNK`.
    """
    envelope = envelope or Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    failed = failed or {}
    source = envelope.source
    cols = source.columns
    now = timezone.now()
    for start in range(0, len(failed), SETTLE_CHUNK):
        chunk = list(failed.items())[start : start + SETTLE_CHUNK]
        _quarantine(source, [(pk, reason[:255]) for pk, reason in chunk], importer.pk)
    settled = [(row_pk, h) for row_pk, h in envelope.rows if row_pk not in failed]
    imported = source.filter(**{cols.importer: importer.pk, cols.status: SyncStatus.IMPORTING}).update(
        **{cols.status: SyncStatus.IMPORTED}, **CLEARED
    )
    for start in range(0, len(settled), SETTLE_CHUNK):
        _record_hashes(source, settled[start : start + SETTLE_CHUNK], now, importer.pk)
    streams.after_confirmed(envelope.table, [p for p, _ in settled])
    consent.settle(envelope.payload, [p for p, _ in settled])  # consent records the import carried
    return imported


SETTLE_CHUNK = 400
"""Rows settled per statement (two parameters each: inside SQLite's 999-parameter limit)."""


def _update_from(
    source: SyncSource,
    rows: Sequence[tuple[int, Any]],
    assignments: str,
    params: Sequence[Any],
    importer_pk: int,
) -> None:
    """``UPDATE`` the source rows joined to ``rows`` (pk, value) that ``importer_pk`` carries: one statement.

    Every row has its own value (``v.x`` in ``assignments``), so this joins a ``VALUES`` list
    (``UPDATE ... FROM``: SQLite 3.33+ and PostgreSQL) instead of one ``UPDATE`` per row.
    ``assignments`` name columns through :func:`_columns` and see each row's values before the update.
    """
    table, pk, column = _columns(source)
    sql = (
        f"WITH v(id, x) AS (VALUES {', '.join(['(%s, %s)'] * len(rows))}) "
        f"UPDATE {table} SET {assignments.format(t=table, **column)} "
        f"FROM v WHERE {table}.{pk} = v.id AND {table}.{column['importer']} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(x for row in rows for x in row), *params, importer_pk])


def _columns(source: SyncSource) -> tuple[str, str, dict[str, str]]:
    """The quoted table, primary key and state columns (``status``, ``hash``...) of a source."""
    opts = source.model._meta
    q = connection.ops.quote_name
    names = {f.name: str(f.column) for f in opts.concrete_fields}
    keys = ("status", "hash", "imported_at", "importer")
    column = {key: q(names[getattr(source.columns, key)]) for key in keys}
    column |= {name: q(names[name]) for name in ("sync_message", "requeue_count")}
    assert opts.pk is not None
    return q(opts.db_table), q(str(opts.pk.column)), column


def _record_hashes(source: SyncSource, rows: Sequence[tuple[int, str]], now: Any, importer_pk: int) -> None:
    """Record each row's sent hash and import time, and detach it from ``importer_pk``: one statement."""
    _update_from(source, rows, "{hash} = v.x, {imported_at} = %s, {importer} = NULL", [now], importer_pk)


def _quarantine(source: SyncSource, rows: Sequence[tuple[int, str]], importer_pk: int) -> None:
    """Quarantine rows the platform rejected (pk, reason), and detach them: one statement.

    A row is ``FAILED`` with its reason unless an observer changed it meanwhile (no longer
    ``IMPORTING``): its new state is then sent as usual.
    """
    assignments = (
        "{status} = CASE WHEN {t}.{status} = %s THEN %s ELSE {t}.{status} END, "
        "{sync_message} = CASE WHEN {t}.{status} = %s THEN v.x ELSE {t}.{sync_message} END, "
        "{requeue_count} = CASE WHEN {t}.{status} = %s THEN 0 ELSE {t}.{requeue_count} END, "
        "{importer} = NULL"
    )
    importing = int(SyncStatus.IMPORTING)  # a plain int: psycopg would write an enum by its name
    _update_from(
        source, rows, assignments, [importing, int(SyncStatus.FAILED), importing, importing], importer_pk
    )


def settle_failed(importer: Importer, reason: str) -> int:
    """Mark an importer row's source rows ``FAILED`` with the platform's reason (terminal failure).

    Rows an observer changed meanwhile stay ``MODIFIED`` (they will be batched again anyway).
    Returns the rows marked failed. Two statements, whatever the batch's size (the rows are found by
    their importer column, see :func:`settle_imported`).
    """
    envelope = Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    mine = source.filter(**{cols.importer: importer.pk})
    n = mine.filter(**{cols.status: SyncStatus.IMPORTING}).update(
        **{cols.status: SyncStatus.FAILED}, sync_message=reason[:255], requeue_count=0
    )
    mine.update(**{cols.importer: None})
    return n


def release(importer: Importer) -> int:
    """Return an importer row's source rows to ``MODIFIED`` (e.g. when the row is split or cancelled)."""
    envelope = Envelope.load(importer, records=False)
    if not envelope.rows:
        return 0
    source = envelope.source
    cols = source.columns
    return source.filter(**{cols.importer: importer.pk}).update(
        **{cols.status: SyncStatus.MODIFIED, cols.importer: None}
    )


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
