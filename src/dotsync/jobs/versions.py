"""Optimistic concurrency for sync rows: a job moves a row's state only if nothing changed it since its read.

A batching run reads a page of pending rows (:func:`dotsync.jobs.base.iter_pending`), then the store
data behind them, then writes each row's outcome (``IMPORTED`` when unchanged, ``FAILED``, ``SKIPPED``:
:class:`dotsync.jobs.batching.Outcomes`) or queues it (``IMPORTING``:
:func:`dotsync.jobs.queue.register_batch`). An observer that changes the entity in between marks the
row ``MODIFIED`` with a new ``updated_at``; a plain ``UPDATE ... WHERE pk IN (...)`` would then
overwrite that, and the change would never reach the platform (``bench/latency.py`` lost customer
edits this way at 50 changes a second).

So the page reader :func:`remember` s each row's ``updated_at``, and :func:`update_unchanged` writes
only rows whose ``updated_at`` is still that value: one ``UPDATE`` per chunk whose condition is
``(pk, updated_at) IN (VALUES (%s, %s), ...)`` (SQLite 3.15+ and PostgreSQL), not a statement per
row. (A ``CASE`` with one ``WHEN`` per row said the same, but Django spent about 50 ms of Python
building each chunk's 500 ``When`` expressions: most of a first sync's batching time.)
A row changed meanwhile keeps its pending status, and the next run sends its new data. A row with no
remembered version (read some other way) is updated as before.

The versions live per thread (a job runs in one thread) from the page read until the row's outcome
or batch is written, so memory is bounded by a page plus the open batches; :data:`LIMIT` caps it
should a caller read rows it never settles.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connections, models
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

LIMIT = 100_000
"""Most versions kept per thread; past it the oldest half is forgotten (those rows update unguarded)."""

CHUNK = 500
"""Rows per guarded ``UPDATE`` (three parameters each: the pk list and a ``VALUES`` row)."""

_local = threading.local()


def _seen() -> dict[tuple[str, int], datetime]:
    seen: dict[tuple[str, int], datetime] | None = getattr(_local, "seen", None)
    if seen is None:
        seen = _local.seen = {}
    return seen


def remember(rows: Sequence[Any]) -> None:
    """Record the ``updated_at`` each of these freshly read sync rows has now."""
    if not rows:
        return
    seen = _seen()
    table = rows[0]._meta.db_table
    for row in rows:
        seen[(table, row.pk)] = row.updated_at
    if len(seen) > LIMIT:
        for key in list(seen)[: len(seen) // 2]:
            del seen[key]


def forget(model: type[models.Model], pks: Iterable[int]) -> None:
    """Drop the versions of rows whose outcome needs no state change (e.g. left waiting)."""
    seen = _seen()
    table = model._meta.db_table
    for pk in pks:
        seen.pop((table, pk), None)


def _take(model: type[models.Model], pks: Iterable[int]) -> dict[int, datetime]:
    seen = _seen()
    table = model._meta.db_table
    out: dict[int, datetime] = {}
    for pk in pks:
        version = seen.pop((table, pk), None)
        if version is not None:
            out[pk] = version
    return out


def update_unchanged(base: models.QuerySet[Any], pks: Sequence[int], **values: Any) -> int:
    """``base.filter(pk__in=pks).update(**values)``, skipping rows changed since their page was read.

    ``base`` must hold the condition that the update itself ends (e.g. the status is pending), so a
    row it updated no longer matches it: rows that still match after a guarded update are looked at
    again (one query), and those whose ``updated_at`` is in fact the remembered value (a datetime the
    database spells differently) are updated after all. Returns the number of rows updated.
    """
    model = base.model
    pk = model._meta.pk.attname  # type: ignore[union-attr]
    versions = _take(model, pks)
    updated = 0
    plain = [p for p in pks if p not in versions]
    for start in range(0, len(plain), CHUNK):
        updated += base.filter(**{f"{pk}__in": plain[start : start + CHUNK]}).update(**values)
    guarded = list(versions)
    for start in range(0, len(guarded), CHUNK):
        chunk = guarded[start : start + CHUNK]
        expected = _still(model, base.db, chunk, versions)
        moved = base.filter(expected, **{f"{pk}__in": chunk}).update(**values)
        if moved < len(chunk):
            left = base.filter(**{f"{pk}__in": chunk}).values_list(pk, "updated_at")
            same = [p for p, at in left if at == versions[p]]
            if same:
                moved += base.filter(**{f"{pk}__in": same}).update(**values)
        updated += moved
    return updated


def _still(
    model: type[models.Model], using: str, pks: Sequence[int], versions: dict[int, datetime]
) -> RawSQL:
    """The condition "each row's ``updated_at`` is still its remembered version", for one chunk.

    ``(pk, updated_at) IN (VALUES (pk1, v1), ...)``: the versions are adapted as Django writes a
    ``DateTimeField`` (text on SQLite, ``timestamptz`` on PostgreSQL), so a value the database
    spells otherwise fails to match here and is looked at again by :func:`update_unchanged`.
    """
    connection = connections[using]
    opts = model._meta
    assert opts.pk is not None
    at = opts.get_field("updated_at")
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    pk_col, at_col = quote(str(opts.pk.column)), quote(str(at.column))  # type: ignore[union-attr]
    params: list[Any] = []
    adapted: dict[datetime, Any] = {}  # a page's rows often share a version (a backfill, a bulk change)
    for p in pks:
        version = versions[p]
        value = adapted.get(version)
        if value is None:
            value = adapted[version] = at.get_db_prep_value(version, connection)  # type: ignore[union-attr]
        params += [p, value]
    rows = ", ".join(["(%s, %s)"] * len(pks))
    return RawSQL(
        f"({table}.{pk_col}, {table}.{at_col}) IN (VALUES {rows})", params, output_field=BooleanField()
    )
