"""Sandbox over real HTTP: accounts, data fields, address books, contacts, suppression, paging.

Every call goes through ``sandbox_client``, whose hooks validate request and response against the
published specs.
"""

from __future__ import annotations

import httpx
import pytest

from dotsync.platform.sandbox.control import SandboxControl, SandboxError

USER = "apiuser-test@apiconnector.com"


def message(response: httpx.Response) -> str:
    return str(response.json()["message"])


def test_account_info_points_back_at_the_sandbox(sandbox_client, sandbox):
    r = sandbox_client.get("/v2/account-info")
    assert r.status_code == 200
    props = {p["name"]: p["value"] for p in r.json()["properties"]}
    assert props["ApiEndpoint"] == sandbox.url
    assert props["MainEmail"] == USER


def test_bad_credentials_are_refused_in_both_error_formats(sandbox, sandbox_account, conformance):
    with httpx.Client(base_url=sandbox.url, auth=(USER, "wrong"), event_hooks=conformance.event_hooks()) as c:
        v2 = c.get("/v2/account-info")
        v3 = c.get("/insightData/v3/import/00000000-0000-0000-0000-000000000000")
    assert v2.status_code == 401
    assert v2.json() == {"message": "Authorization has been denied for this request."}
    assert v3.status_code == 401 and "errorCode" in v3.json()


def test_data_fields_enforce_name_rules_and_uniqueness(sandbox_client, sandbox_raw_client):
    names = [f["name"] for f in sandbox_client.get("/v2/data-fields").json()]
    assert {"FIRSTNAME", "LASTNAME", "FULLNAME", "GENDER", "POSTCODE"} <= set(names)
    created = sandbox_client.post(
        "/v2/data-fields",
        json={"name": "TOTAL_SPEND", "type": "Numeric", "visibility": "Private", "defaultValue": "0"},
    )
    assert created.status_code == 201
    again = sandbox_client.post("/v2/data-fields", json={"name": "total_spend", "type": "Numeric"})
    assert again.status_code == 400 and message(again).endswith("ERROR_NON_UNIQUE_DATAFIELD")
    for bad in ("THIS_NAME_IS_TOO_LONG_X", "has space", "email", "ContactId"):
        r = sandbox_raw_client.post("/v2/data-fields", json={"name": bad, "type": "String"})
        assert r.status_code == 400, bad
        assert "ERROR_DATAFIELD_INVALID" in message(r)


def test_contact_data_field_values_are_typed(sandbox_client, sandbox_raw_client):
    for name, kind in (("NUM", "Numeric"), ("FLAG", "Boolean"), ("DOB", "Date")):
        assert sandbox_client.post("/v2/data-fields", json={"name": name, "type": kind}).status_code == 201
    ok = sandbox_client.post(
        "/v2/contacts",
        json={
            "email": "Typed@Example.com",
            "dataFields": [
                {"key": "num", "value": "12.50"},
                {"key": "FLAG", "value": "1"},
                {"key": "DOB", "value": "1990-05-04"},
                {"key": "FIRSTNAME", "value": "Ann"},
            ],
        },
    )
    assert ok.status_code == 201
    values = {d["key"]: d["value"] for d in ok.json()["dataFields"]}
    assert values == {"NUM": "12.5", "FLAG": "True", "DOB": "1990-05-04T00:00:00", "FIRSTNAME": "Ann"}
    bad_number = sandbox_client.post(
        "/v2/contacts", json={"email": "x@example.com", "dataFields": [{"key": "NUM", "value": "lots"}]}
    )
    assert bad_number.status_code == 400 and "ERROR_DATAFIELD_INVALID" in message(bad_number)
    too_long = sandbox_client.post(
        "/v2/contacts",
        json={"email": "x@example.com", "dataFields": [{"key": "FIRSTNAME", "value": "a" * 1001}]},
    )
    assert "ERROR_DATAFIELD_VALUE_OVERFLOW" in message(too_long)
    unknown = sandbox_raw_client.post(
        "/v2/contacts", json={"email": "x@example.com", "dataFields": [{"key": "NOPE", "value": 1}]}
    )
    assert "ERROR_DATAFIELD_NOTFOUND" in message(unknown)
    invalid_email = sandbox_client.post("/v2/contacts", json={"email": "not-an-email"})
    assert message(invalid_email) == "Email is not a valid email address. ERROR_PARAMETER_INVALID"


def test_contact_lifecycle_and_address_book_membership(sandbox_client, sandbox):
    book = sandbox_client.post("/v2/address-books", json={"name": "Newsletter", "visibility": "Public"})
    assert book.status_code == 201
    book_id = book.json()["id"]
    dup = sandbox_client.post("/v2/address-books", json={"name": "newsletter"})
    assert message(dup) == "That name is in use already, please choose another. ERROR_ADDRESSBOOK_DUPLICATE"
    test_book = next(b for b in sandbox_client.get("/v2/address-books").json() if b["name"] == "Test")
    locked = sandbox_client.post(
        f"/v2/address-books/{test_book['id']}/contacts", json={"email": "a@example.com"}
    )
    assert "ERROR_ADDRESSBOOK_NOTWRITABLE" in message(locked)

    added = sandbox_client.post(
        f"/v2/address-books/{book_id}/contacts",
        json={
            "email": "a@example.com",
            "emailType": "Html",
            "dataFields": [{"key": "FIRSTNAME", "value": "Al"}],
        },
    )
    assert added.status_code == 200
    contact_id = added.json()["id"]
    assert sandbox_client.get(f"/v2/contacts/{contact_id}").json()["email"] == "a@example.com"
    assert sandbox_client.get("/v2/contacts/A@EXAMPLE.COM").json()["id"] == contact_id
    assert [b["name"] for b in sandbox_client.get(f"/v2/contacts/{contact_id}/address-books").json()] == [
        "Newsletter"
    ]
    assert sandbox_client.get(f"/v2/address-books/{book_id}").json()["contacts"] == 1

    updated = sandbox_client.post(
        "/v2/contacts", json={"email": "a@example.com", "dataFields": [{"key": "LASTNAME", "value": "Bee"}]}
    )
    assert updated.status_code == 201 and updated.json()["id"] == contact_id
    state = sandbox.contacts(USER)["a@example.com"]
    assert state["data_fields"] == {"FIRSTNAME": "Al", "LASTNAME": "Bee"}
    assert state["address_books"] == ["Newsletter"]

    assert sandbox_client.delete(f"/v2/address-books/{book_id}/contacts/{contact_id}").status_code == 204
    assert sandbox.contacts(USER)["a@example.com"]["address_books"] == []
    assert sandbox_client.delete(f"/v2/contacts/{contact_id}").status_code == 204
    gone = sandbox_client.get(f"/v2/contacts/{contact_id}")
    assert gone.status_code == 404 and message(gone) == "Error: ERROR_CONTACT_NOT_FOUND"


def test_account_suppression_blocks_writes_and_shows_in_suppressed_since(sandbox_client, sandbox):
    contact = sandbox_client.post("/v2/contacts", json={"email": "quit@example.com"}).json()
    sandbox.suppress("quit@example.com", account=USER)
    blocked = sandbox_client.post("/v2/contacts", json={"email": "quit@example.com"})
    assert (
        blocked.status_code == 400 and message(blocked) == "Contact is suppressed. ERROR_CONTACT_SUPPRESSED"
    )
    assert sandbox_client.get(f"/v2/contacts/{contact['id']}").status_code == 404
    assert sandbox_client.get("/v2/contacts/quit@example.com").json()["status"] == "Unsubscribed"
    assert "ERROR_CONTACT_SUPPRESSED" in message(sandbox_client.delete(f"/v2/contacts/{contact['id']}"))
    page = sandbox_client.get(
        "/v2/contacts/suppressed-since/2020-01-01T00:00:00+00:00", params={"select": 1000, "skip": 0}
    )
    assert [(s["suppressedContact"]["email"], s["reason"]) for s in page.json()] == [
        ("quit@example.com", "Unsubscribed")
    ]
    later = sandbox_client.get("/v2/contacts/suppressed-since/2999-01-01T00:00:00Z")
    assert later.json() == []


def test_global_suppression_reaches_every_account_present_and_future(sandbox_client, sandbox, conformance):
    sandbox_client.post("/v2/contacts", json={"email": "spam@example.com"})
    sandbox.suppress("spam@example.com")
    assert sandbox_client.get("/v2/contacts/spam@example.com").json()["status"] == "Suppressed"
    sandbox.create_account("apiuser-other@apiconnector.com", "pw2")
    with httpx.Client(
        base_url=sandbox.url,
        auth=("apiuser-other@apiconnector.com", "pw2"),
        event_hooks=conformance.event_hooks(),
    ) as other:
        refused = other.post("/v2/contacts", json={"email": "SPAM@example.com"})
        assert message(refused) == "Contact is suppressed. ERROR_CONTACT_SUPPRESSED"
        resub = other.post(
            "/v2/contacts/resubscribe", json={"unsubscribedContact": {"email": "spam@example.com"}}
        )
        assert resub.json()["status"] == "ContactCannotBeUnsuppressed"
    state = sandbox.state()
    assert [g["email"] for g in state["global_suppressions"]] == ["spam@example.com"]


def test_resubscribe_challenges_unless_told_otherwise(sandbox_client, sandbox):
    sandbox_client.post("/v2/contacts", json={"email": "back@example.com"})
    sandbox.suppress("back@example.com", account=USER)
    challenged = sandbox_client.post(
        "/v2/contacts/resubscribe", json={"unsubscribedContact": {"email": "back@example.com"}}
    )
    assert challenged.json()["status"] == "ContactChallenged"
    assert challenged.json()["contact"]["status"] == "Unsubscribed"
    sandbox.set_faults(resubscribe_challenge=False)
    added = sandbox_client.post(
        "/v2/contacts/resubscribe", json={"unsubscribedContact": {"email": "back@example.com"}}
    )
    assert added.json()["status"] == "ContactAdded"
    assert sandbox.contacts(USER)["back@example.com"]["status"] == "Subscribed"


def test_modified_since_pages_with_select_and_skip_until_empty(sandbox_client):
    for i in range(5):
        sandbox_client.post("/v2/contacts", json={"email": f"p{i}@example.com"})
    seen, skip = [], 0
    while True:
        page = sandbox_client.get(
            "/v2/contacts/modified-since/2020-01-01T00:00:00Z",
            params={"select": 2, "skip": skip, "withFullData": "true"},
        ).json()
        if not page:
            break
        seen += [c["email"] for c in page]
        skip += 2
    assert seen == [f"p{i}@example.com" for i in range(5)]
    bad = sandbox_client.get("/v2/contacts/modified-since/2020-01-01T00:00:00Z", params={"select": 0})
    assert bad.status_code == 400 and "ERROR_PARAMETER_INVALID" in message(bad)


def test_accounts_are_isolated_and_creation_is_idempotent(sandbox, sandbox_client):
    first = sandbox.create_account("apiuser-b@apiconnector.com", "pw")
    assert sandbox.create_account("apiuser-b@apiconnector.com", "pw")["id"] == first["id"]
    with pytest.raises(SandboxError, match="different password"):
        sandbox.create_account("apiuser-b@apiconnector.com", "other")
    sandbox_client.post("/v2/contacts", json={"email": "mine@example.com"})
    with httpx.Client(base_url=sandbox.url, auth=("apiuser-b@apiconnector.com", "pw")) as other:
        assert other.get("/v2/contacts/mine@example.com").status_code == 404
    assert sandbox.contacts("apiuser-b@apiconnector.com") == {}


def test_state_page_and_request_log(sandbox_client, sandbox: SandboxControl):
    sandbox_client.post("/v2/contacts", json={"email": "shown@example.com"})
    sandbox_client.get("/v2/contacts/999999")
    log = sandbox.requests(USER)
    assert log["by_endpoint"]["POST /v2/contacts"] == 1
    assert log["by_endpoint_status"]["GET /v2/contacts/{identifier}"] == {"404": 1}
    assert log["by_status"]["201"] == 1
    page = httpx.get(f"{sandbox.url}/sandbox/")
    assert page.status_code == 200 and "Contacts: <strong>1</strong>" in page.text
    assert "shown@example.com" not in page.text  # the summary lists no contacts: the drill-down does
    drill_down = httpx.get(f"{sandbox.url}/sandbox/contacts", params={"account": USER, "q": "SHOWN@"})
    assert drill_down.status_code == 200 and "shown@example.com" in drill_down.text
