"""The contract between the batching jobs and the importer: envelopes and registering batches.

A batch moves its source rows to ``IMPORTING`` and creates its ``email_importer`` row **in one
transaction**, so a crash leaves either both or neither. Only
:func:`~dotsync.jobs.settle.settle_imported` — called by the importer once the platform confirms the
import — marks source rows ``IMPORTED``; a row changed by an observer meanwhile is back to
``MODIFIED`` and stays so. An envelope's source rows are addressed through its
:class:`SyncSource` (the sync table's model and the stream's state columns), never by rebuilding
them from the table name. This module knows nothing of the batching rules above it.

``import_data`` is a JSON envelope::

    {
      "table": "email_order",            # the source sync table
      "stream": "sync",                  # "sync" or "subscriber" (email_contact's second stream)
      "rows": [[pk, payload_hash], ...], # source rows carried, with the hash of what was sent
      "payload": {...}                   # what the importer sends; its shape depends on import_mode
    }

The payload's shape for each mode is a ``TypedDict`` of :mod:`dotsync.jobs.importer.operations`,
declared with the mode's :class:`~dotsync.jobs.importer.operation.Operation` (``ContactCsv``,
``InsightBatch``, ``InsightRecord``, ``InsightRecordRef``, ``ContactFields``, ``EmailOnly``,
``EmailChange``). An insight batch's ``records[i]`` belongs to ``rows[i]``, unless an optional
``"keys": {record_key: pk}`` says otherwise (the importer maps per-record failures back to source
rows this way). A call's payload may name in ``"after"`` the imports it must wait for.

Observers enqueue single modes with :func:`enqueue_single`; the importer sends them through the
same queue, fairness and retry rules as bulk imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from dotsync.crashpoints import crashpoint
from dotsync.exceptions import BatchConflict
from dotsync.jobs import versions
from dotsync.jobs.payloads import encoding
from dotsync.models import Importer, SyncStatus
from dotsync.models.sync import COLUMNS, StateColumns


def canonical_json(payload: Any) -> str:
    """A record's canonical JSON: sorted keys, compact, ASCII, non-JSON values as strings.

    Encoded with ``orjson`` where its text is the standard library's, byte for byte
    (:func:`dotsync.jobs.payloads.encoding.canonical_json`), so hashes are those of earlier versions.
    """
    return encoding.canonical_json(payload)


def payload_hash(payload: Any, text: str | None = None) -> str:
    """A stable hash of a record's payload: SHA-256 of its :func:`canonical_json`.

    ``text`` is that JSON when the caller already has it (it is not encoded again).
    """
    raw = canonical_json(payload) if text is None else text
    return hashlib.sha256(raw.encode()).hexdigest()


class RawJSON(str):
    """A record already encoded as JSON (:func:`canonical_json`), kept as text in a batch.

    An insight batch holds its records this way until it is registered: a few kilobytes of text per
    record instead of its object tree, and the envelope is written by joining the texts instead of
    encoding every record again (see :meth:`Envelope.dumps`).
    """

    __slots__ = ()


def model_for_table(table: str) -> type[models.Model]:
    """The dotsync model whose ``db_table`` is ``table``."""
    for model in apps.get_app_config("dotsync").get_models():
        if model._meta.db_table == table:
            return model
    raise LookupError(f"no dotsync model for table {table!r}")


CHUNK = 500
"""Source-row pks per statement."""


@dataclass(frozen=True)
class SyncSource:
    """The source rows of an envelope's stream: their sync table's model and state columns."""

    model: type[models.Model]
    columns: StateColumns

    @classmethod
    def of(cls, table: str, stream: str = "sync") -> SyncSource:
        """The source for a sync table name and stream key (``sync`` or ``subscriber``)."""
        return _source(table, stream)

    @property
    def pk(self) -> str:
        """The model's primary-key attribute name."""
        assert self.model._meta.pk is not None
        return str(self.model._meta.pk.attname)

    def filter(self, **where: Any) -> models.QuerySet[Any]:
        """The table's rows matching ``where`` (no pk restriction)."""
        return self.model._default_manager.filter(**where)

    def rows(self, pks: Iterable[int], **where: Any) -> Iterator[models.QuerySet[Any]]:
        """The rows among ``pks`` matching ``where``, as one queryset per :data:`CHUNK` pks."""
        for chunk in _chunks(pks, CHUNK):
            yield self.filter(**{f"{self.pk}__in": chunk}, **where)


@cache
def _source(table: str, stream: str) -> SyncSource:
    return SyncSource(model_for_table(table), COLUMNS[stream])


@dataclass(frozen=True)
class Envelope:
    """A parsed ``import_data`` envelope."""

    table: str
    stream: str
    rows: list[tuple[int, str]]
    payload: dict[str, Any]

    @property
    def source(self) -> SyncSource:
        """The envelope's source rows' table and columns (only when it carries rows)."""
        return SyncSource.of(self.table, self.stream)

    @staticmethod
    def text_of(importer: Importer) -> str:
        """An importer row's ``import_data`` text.

        When the row was read with ``import_data`` deferred (the importer's queue pages and polls
        do), the text is read for this call only and not cached on the instance: a page of rows
        would otherwise keep every payload it sent or settled until the page is done, so the
        importer's memory would grow with the number of imports per run.
        """
        if "import_data" in importer.get_deferred_fields():
            text = Importer.objects.filter(pk=importer.pk).values_list("import_data", flat=True).first()
        else:
            text = importer.import_data
        return text or "{}"

    @classmethod
    def load(cls, importer: Importer, *, records: bool = True) -> Envelope:
        """Parse an importer row's ``import_data``.

        Args:
            importer: the row.
            records: False when the caller does not need an insight batch's records (settling
                needs only ``rows``): they are then not parsed (``payload["records"]`` is empty).
        """
        text = cls.text_of(importer)
        split = None if records else split_records(text)
        data = split[0] if split is not None else json.loads(text)
        return cls(
            table=data.get("table", ""),
            stream=data.get("stream", "sync"),
            rows=[(int(pk), str(h)) for pk, h in data.get("rows", [])],
            payload=data.get("payload", {}),
        )

    def dumps(self) -> str:
        """Serialise for ``import_data``.

        Records given as :class:`RawJSON` are spliced in as they are: the envelope is encoded with
        an empty ``records`` list as its very last member, and the texts are joined into it.
        """
        records: list[Any] = self.payload.get("records") or []
        raw = bool(records) and all(isinstance(r, RawJSON) for r in records)
        payload = self.payload
        if "records" in payload:  # always the last member: see :func:`split_records`
            payload = {
                **{k: v for k, v in payload.items() if k != "records"},
                "records": [] if raw else records,
            }
        text = json.dumps(
            {"table": self.table, "stream": self.stream, "rows": self.rows, "payload": payload},
            separators=(",", ":"),
            default=str,
        )
        if not raw:
            return text
        tail = '"records":[]}}'
        assert text.endswith(tail), "the records list must close the envelope"
        return f'{text[: -len(tail)]}"records":[{",".join(records)}]}}}}'


RECORDS_KEY = '"records":'


def split_records(text: str) -> tuple[dict[str, Any], str] | None:
    """An insight envelope's ``import_data`` as (envelope without its records, the records' JSON).

    :meth:`Envelope.dumps` writes ``records`` as the payload's last member, so the records' array
    is cut out of the text as it is, and only the small rest is parsed: the importer sends a batch
    without building its records as objects. The first ``"records":`` in the text is the payload's
    key, because every member before it holds names, ids and hashes whose quotes JSON escapes.

    Returns:
        None when the text does not end with the records (then parse it with :meth:`Envelope.load`).
    """
    at = text.find(RECORDS_KEY + "[")
    if at < 0 or not text.endswith("]}}"):
        return None
    head: dict[str, Any] = json.loads(text[:at] + RECORDS_KEY + "[]}}")
    return head, text[at + len(RECORDS_KEY) : -2]


def register_batch(
    *,
    website_id: int,
    import_type: str,
    import_mode: str,
    table: str,
    rows: Sequence[tuple[int, str]],
    payload: dict[str, Any],
    stream: str = "sync",
    record_count: int | None = None,
    exclusive: bool = True,
) -> Importer:
    """Queue a batch: create its importer row and move its source rows to ``IMPORTING``, atomically.

    Only rows still pending (``NEW``/``MODIFIED``) and unchanged since their page was read move
    (:func:`dotsync.jobs.versions.update_unchanged`): a row an observer changed meanwhile stays
    pending, so its new data goes with the next run. If a row is no longer pending, another run of the same
    job queued it first (overlapping runs of a scheduled job): nothing is queued and
    :class:`~dotsync.exceptions.BatchConflict` is raised, so no record is sent twice. A batch whose
    rows also ride in other batches (the catalogue's targets) is registered with
    ``exclusive=False``: its rows move whatever their status.

    Args:
        website_id: whose account sends it.
        import_type: e.g. ``Customer``, ``Guest``, ``Subscriber``, ``Orders``, ``Catalog_Default``.
        import_mode: an :class:`~dotsync.models.importer.ImportMode` value.
        table: the source sync table (``""`` when the batch has no source rows).
        rows: ``(pk, payload_hash)`` of every source row carried.
        payload: what the importer sends (see the module docstring).
        stream: ``"sync"`` or ``"subscriber"``.
        record_count: records in the payload (defaults to ``len(rows)``).
        exclusive: False when the rows may already be queued by a sibling batch of this run.
    """
    envelope = Envelope(table=table, stream=stream, rows=list(rows), payload=payload)
    data = envelope.dumps()
    now = timezone.now()
    with transaction.atomic():
        importer = Importer.objects.create(
            import_type=import_type,
            website_id=website_id,
            import_mode=import_mode,
            import_data=data,
            record_count=len(rows) if record_count is None else record_count,
            payload_bytes=len(data.encode()),
            created_at=now,
            updated_at=now,
        )
        if rows:
            source = envelope.source
            cols = source.columns
            wanted = list(dict.fromkeys(r[0] for r in rows))
            pending = {f"{cols.status}__in": SyncStatus.pending()}
            not_mine = source.filter(**pending) if exclusive else source.filter()
            moved = versions.update_unchanged(
                not_mine.exclude(**{cols.importer: importer.pk}),
                wanted,
                **{cols.status: SyncStatus.IMPORTING, cols.importer: importer.pk},
            )
            if moved != len(wanted) and exclusive:
                # a row an observer changed since it was read stays pending (its new data goes next run)
                moved += sum(qs.count() for qs in source.rows(wanted, **pending))
            if moved != len(wanted) and exclusive:
                raise BatchConflict(
                    f"{len(wanted) - moved} of the {len(wanted)} {table} rows of this {import_type} batch "
                    "were queued by another run first; the batch was not queued"
                )
    crashpoint("batch_registered")
    return importer


def live_importers(ids: Iterable[int | None]) -> set[int]:
    """The ids among ``ids`` of importer rows not settled yet (pending or importing)."""
    from dotsync.models.importer import ImportStatus

    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    live = Importer.objects.filter(
        pk__in=wanted, import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING]
    ).values_list("pk", flat=True)
    return set(live)


def waits_for(importer: Importer) -> set[int]:
    """The unsettled importer rows a queued single call must wait for (its payload's ``after``).

    Observers queue a delete or an email change of a record that an import is still creating with
    ``after`` naming that import (:func:`dotsync.jobs.events.in_flight`); the importer starts the
    call only once this is empty, so the import cannot re-create the record after the call.
    """
    after = Envelope.load(importer).payload.get("after") or []
    return live_importers(int(i) for i in after)


def enqueue_single(
    *,
    website_id: int,
    import_type: str,
    import_mode: str,
    payload: dict[str, Any],
    table: str = "",
    rows: Sequence[tuple[int, str]] = (),
) -> Importer:
    """Queue one single-record call (payload shapes: :mod:`dotsync.jobs.importer.operations`)."""
    return register_batch(
        website_id=website_id,
        import_type=import_type,
        import_mode=import_mode,
        table=table,
        rows=rows,
        payload=payload,
        record_count=1,
    )


def _chunks(items: Iterable[int], size: int) -> Iterable[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
