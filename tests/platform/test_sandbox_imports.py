"""Sandbox over real HTTP: v2 CSV contact imports (async status, report, faults CSV, caps, failures)."""

from __future__ import annotations

import csv
import io
import time

import httpx

USER = "apiuser-test@apiconnector.com"

CSV = (
    "Email,EmailType,FIRSTNAME,LASTNAME,NUMBER_OF_ORDERS,UNKNOWN_COL\n"
    "new@example.com,Html,New,One,3,x\n"
    "existing@example.com,Html,Existing,Two,1,x\n"
    "not-an-email,Html,Bad,Row,1,x\n"
    "new@example.com,Html,Dupe,Row,1,x\n"
    "global@example.com,Html,Global,Row,1,x\n"
    "mine@example.com,Html,Mine,Row,1,x\n"
    "bounced@example.com,Html,Bounce,Row,1,x\n"
    "typo@example.com,Html,Typo,Row,many,x\n"
)


def upload(
    client: httpx.Client, book_id: int, text: str = CSV, filename: str = "contacts.csv"
) -> httpx.Response:
    return client.post(
        f"/v2/address-books/{book_id}/contacts/import", files={"file": (filename, text.encode(), "text/csv")}
    )


def new_book(client: httpx.Client, name: str = "Customers") -> int:
    return int(client.post("/v2/address-books", json={"name": name}).json()["id"])


def wait_finished(client: httpx.Client, import_id: str, limit: float = 5.0) -> str:
    deadline = time.monotonic() + limit
    while True:
        status = client.get(f"/v2/contacts/import/{import_id}").json()["status"]
        if status != "NotFinished" or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.05)


def test_csv_import_is_async_and_reports_faults_as_the_platform_words_them(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0.3)
    assert (
        sandbox_client.post(
            "/v2/data-fields", json={"name": "NUMBER_OF_ORDERS", "type": "Numeric"}
        ).status_code
        == 201
    )
    book = new_book(sandbox_client)
    sandbox_client.post(
        "/v2/contacts",
        json={"email": "existing@example.com", "dataFields": [{"key": "LASTNAME", "value": "Old"}]},
    )
    sandbox.suppress("global@example.com")
    sandbox.suppress("mine@example.com", account=USER)
    sandbox.suppress("bounced@example.com", account=USER, reason="HardBounced")

    started = upload(sandbox_client, book)
    assert started.status_code == 202
    import_id = started.json()["id"]
    assert started.json()["status"] == "NotFinished"
    assert sandbox_client.get(f"/v2/contacts/import/{import_id}").json()["status"] == "NotFinished"
    early = sandbox_client.get(f"/v2/contacts/import/{import_id}/report")
    assert early.status_code == 400
    assert (
        early.json()["message"]
        == "Import is not processed yet or completed with error. ERROR_IMPORT_REPORT_NOT_FOUND"
    )

    assert wait_finished(sandbox_client, import_id) == "Finished"
    report = sandbox_client.get(f"/v2/contacts/import/{import_id}/report").json()
    assert report["newContacts"] == 1
    assert report["updatedContacts"] == 1
    assert report["invalidEntries"] == 1
    assert report["duplicateEmails"] == 1
    assert report["globallySuppressed"] == 1
    assert report["unsubscribed"] == 1
    assert report["hardBounced"] == 1
    assert report["failures"] == 1

    faults = sandbox_client.get(f"/v2/contacts/import/{import_id}/report-faults")
    rows = list(csv.reader(io.StringIO(faults.text)))
    assert rows[0] == [
        "Reason",
        "Email",
        "EmailType",
        "FIRSTNAME",
        "LASTNAME",
        "NUMBER_OF_ORDERS",
        "UNKNOWN_COL",
    ]
    reasons = {row[1]: row[0] for row in rows[1:]}
    assert reasons == {
        "not-an-email": "Invalid Email",
        "new@example.com": "Duplicate",
        "global@example.com": "Globally Suppressed",
        "mine@example.com": "Unsubscribed",
        "bounced@example.com": "Hard bounced",
        "typo@example.com": "Failures",
    }

    contacts = sandbox.contacts(USER)
    assert contacts["new@example.com"]["data_fields"] == {
        "FIRSTNAME": "New",
        "LASTNAME": "One",
        "NUMBER_OF_ORDERS": 3,
    }
    assert contacts["new@example.com"]["address_books"] == ["Customers"]
    assert contacts["existing@example.com"]["data_fields"]["LASTNAME"] == "Two"
    assert "global@example.com" not in contacts
    assert contacts["mine@example.com"]["address_books"] == []
    assert all("UNKNOWN_COL" not in c["data_fields"] for c in contacts.values())


def test_import_finishes_after_the_configured_number_of_polls(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0, import_polls=3)
    import_id = upload(sandbox_client, new_book(sandbox_client), "Email\na@example.com\n").json()["id"]
    statuses = [sandbox_client.get(f"/v2/contacts/import/{import_id}").json()["status"] for _ in range(3)]
    assert statuses == ["NotFinished", "NotFinished", "Finished"]


def test_twenty_five_active_imports_per_account_then_too_many(sandbox_client, sandbox):
    # each import stays NotFinished until its status is polled once
    sandbox.set_faults(import_delay=0, import_polls=1)
    book = new_book(sandbox_client)
    ids = [upload(sandbox_client, book, f"Email\nc{i}@example.com\n").json()["id"] for i in range(25)]
    refused = upload(sandbox_client, book, "Email\nlast@example.com\n")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "You have more than 25 imports running at the same time. ERROR_IMPORT_TOOMANYACTIVEIMPORTS"
    )
    # another account has its own allowance
    sandbox.create_account("apiuser-2@apiconnector.com", "pw")
    with httpx.Client(base_url=sandbox.url, auth=("apiuser-2@apiconnector.com", "pw")) as other:
        assert upload(other, new_book(other), "Email\nx@example.com\n").status_code == 202
    # once one import is processed, there is room for one more
    assert sandbox_client.get(f"/v2/contacts/import/{ids[0]}").json()["status"] == "Finished"
    assert upload(sandbox_client, book, "Email\nlast@example.com\n").status_code == 202
    assert upload(sandbox_client, book, "Email\nlast2@example.com\n").status_code == 400


def test_injected_import_failure_status(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0, import_outcome="RejectedByWatchdog")
    import_id = upload(sandbox_client, new_book(sandbox_client), "Email\nw@example.com\n").json()["id"]
    assert wait_finished(sandbox_client, import_id) == "RejectedByWatchdog"
    assert sandbox_client.get(f"/v2/contacts/import/{import_id}/report").status_code == 400
    assert "w@example.com" not in sandbox.contacts(USER)


def test_upload_rules(sandbox_client, sandbox_raw_client):
    book = new_book(sandbox_client)
    no_filename = sandbox_raw_client.post(
        f"/v2/address-books/{book}/contacts/import",
        content=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nEmail\na@b.co\r\n--b--\r\n',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert no_filename.status_code == 400 and no_filename.json() == {"message": "file must be valid"}
    no_email = upload(sandbox_raw_client, book, "Name\nAnn\n")
    assert no_email.json()["message"].endswith("ERROR_NO_EMAIL_COLUMN")
    missing_book = upload(sandbox_raw_client, 999999, "Email\na@example.com\n")
    assert missing_book.status_code == 404
    unknown = sandbox_client.get("/v2/contacts/import/8d6e0f0e-2a5b-4a43-9d7e-000000000000")
    assert unknown.status_code == 404 and unknown.json()["message"] == "Error: ERROR_IMPORT_NOT_FOUND"


def test_the_checker_flags_an_upload_without_a_filename(conformance):
    request = httpx.Request(
        "POST",
        "http://sandbox/v2/address-books/1/contacts/import",
        content=b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nEmail\r\n--b--\r\n',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    checker = type(conformance)(conformance.specs, raise_on_violation=False)
    findings = checker.validate_request(request)
    assert any("filename" in f.message for f in findings)


def test_unknown_columns_can_create_fields(sandbox_client, sandbox):
    sandbox.set_faults(import_delay=0, import_unknown_columns="create")
    import_id = upload(
        sandbox_client, new_book(sandbox_client), "Email,SHOE_SIZE\nf@example.com,42\n"
    ).json()["id"]
    assert wait_finished(sandbox_client, import_id) == "Finished"
    assert sandbox.contacts(USER)["f@example.com"]["data_fields"] == {"SHOE_SIZE": "42"}
