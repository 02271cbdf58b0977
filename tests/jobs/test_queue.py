"""The queue contract: the importer envelope, and registering a batch when runs overlap."""

from __future__ import annotations

import json

import pytest

from dotsync.exceptions import BatchConflict
from dotsync.jobs.base import JobResult
from dotsync.jobs.batching import Batch
from dotsync.jobs.queue import Envelope, RawJSON, canonical_json, payload_hash, split_records
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportMode
from tests.jobs.importer_helpers import contact_batch, contacts


def test_records_batched_as_text_round_trip_like_records_batched_as_objects():
    records = [
        {
            "key": "100001",
            "contactIdentity": {"identifier": "email", "value": "a@example.com"},
            "json": {"a": 1},
        },
        {"key": "100002", "json": {"name": 'quote "and" comma,', "lines": [{"qty": 2}], "price": 9.5}},
    ]
    rows = [(1, payload_hash(records[0])), (2, payload_hash(records[1]))]
    payload = {"collection": "Orders", "records": records, "scope": "contact", "type": "orders"}
    as_text = Envelope(
        "email_order", "sync", rows, {**payload, "records": [RawJSON(canonical_json(r)) for r in records]}
    )
    as_objects = Envelope("email_order", "sync", rows, payload)

    assert json.loads(as_text.dumps()) == json.loads(as_objects.dumps())
    assert json.loads(as_text.dumps())["payload"]["records"] == records
    # the importer cuts the records out as they are and parses only the rest
    for envelope in (as_text, as_objects):
        split = split_records(envelope.dumps())
        assert split is not None
        head, records_json = split
        assert head["rows"] == [list(r) for r in rows] and head["payload"]["collection"] == "Orders"
        assert head["payload"]["records"] == [] and json.loads(records_json) == records
    assert split_records('{"payload":{"records":[],"collection":"Orders"}}') is None  # an older layout
    assert payload_hash(records[1], canonical_json(records[1])) == payload_hash(records[1])


@pytest.mark.django_db
def test_a_row_queued_by_an_overlapping_run_is_not_queued_again(scope):
    """Two runs of the same job read the same pending rows; the second to register loses the batch,
    so no record is sent twice, and a row the first run did not take stays pending."""
    rows = contacts(scope.main, ["ann@example.com", "bob@example.com", "cy@example.com"])
    first = contact_batch(scope.main, rows[:2])  # run A queued ann and bob

    with pytest.raises(BatchConflict, match="2 of the 3 email_contact rows"):
        contact_batch(scope.main, rows)  # run B read all three before A registered
    assert list(Importer.objects.values_list("pk", flat=True)) == [first.pk]
    assert set(Contact.objects.filter(importer_id=first.pk).values_list("email", flat=True)) == {
        "ann@example.com",
        "bob@example.com",
    }
    assert Contact.objects.get(email="cy@example.com").sync_status == SyncStatus.NEW

    # a job's batch drops the conflicting batch, counts it, and goes on
    result = JobResult("contacts")
    batch = Batch(
        website_id=scope.main.pk,
        import_type="Customer",
        import_mode=ImportMode.BULK,
        table="email_contact",
        render=lambda items: {"address_book": "customers", "csv": "Email\r\n" + "".join(items)},
        max_records=10,
        max_bytes=10_000,
        result=result,
        result_key="main",
    )
    for row in rows:
        batch.add(row.pk, "h", f"{row.email}\r\n", 20)
    assert batch.flush() is None
    assert result.counts["main"]["conflicts"] == 1 and not batch.items
    assert Importer.objects.count() == 1
