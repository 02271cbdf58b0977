"""The dotdigital client end to end against the sandbox, over real HTTP on loopback."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from dotsync.exceptions import AuthenticationError, NotFoundError, PayloadTooLargeError, ValidationError
from dotsync.platform.dotdigital import (
    CONTACT_IMPORT_FINISHED,
    DotdigitalClient,
    ImportFault,
    InProcessRateLimiter,
    account_property,
    clear_endpoint_cache,
)
from dotsync.platform.dotdigital import client as client_module
from dotsync.testing.conformance import default_checker
from tests.platform.client_helpers import new_account, new_client, wait_for


@pytest.fixture
def client(sandbox: Any) -> Iterator[DotdigitalClient]:
    """A client on a fresh account; every request and response is checked against the specs."""
    with new_client(sandbox, event_hooks=default_checker().event_hooks()) as c:
        yield c


def _since() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _import_and_wait(client: DotdigitalClient, *args: Any, **kwargs: Any) -> Any:
    """Start an insight import and poll it until it is no longer in progress."""
    import_id = client.insight_import(*args, **kwargs)
    return wait_for(
        lambda: (s := client.insight_import_status(import_id)) and not s.in_progress and s, timeout=15
    )


# -- account and discovery -----------------------------------------------------------------------------


def test_region_discovery_uses_account_info_and_is_cached_per_account(sandbox: Any) -> None:
    clear_endpoint_cache()
    user, password = new_account(sandbox)
    first = DotdigitalClient(user, password, base_url=sandbox.url + "/", limiter=InProcessRateLimiter())
    info = first.account_info()
    assert isinstance(info["id"], int)
    assert account_property(info, "apiendpoint") == sandbox.url.rstrip("/")
    assert account_property(info, "MainEmail") == user
    assert first.endpoint == sandbox.url.rstrip("/")
    assert first.list_data_fields()
    # A second client of the same account reuses the cached endpoint: no second account-info call.
    second = DotdigitalClient(user, password, base_url=sandbox.url, limiter=InProcessRateLimiter())
    second.list_address_books()
    assert "account.info" not in second.stats.by_operation
    assert (user, sandbox.url.rstrip("/")) in client_module._endpoint_cache
    # An explicit endpoint skips discovery entirely.
    clear_endpoint_cache()
    third = DotdigitalClient(user, password, base_url="http://127.0.0.1:9", endpoint=sandbox.url)
    third.list_data_fields()
    assert "account.info" not in third.stats.by_operation
    for c in (first, second, third):
        c.close()


def test_wrong_password_is_terminal_and_not_retried(sandbox: Any) -> None:
    user, _ = new_account(sandbox)
    bad = DotdigitalClient(user, "wrong", base_url=sandbox.url, limiter=InProcessRateLimiter())
    with bad, pytest.raises(AuthenticationError) as err:
        bad.account_info()
    assert err.value.status_code == 401
    assert not err.value.transient
    assert bad.stats.calls == 1 and bad.stats.retries == 0
    assert "wrong" not in str(err.value)  # the password never appears in errors


def test_logs_hold_no_credentials_emails_or_payloads(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("dotsync", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    user, password = new_account(sandbox)
    secret_value = "Zebediah-Secret-Surname"
    with DotdigitalClient(user, password, base_url=sandbox.url, limiter=InProcessRateLimiter()) as c:
        c.upsert_contact("private.person@example.com", data_fields={"LASTNAME": secret_value})
        c.get_contact("private.person@example.com")
        c.get_contact("nobody.else@example.com")
        book = c.create_address_book("Logs")
        c.import_contacts_csv(book["id"], f"Email,LASTNAME\nx.y@example.com,{secret_value}\n".encode())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "dotdigital contacts.import started: import_id=" in text  # ids and counts are logged
    assert "HTTP Request: GET" in text  # httpx's own line, with the email redacted
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    for leak in (password, basic, "private.person", "nobody.else", "x.y@", secret_value, "%40"):
        assert leak not in text, leak


# -- data fields and address books ---------------------------------------------------------------------


def test_data_fields_list_and_create(client: DotdigitalClient) -> None:
    names = {f["name"] for f in client.list_data_fields()}
    assert "FIRSTNAME" in names
    created = client.create_data_field("LOYALTY_POINTS", type="Numeric", default=0)
    assert created["name"] == "LOYALTY_POINTS"
    fields = {f["name"]: f for f in client.list_data_fields()}
    assert fields["LOYALTY_POINTS"]["type"] == "Numeric"
    with pytest.raises(ValidationError) as err:
        client.create_data_field("LOYALTY_POINTS")
    assert err.value.error_code == "ERROR_NON_UNIQUE_DATAFIELD"
    assert client.stats.by_operation["datafields.create"] == 2  # the duplicate was not retried


def test_address_books_list_and_create(client: DotdigitalClient) -> None:
    book = client.create_address_book("Newsletter EN")
    assert book["name"] == "Newsletter EN" and isinstance(book["id"], int)
    assert book["id"] in {b["id"] for b in client.list_address_books()}
    with pytest.raises(ValidationError) as err:
        client.create_address_book("Newsletter EN")
    assert err.value.error_code == "ERROR_ADDRESSBOOK_DUPLICATE"


# -- contacts -------------------------------------------------------------------------------------------


def test_contact_lifecycle_with_an_email_that_needs_encoding(client: DotdigitalClient) -> None:
    email = "ann+news@example.com"
    created = client.upsert_contact(
        email, data_fields={"FIRSTNAME": "Ann", "LASTNAME": "Lee"}, opt_in_type="Single"
    )
    contact_id = created["id"]
    assert created["email"].lower() == email
    by_email = client.get_contact(email)
    assert by_email is not None and by_email["id"] == contact_id
    fields = {f["key"]: f["value"] for f in by_email.get("dataFields") or []}
    assert fields["FIRSTNAME"] == "Ann"
    by_id = client.get_contact(contact_id)
    assert by_id is not None and by_id["email"].lower() == email
    # An upsert updates in place.
    again = client.upsert_contact(email, data_fields={"FIRSTNAME": "Annie"})
    assert again["id"] == contact_id
    moved = client.update_contact_email(contact_id, "ann.lee@example.com")
    assert moved["email"] == "ann.lee@example.com"
    assert client.get_contact(email) is None
    client.delete_contact(contact_id)
    assert client.get_contact(contact_id) is None
    assert client.get_contact("nobody@example.com") is None


def test_address_book_membership(client: DotdigitalClient) -> None:
    book = client.create_address_book("Members")
    contact = client.add_contact_to_address_book(
        book["id"], "bo@example.com", data_fields={"FIRSTNAME": "Bo"}
    )
    assert contact["email"] == "bo@example.com"
    client.remove_contact_from_address_book(book["id"], contact["id"])
    with pytest.raises(NotFoundError):
        client.add_contact_to_address_book(999_999, "bo@example.com")


def test_suppressed_contacts_feed_and_resubscribe(sandbox: Any, client: DotdigitalClient) -> None:
    since = _since()
    client.upsert_contact("gone@example.com")
    sandbox.suppress("gone@example.com", account=client.api_user)
    with pytest.raises(ValidationError) as err:
        client.upsert_contact("gone@example.com")
    assert err.value.error_code == "ERROR_CONTACT_SUPPRESSED"
    assert not err.value.transient
    assert client.stats.by_operation["contacts.upsert"] == 2  # terminal: tried once
    suppressed = list(client.iter_suppressed_since(since))
    assert "gone@example.com" in {s["suppressedContact"]["email"] for s in suppressed}
    challenged = client.resubscribe_contact("gone@example.com")
    assert challenged["status"] in {"ContactChallenged", "ContactAdded"}
    added = client.resubscribe_contact("gone@example.com", no_challenge=True)
    assert added["status"] == "ContactAdded"


def test_resubscribe_to_an_address_book(client: DotdigitalClient) -> None:
    book = client.create_address_book("Resubscribers")
    client.add_contact_to_address_book(book["id"], "back@example.com")
    result = client.resubscribe_contact("back@example.com", address_book_id=book["id"], no_challenge=True)
    assert result["status"] in {"ContactAdded", "ContactChallenged"}


def test_modified_since_streams_page_by_page(client: DotdigitalClient) -> None:
    since = _since()
    emails = {f"page{i}@example.com" for i in range(7)}
    for email in sorted(emails):
        client.upsert_contact(email, data_fields={"FIRSTNAME": email[:5]})
    stream = client.iter_modified_since(since, page_size=3)
    first = next(stream)
    assert client.stats.by_operation["contacts.modified_since"] == 1  # only the first page was fetched
    rest = list(stream)
    seen = {c["email"] for c in [first, *rest]}
    assert emails <= seen
    assert client.stats.by_operation["contacts.modified_since"] == 4  # 3 + 3 + 1, then an empty page
    assert any(c.get("dataFields") for c in [first, *rest])  # withFullData


# -- CSV contact import ---------------------------------------------------------------------------------


def test_csv_import_status_report_and_faults(sandbox: Any, client: DotdigitalClient) -> None:
    book = client.create_address_book("Imported")
    client.upsert_contact("blocked@example.com")
    sandbox.suppress("blocked@example.com", account=client.api_user)
    csv_bytes = (
        "\ufeffEmail,FIRSTNAME\r\ncat@example.com,Cat\r\ndan@example.com,Dan\r\n"
        "blocked@example.com,Blocked\r\nnot-an-email,X\r\n"
    ).encode()
    import_id = client.import_contacts_csv(book["id"], csv_bytes)
    assert import_id
    status = wait_for(
        lambda: (s := client.contact_import_status(import_id)) != "NotFinished" and s, timeout=15
    )
    assert status == CONTACT_IMPORT_FINISHED
    report = client.contact_import_report(import_id)
    assert report["newContacts"] == 2
    faults = client.contact_import_faults(import_id)
    assert all(isinstance(f, ImportFault) for f in faults)
    by_email = {f.email.lower(): f.reason for f in faults}
    assert set(by_email) == {"blocked@example.com", "not-an-email"}
    assert by_email["not-an-email"].lower() == "invalid email"
    cat = client.get_contact("cat@example.com")
    assert cat is not None


def test_csv_import_with_merge_option(client: DotdigitalClient) -> None:
    book = client.create_address_book("Merged")
    client.upsert_contact("eve@example.com", data_fields={"FIRSTNAME": "Eve"})
    import_id = client.import_contacts_csv(
        book["id"], b"Email,FIRSTNAME\neve@example.com,\n", merge_option="OnlyOverwriteIfNotEmpty"
    )
    wait_for(lambda: client.contact_import_status(import_id) == "Finished", timeout=15)
    eve = client.get_contact("eve@example.com")
    assert eve is not None
    assert {f["key"]: f["value"] for f in eve["dataFields"]}["FIRSTNAME"] == "Eve"


def test_oversized_csv_is_refused_before_sending(client: DotdigitalClient) -> None:
    with pytest.raises(PayloadTooLargeError):
        client.import_contacts_csv(1, b"x" * (client_module.MAX_CSV_IMPORT_BYTES + 1))
    assert client.stats.calls == 0


# -- insight data ---------------------------------------------------------------------------------------


def test_insight_bulk_import_reports_per_record_failures(client: DotdigitalClient) -> None:
    client.upsert_contact("buyer@example.com")
    records = [
        {"key": 1001, "email": "buyer@example.com", "json": {"total": 12.5, "currency": "GBP"}},
        {"key": "1002", "email": "buyer@example.com", "json": {"total": 7, "currency": "GBP"}},
        {"key": "1003", "email": "stranger@example.com", "json": {"total": 3, "currency": "GBP"}},
    ]
    status = _import_and_wait(client, "Orders", records, collection_type="orders")
    assert status.finished and not status.failed
    assert (status.total_imported, status.total_rejected) == (2, 1)
    [failure] = status.failures
    assert failure.key == "1003"
    assert failure.reason == "ContactEmailDoesNotExist"


def test_account_scoped_insight_import(client: DotdigitalClient) -> None:
    import_id = client.insight_import(
        "Catalog_main_en",
        [{"key": "sku-1", "json": {"name": "Hat", "price": 9.99}}],
        scope="account",
        collection_type="catalog",
    )
    status = wait_for(
        lambda: (s := client.insight_import_status(import_id)) and not s.in_progress and s, timeout=15
    )
    assert status.finished and status.total_imported == 1


def test_insight_import_input_checks(client: DotdigitalClient) -> None:
    with pytest.raises(ValueError):
        client.insight_import("Orders", [])
    with pytest.raises(ValueError):
        client.insight_import("Orders", [{"key": "1", "json": {}}])  # contact scope needs an email
    assert client.stats.calls == 0


def test_single_insight_records_in_contact_and_account_scope(sandbox: Any, client: DotdigitalClient) -> None:
    client.upsert_contact("cart@example.com")
    # Single-record PUTs need the collection to exist (the spec answers 404 otherwise).
    assert _import_and_wait(
        client, "CartInsight", [{"key": "q0", "email": "cart@example.com", "json": {"n": 0}}]
    ).finished
    client.upsert_contact_insight("CartInsight", "cart@example.com", "q1", {"items": 2, "total": 19.0})
    client.upsert_contact_insight("CartInsight", "cart@example.com", "q1", {"items": 3, "total": 29.0})
    client.delete_contact_insight("CartInsight", "q1", email="cart@example.com")
    with pytest.raises(NotFoundError):
        client.delete_contact_insight("CartInsight", "q1", email="cart@example.com")
    with pytest.raises(NotFoundError):
        client.upsert_contact_insight("CartInsight", "nobody@example.com", "q9", {"items": 1})
    assert _import_and_wait(client, "Catalog_x", [{"key": "p0", "json": {"n": 0}}], scope="account").finished
    client.upsert_account_insight("Catalog_x", "p1", {"name": "Scarf", "price": 15})
    client.delete_account_insight("Catalog_x", "p1")
    with pytest.raises(NotFoundError):
        client.delete_account_insight("Catalog_x", "p1")


def test_delete_contact_insight_by_key_alone(client: DotdigitalClient) -> None:
    client.upsert_contact("owner@example.com")
    assert _import_and_wait(
        client, "Wishlist", [{"key": "w1", "email": "owner@example.com", "json": {"n": 1}}]
    ).finished
    client.delete_contact_insight("Wishlist", "w1")  # v2 delete by key: the owner is not needed
    with pytest.raises(NotFoundError):
        client.delete_contact_insight("Wishlist", "w1", email="owner@example.com")


# -- campaigns, programs, SMS ---------------------------------------------------------------------------


def test_campaign_send_and_status(client: DotdigitalClient) -> None:
    campaigns = client.list_campaigns()
    assert campaigns
    contact = client.upsert_contact("reader@example.com")
    send = client.send_campaign(campaigns[0]["id"], [contact["id"]])
    assert send["id"]
    progress = wait_for(
        lambda: (
            (p := client.campaign_send_status(send["id"]))["status"]
            not in {"NotSent", "Scheduled", "Sending"}
            and p
        ),
        timeout=15,
    )
    assert progress["status"] == "Sent"
    assert client.stats.by_operation["campaigns.send"] == 1


def test_programs_and_enrolments(client: DotdigitalClient) -> None:
    programs = client.list_programs()
    active = next(p for p in programs if p["status"] == "Active")
    assert client.get_program(active["id"])["name"] == active["name"]
    with pytest.raises(NotFoundError):
        client.get_program(987_654)
    ids = [client.upsert_contact(f"enrol{i}@example.com")["id"] for i in range(2)]
    enrolment = client.enrol(active["id"], ids)
    assert enrolment["id"] and enrolment["status"] == "Processing"
    done = wait_for(
        lambda: (e := client.enrolment_status(enrolment["id"]))["status"] == "Finished" and e, timeout=15
    )
    assert done["programId"] == active["id"]
    assert client.enrolment_faults(enrolment["id"]) == []
    with pytest.raises(ValueError):
        client.enrol(active["id"], list(range(1, 27)))
    draft = next(p for p in programs if p["status"] == "Draft")
    with pytest.raises(ValidationError) as err:
        client.enrol(draft["id"], ids[:1])
    assert err.value.error_code == "ERROR_PROGRAM_NOT_ACTIVE"


def test_send_sms(client: DotdigitalClient) -> None:
    assert client.send_sms("447123123123", "Your order has shipped.") == {}
    with pytest.raises(ValueError):
        client.send_sms("447123123123", "x" * 1601)
