"""Sandbox over real HTTP: v3 insight data (bulk import with per-record failures, single records, limits)."""

from __future__ import annotations

import time

import httpx

USER = "apiuser-test@apiconnector.com"


def wait_import(client: httpx.Client, import_id: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        body = client.get(f"/insightData/v3/import/{import_id}").json()
        if body["status"] not in ("NotStarted", "Processing") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_bulk_import_reports_per_record_failures(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0.2)
    sandbox_client.post("/v2/contacts", json={"email": "buyer@example.com"})
    contact = {"identifier": "email", "value": "buyer@example.com"}
    records = [
        {"key": "100001", "contactIdentity": contact, "json": {"total": 12.5, "items": [{"sku": "A"}]}},
        {
            "key": "100002",
            "contactIdentity": {"identifier": "email", "value": "nobody@example.com"},
            "json": {"total": 1},
        },
        {"key": "100003", "contactIdentity": contact, "json": {"bad key!": 1}},
        {"key": "100004", "contactIdentity": contact, "json": {"nested": [[1, 2]]}},
        {"key": "100001", "contactIdentity": contact, "json": {"total": 99}},
        {"key": "100005", "contactIdentity": contact, "json": {"total": 5}},
    ]
    started = sandbox_client.put(
        "/insightData/v3/import",
        json={
            "collectionName": "Orders",
            "collectionScope": "contact",
            "collectionType": "orders",
            "records": records,
        },
    )
    assert started.status_code == 202
    first = sandbox_client.get(f"/insightData/v3/import/{started.json()['importId']}").json()
    assert first["status"] == "NotStarted"
    done = wait_import(sandbox_client, started.json()["importId"])
    assert done["status"] == "Finished"
    assert done["summary"] == {"totalRecords": 6, "totalImported": 2, "totalRejected": 4}
    reasons = {f["key"]: f["failureReason"] for f in done["failures"]}
    assert reasons == {
        "100002": "ContactEmailDoesNotExist",
        "100003": "JsonKeyInvalidCharacters",
        "100004": "JsonContainsNestedArray",
        "100001": "DuplicateKey",
    }
    orders = sandbox.account(USER)["insight"]["Orders"]
    assert orders["scope"] == "contact"
    assert {r["key"]: (r["email"], r["json"]) for r in orders["records"]} == {
        "100001": ("buyer@example.com", {"total": 12.5, "items": [{"sku": "A"}]}),
        "100005": ("buyer@example.com", {"total": 5}),
    }


def test_account_scope_catalog_and_the_complete_spelling(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0, insight_done_status="Complete")
    started = sandbox_client.put(
        "/insightData/v3/import",
        json={
            "collectionName": "Catalog_main_en",
            "collectionScope": "account",
            "collectionType": "catalog",
            "records": [
                {"key": "SKU-1", "json": {"name": "Hat", "price": 10}},
                {"key": "", "json": {"name": "x"}},
            ],
        },
    )
    done = wait_import(sandbox_client, started.json()["importId"])
    assert done["status"] == "Complete"
    assert [f["failureReason"] for f in done["failures"]] == ["InvalidClientKey"]
    records = sandbox.account(USER)["insight"]["Catalog_main_en"]["records"]
    assert [(r["key"], r["contact_id"]) for r in records] == [("SKU-1", None)]


def test_single_records_in_contact_and_account_scope(sandbox_client, sandbox_raw_client, sandbox):
    sandbox_client.post("/v2/contacts", json={"email": "cart@example.com"})
    base = "/insightData/v3/contacts/email/cart@example.com/CartInsight/Q1"
    missing = sandbox_client.put(base, json={"total": 1})
    assert missing.status_code == 404 and missing.json()["errorCode"] == "insightData:collectionNotFound"
    created = sandbox_client.post(
        "/insightData/v3/collections/CartInsight",
        params={"collectionScope": "contact", "collectionType": "cartInsight"},
    )
    assert created.status_code == 201
    assert sandbox_client.put(base, json={"total": 1}).status_code == 201
    assert sandbox_client.put(base, json={"total": 2}).status_code == 204
    got = sandbox_client.get(base).json()
    assert got["key"] == "Q1" and got["json"] == {"total": 2}
    unknown = sandbox_client.put(
        "/insightData/v3/contacts/email/ghost@example.com/CartInsight/Q2", json={"t": 1}
    )
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == "insightData:contactNotFound"
    bad = sandbox_raw_client.put(base, content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "insightData:badJson"
    assert sandbox_client.delete(base).status_code == 204
    assert sandbox_client.get(base).status_code == 404

    sandbox.set_faults(insight_autocreate_on_put=True)
    assert sandbox_client.put("/insightData/v3/account/Integrations/rec-1", json={"a": 1}).status_code == 201
    assert sandbox.account(USER)["insight"]["Integrations"]["records"][0]["json"] == {"a": 1}
    assert sandbox_client.delete("/insightData/v3/account/Integrations/rec-1").status_code == 204


def test_bulk_import_limits(sandbox_client, sandbox):
    body = {
        "collectionName": "Orders",
        "collectionScope": "account",
        "collectionType": "orders",
        "records": [{"key": "1", "json": {"pad": "x" * 2000}}],
    }
    sandbox.set_faults(insight_max_bytes=1000)
    too_big = sandbox_client.put("/insightData/v3/import", json=body)
    assert too_big.status_code == 413 and too_big.json()["errorCode"] == "insightData:payloadTooLarge"
    sandbox.set_faults(insight_max_bytes=50 * 1024 * 1024, import_delay=60)
    for _ in range(5):
        assert sandbox_client.put("/insightData/v3/import", json=body).status_code == 202
    busy = sandbox_client.put("/insightData/v3/import", json=body)
    assert busy.status_code == 429 and busy.json()["errorCode"] == "insightData:tooManyActiveImports"


def test_records_whose_json_is_not_an_object_are_rejected_per_record(sandbox_raw_client, sandbox):
    sandbox.set_faults(import_delay=0)
    started = sandbox_raw_client.put(
        "/insightData/v3/import",
        json={
            "collectionName": "Reviews",
            "collectionScope": "account",
            "collectionType": "custom",
            "records": [{"key": "r1", "json": "just text"}, {"key": "r2", "json": {"stars": 5}}],
        },
    )
    assert started.status_code == 202
    done = wait_import(sandbox_raw_client, started.json()["importId"])
    assert [(f["key"], f["failureReason"]) for f in done["failures"]] == [("r1", "InvalidJson")]
    assert done["summary"]["totalImported"] == 1
