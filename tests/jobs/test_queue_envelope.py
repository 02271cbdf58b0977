"""The importer envelope: records batched as encoded text are written exactly as parsed records are."""

from __future__ import annotations

import json

from dotsync.jobs.queue import Envelope, RawJSON, canonical_json, payload_hash


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
    assert payload_hash(records[1], canonical_json(records[1])) == payload_hash(records[1])
