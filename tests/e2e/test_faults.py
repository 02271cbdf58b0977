"""Acceptance, end to end under faults: 20% of API calls answer 503 and each account has a low
rate-limit tier (8 calls per 2-second window). Everything still lands, and no terminal error is
retried: every 5xx and 429 answer is followed by a retry, every other 4xx answer happens once.

The terminal errors are produced for real: after the first sync a marketer deletes an order's record
and a contact in the platform; then the shop closes that order and the contact unsubscribes, so the
importer's delete and unsubscribe find nothing (404) and settle the rows without retrying.
"""

from __future__ import annotations

from typing import Any

import pytest

from dotsync import accounts as platform_accounts
from dotsync.models import Importer, NewsletterSubscriber
from dotsync.models.importer import ImportMode, ImportStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.testing.shop import set_order_status
from tests.e2e.conftest import run_sync
from tests.e2e.expected import BOOKS, assert_landed, collections
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)

FAULTS = {"error_rate": 0.2, "error_status": 503, "rate_limit_per_minute": 4, "rate_limit_window": 2.0}


def _statuses(log: dict[str, Any]) -> dict[tuple[str, int], int]:
    return {
        (endpoint, int(status)): n
        for endpoint, per in log["by_endpoint_status"].items()
        for status, n in per.items()
    }


def _delta(after: dict[str, Any], before: dict[str, Any]) -> dict[tuple[str, int], int]:
    a, b = _statuses(after), _statuses(before)
    return {k: n - b.get(k, 0) for k, n in a.items() if n - b.get(k, 0)}


def _retries() -> int:
    return sum(client.stats.retries for client in platform_accounts.clients())


def _check_retries(delta: dict[tuple[str, int], int], retries: int) -> None:
    """Every 5xx and 429 answer was retried by the client; nothing else was."""
    transient = sum(n for (_, status), n in delta.items() if status >= 500 or status == 429)
    assert transient > 0, "the faults must have hit some calls"
    assert retries == transient, (retries, transient)


def test_everything_lands_under_5xx_and_a_low_rate_tier_and_no_terminal_error_is_retried(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    sandbox.set_faults(seed=20260, **FAULTS)
    before, retries = sandbox.requests(), _retries()
    run_sync()
    first = _delta(sandbox.requests(), before)
    _check_retries(first, _retries() - retries)
    assert any(status == 429 for _, status in first), "the rate tier must have been reached"
    assert any(status == 503 for _, status in first)
    assert not [k for k in first if 400 <= k[1] < 500 and k[1] != 429], first
    views = {code: view(sandbox, acc) for code, acc in accounts.items()}
    assert_landed(shop, views)
    assert not Importer.objects.exclude(import_status=ImportStatus.IMPORTED).exists()

    # a marketer deletes an order's record and a contact in the platform (faults paused for that)
    sandbox.set_faults(reset=True)
    main = accounts["main"]
    order = shop.orders["alice_en"]
    with DotdigitalClient(main.username, main.password, base_url=sandbox.url) as client:
        client.delete_contact_insight("Orders", str(order.number), email="alice@example.com")
        client.delete_contact(int(client.get_contact("erin@example.com")["id"]))
    # ... then the shop closes that order and erin unsubscribes
    with django_capture_on_commit_callbacks(execute=True):
        set_order_status(order, "closed")
        erin = NewsletterSubscriber.objects.get(subscriber_email="erin@example.com")
        erin.subscriber_status = SubscriberStatus.UNSUBSCRIBED
        erin.save()
    sandbox.set_faults(seed=7, **FAULTS)
    before, retries = sandbox.requests(), _retries()
    run_sync()
    second = _delta(sandbox.requests(), before)
    _check_retries(second, _retries() - retries)
    terminal = {k: n for k, n in second.items() if 400 <= k[1] < 500 and k[1] != 429}
    assert sorted(terminal.values()) == [1, 1], terminal  # the delete and the contact lookup, once each
    assert {status for _, status in terminal} == {404}
    singles = Importer.objects.filter(
        import_mode__in=(ImportMode.SINGLE_DELETE, ImportMode.SUBSCRIBER_UNSUBSCRIBE)
    )
    assert {(r.import_mode, r.import_status, r.retry_count) for r in singles} == {
        (ImportMode.SINGLE_DELETE, ImportStatus.IMPORTED, 0),
        (ImportMode.SUBSCRIBER_UNSUBSCRIBE, ImportStatus.IMPORTED, 0),
    }
    assert all("nothing to" in r.message for r in singles), [r.message for r in singles]
    acc = view(sandbox, main)
    assert acc.keys("Orders") == collections(shop)["main"]["Orders"] - {str(order.number)}
    assert acc.books["subscribers"] == BOOKS["main"]["subscribers"] - {"erin@example.com"}
