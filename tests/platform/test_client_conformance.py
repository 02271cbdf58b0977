"""Client conformance: every client method, against the sandbox, with every request and response checked
against dotdigital's published OpenAPI specs (``dotsync.testing.conformance``).

The run prints how many spec operations were exercised and how many requests and responses were
validated, and fails on any violation. It also checks that no public client method was left out.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from dotsync.exceptions import NotFoundError, PlatformError, RateLimitedError, ServerError, ValidationError
from dotsync.platform.dotdigital import DotdigitalClient, InProcessRateLimiter, RetryPolicy
from dotsync.testing.conformance import default_checker
from tests.platform.client_helpers import FAST_RETRY, new_account, wait_for

NOT_API_CALLS = {"close"}


class Recorder:
    """Wraps a client and records which public methods were called."""

    def __init__(self, client: DotdigitalClient) -> None:
        self.client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.called.add(name)
            return attr(*args, **kwargs)

        return call


def _public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(DotdigitalClient)
        if not name.startswith("_") and inspect.isfunction(member) and name not in NOT_API_CALLS
    }


def _expect(error: type[PlatformError], call: Callable[[], Any]) -> PlatformError:
    with pytest.raises(error) as info:
        call()
    return info.value


def test_every_client_method_conforms_to_the_published_specs(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    checker = default_checker(raise_on_violation=False)
    user, password = new_account(sandbox)
    raw = DotdigitalClient(
        user,
        password,
        base_url=sandbox.url,
        limiter=InProcessRateLimiter(),
        retry_policy=RetryPolicy(max_retries=3, max_rate_limit_wait=5.0, **FAST_RETRY),
        event_hooks=checker.event_hooks(),
    )
    c = Recorder(raw)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    # Account, data fields, address books.
    assert c.account_info()["id"]
    c.list_data_fields()
    c.create_data_field("LOYALTY", type="Numeric", visibility="Private", default=0)
    _expect(ValidationError, lambda: c.create_data_field("LOYALTY"))
    book = c.create_address_book("Conformance")
    c.list_address_books()

    # Contacts.
    ann = c.upsert_contact("ann+x@example.com", data_fields={"FIRSTNAME": "Ann"}, opt_in_type="Single")
    c.get_contact("ann+x@example.com")
    c.get_contact(ann["id"])
    assert c.get_contact("missing@example.com") is None
    c.update_contact_email(ann["id"], "ann.y@example.com")
    bo = c.add_contact_to_address_book(book["id"], "bo@example.com", data_fields={"FIRSTNAME": "Bo"})
    c.remove_contact_from_address_book(book["id"], bo["id"])
    sandbox.suppress("bo@example.com", account=user)
    _expect(ValidationError, lambda: c.upsert_contact("bo@example.com"))
    assert list(c.iter_suppressed_since(since, page_size=2))
    c.resubscribe_contact("bo@example.com")
    c.resubscribe_contact("bo@example.com", no_challenge=True)
    c.resubscribe_contact("bo@example.com", address_book_id=book["id"])
    c.resubscribe_contact("bo@example.com", address_book_id=book["id"], no_challenge=True)
    assert list(c.iter_modified_since(since, page_size=2))
    c.delete_contact(ann["id"])

    # CSV import.
    import_id = c.import_contacts_csv(book["id"], b"Email,FIRSTNAME\ncat@example.com,Cat\nbad-email,X\n")
    wait_for(lambda: c.contact_import_status(import_id) == "Finished", timeout=15)
    c.contact_import_report(import_id)
    assert c.contact_import_faults(import_id)
    merge_id = c.import_contacts_csv(book["id"], b"Email\ndan@example.com\n", merge_option="Overwrite")
    wait_for(lambda: c.contact_import_status(merge_id) == "Finished", timeout=15)

    # Insight data.
    c.upsert_contact("buyer@example.com")
    orders = c.insight_import(
        "Orders",
        [
            {"key": "1", "email": "buyer@example.com", "json": {"total": 5.5}},
            {"key": "2", "email": "ghost@example.com", "json": {"total": 1}},
        ],
        collection_type="orders",
    )
    status = wait_for(lambda: (s := c.insight_import_status(orders)) and not s.in_progress and s, timeout=15)
    assert status.total_rejected == 1
    catalog = c.insight_import("Catalog_main", [{"key": "sku", "json": {"price": 2}}], scope="account")
    wait_for(lambda: c.insight_import_status(catalog).finished, timeout=15)
    # a queued batch goes with its records' JSON as stored (the importer's path)
    stored = c.insight_import_json("Catalog_main", '[{"json":{"price":3},"key":"sku2"}]', 1, scope="account")
    wait_for(lambda: c.insight_import_status(stored).finished, timeout=15)
    c.upsert_contact_insight("Orders", "buyer@example.com", "3", {"total": 9})
    c.delete_contact_insight("Orders", "3", email="buyer@example.com")
    _expect(NotFoundError, lambda: c.delete_contact_insight("Orders", "3", email="buyer@example.com"))
    c.upsert_contact_insight("Orders", "buyer@example.com", "4", {"total": 1})
    c.delete_contact_insight("Orders", "4")  # v2 delete by key alone
    c.upsert_account_insight("Catalog_main", "sku2", {"price": 3})
    c.delete_account_insight("Catalog_main", "sku2")

    # Campaigns, programs, SMS.
    campaign = c.list_campaigns()[0]
    eve = c.upsert_contact("eve@example.com")["id"]
    send = c.send_campaign(campaign["id"], [eve])
    c.campaign_send_status(send["id"])
    wait_for(lambda: c.campaign_contact_activity(campaign["id"], eve) is not None, timeout=15)
    _expect(NotFoundError, lambda: c.campaign_contact_activity(campaign["id"], 999_999))
    programs = c.list_programs()
    active = next(p for p in programs if p["status"] == "Active")
    c.get_program(active["id"])
    _expect(NotFoundError, lambda: c.get_program(999_999))
    enrolment = c.enrol(active["id"], [c.upsert_contact("fay@example.com")["id"]])
    wait_for(lambda: c.enrolment_status(enrolment["id"])["status"] == "Finished", timeout=15)
    c.enrolment_faults(enrolment["id"])
    assert enrolment["id"] in {e["id"] for e in c.enrolments_by_status("Finished")}
    c.send_sms("447123123123", "Shipped.")

    # Error answers the platform documents: service unavailable, allowance exceeded, throttling.
    sandbox.set_faults(fail_next=1, error_status=503)
    c.list_programs()
    sandbox.set_faults(fail_next=4, error_status=500)  # 1 + max_retries: none left over
    _expect(ServerError, lambda: c.list_campaigns())
    sandbox.set_faults(hourly_call_limit=1)
    c.list_data_fields()
    _expect(RateLimitedError, lambda: c.list_data_fields())
    sandbox.set_faults(reset=True, rate_limit_per_minute=1)
    c.list_data_fields()
    throttled = _expect(RateLimitedError, lambda: c.list_data_fields())  # 429, Retry-After over the cap
    assert throttled.status_code == 429
    sandbox.set_faults(reset=True)

    raw.close()
    summary = checker.summary()
    with capsys.disabled():
        print("\n== dotdigital client conformance ==")
        print(checker.report())
        print(
            f"client methods exercised: {len(c.called)} of {len(_public_methods())}; "
            f"client operations: {len(raw.stats.by_operation)} distinct, {raw.stats.calls} calls"
        )

    assert summary["violations"] == []
    assert not summary["unmatched"], summary["unmatched"]
    assert _public_methods() <= c.called, f"not exercised: {sorted(_public_methods() - c.called)}"
    assert summary["operations"] >= 30
    assert summary["requests_validated"] >= summary["operations"]
    assert summary["responses_validated"] >= summary["operations"]
