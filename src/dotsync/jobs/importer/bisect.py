"""Isolate a poison record: split a rejected multi-record batch in two until the bad record is alone.

When the platform rejects a whole batch for its content (a validation error, or a batch too large),
the row is split in halves. The first half stays in the same importer row (it keeps its place in the
queue), the second half becomes a new ``PENDING`` row, and the second half's source rows are
re-pointed to it — all in one transaction. Each half is then sent on its own; a half the platform
accepts goes through, a half it rejects is split again. A record rejected alone is quarantined: its
row and source row fail with the platform's reason, while the rest of the original batch is imported.
A batch of ``n`` records with one poison record costs about ``2·log2(n)`` extra calls.

Records map to source rows through the payload: contact batches by email (``payload["emails"]``),
insight batches by record key (``payload["keys"]``, key -> pk) or else by position (``records[i]``
belongs to ``rows[i]``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from dotsync.jobs import queue
from dotsync.jobs.importer.operation import Operation
from dotsync.jobs.importer.state import website_of
from dotsync.jobs.payloads import contact_csv
from dotsync.models import Importer
from dotsync.models.importer import ImportStatus

Rows = list[tuple[int, str]]


def record_count(row: Importer, op: Operation[Any] | None) -> int:
    """How many records a row of operation ``op`` sends (1 for a call, or an unknown mode)."""
    if op is None or op.count is None:
        return 1
    return op.count(queue.Envelope.load(row).payload)


def split(row: Importer, reason: str, op: Operation[Any]) -> Importer:
    """Split a bulk row in two, atomically. Returns the new row (the second half).

    Args:
        row: a claimed or pending bulk row with at least two records.
        reason: why it was split, shown on both halves.
        op: the row's operation; it must be splittable (``op.split``).
    """
    if op.split is None or op.count is None:
        raise ValueError(f"a {op.mode} row cannot be split")
    count = op.count
    first, second = op.split(queue.Envelope.load(row))
    now = timezone.now()
    note = f"Split after the platform rejected {row.record_count} records together: {reason}"[:1000]
    with transaction.atomic():
        row.import_data = first.dumps()
        row.record_count = count(first.payload)
        row.payload_bytes = len(row.import_data.encode())
        row.import_status, row.import_id, row.import_started = ImportStatus.PENDING, "", None
        row.next_attempt_at, row.message, row.updated_at = None, note, now
        row.save()
        twin = Importer.objects.create(
            import_type=row.import_type,
            website_id=website_of(row),
            import_mode=row.import_mode,
            import_data=second.dumps(),
            record_count=count(second.payload),
            payload_bytes=len(second.dumps().encode()),
            retry_count=row.retry_count,
            message=note,
            created_at=row.created_at,
            updated_at=now,
        )
        _repoint(second, from_pk=row.pk, to_pk=twin.pk)
    return twin


def count_insight(payload: dict[str, Any]) -> int:
    """Records in an insight batch's payload."""
    return len(payload.get("records") or [])


def count_contacts(payload: dict[str, Any]) -> int:
    """Contacts in a contact batch's CSV."""
    return len(_csv_rows(payload.get("csv", ""))[1])


def _repoint(envelope: queue.Envelope, *, from_pk: int, to_pk: int) -> None:
    if not envelope.rows:
        return
    source = envelope.source
    importer = source.columns.importer
    for qs in source.rows([p for p, _ in envelope.rows], **{importer: from_pk}):
        qs.update(**{importer: to_pk})


def _halves(items: list[Any]) -> tuple[list[Any], list[Any]]:
    middle = len(items) // 2
    return items[:middle], items[middle:]


def record_rows(envelope: queue.Envelope) -> dict[str, int]:
    """Insight record key -> source-row pk: ``payload["keys"]`` if given, else by position."""
    payload = envelope.payload
    keys = payload.get("keys")
    if keys:
        return {str(k): int(v) for k, v in keys.items()}
    records = payload.get("records") or []
    if len(records) == len(envelope.rows):
        return {str(r.get("key")): envelope.rows[i][0] for i, r in enumerate(records)}
    return {}


def split_insight(envelope: queue.Envelope) -> tuple[queue.Envelope, queue.Envelope]:
    """Cut an insight batch's envelope in two halves, each with its records' source rows."""
    payload = envelope.payload
    records: list[dict[str, Any]] = list(payload.get("records") or [])
    if len(records) < 2:
        raise ValueError("an insight batch needs two records to be split")
    keys = record_rows(envelope)
    hashes = dict(envelope.rows)
    parts = []
    for half in _halves(records):
        pks = dict.fromkeys(keys[str(r.get("key"))] for r in half if str(r.get("key")) in keys)
        sub = {**payload, "records": half}
        if payload.get("keys"):
            sub["keys"] = {
                str(r.get("key")): keys[str(r.get("key"))] for r in half if str(r.get("key")) in keys
            }
        parts.append(
            queue.Envelope(envelope.table, envelope.stream, [(p, hashes[p]) for p in pks if p in hashes], sub)
        )
    placed = {p for part in parts for p, _ in part.rows}
    parts[0].rows.extend(r for r in envelope.rows if r[0] not in placed)  # unmatched rows stay with this row
    return parts[0], parts[1]


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], []
    return rows[0], [r for r in rows[1:] if r]


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    # the contact CSV writer: neutralised cells (CSV injection) stay quoted in the halves too
    return contact_csv.document(header, [contact_csv.line(r) for r in rows])


def split_contacts(envelope: queue.Envelope) -> tuple[queue.Envelope, queue.Envelope]:
    """Cut a contact batch's envelope in two halves, each with its contacts' source rows."""
    payload = envelope.payload
    header, rows = _csv_rows(payload.get("csv", ""))
    if len(rows) < 2:
        raise ValueError("a contact batch needs two contacts to be split")
    email_col = next((i for i, name in enumerate(header) if name.strip().lower() == "email"), 0)
    emails: dict[str, int] = {str(k): int(v) for k, v in (payload.get("emails") or {}).items()}
    by_lower = {k.lower(): k for k in emails}
    hashes = dict(envelope.rows)
    parts = []
    for half in _halves(rows):
        spelled = [by_lower[r[email_col].lower()] for r in half if r[email_col].lower() in by_lower]
        sub_emails = {e: emails[e] for e in spelled}
        sub = {**payload, "csv": _csv_text(header, half), "emails": sub_emails}
        pks = dict.fromkeys(sub_emails.values())
        parts.append(
            queue.Envelope(envelope.table, envelope.stream, [(p, hashes[p]) for p in pks if p in hashes], sub)
        )
    placed = {p for part in parts for p, _ in part.rows}
    parts[0].rows.extend(r for r in envelope.rows if r[0] not in placed)  # unmatched rows stay with this row
    return parts[0], parts[1]
