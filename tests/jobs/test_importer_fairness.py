"""Order, fairness and caps: one website's backlog or failures never block another's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dotsync.jobs import importer
from dotsync.models import Contact, Importer, SyncStatus, WebsiteConfig
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain

pytestmark = pytest.mark.django_db


def _backlog(website, n, prefix):
    return [contact_batch(website, contacts(website, [f"{prefix}{i}@example.com"])) for i in range(n)]


def test_shared_account_cap_is_shared_round_robin_across_websites(scope, sandbox):
    configure_websites(sandbox, scope.websites, shared_account=True, max_active_imports=4)
    a_rows = _backlog(scope.main, 30, "a")  # older and many
    b_rows = _backlog(scope.outlet, 2, "b")

    result = importer.run()
    started = Importer.objects.filter(import_status=ImportStatus.IMPORTING)
    assert started.count() == 4  # the account's cap, not 4 per website
    assert result.counts["main"]["started"] == 2 and result.counts["outlet"]["started"] == 2
    # oldest first within each website
    assert {r.pk for r in started.filter(website=scope.main)} == {a_rows[0].pk, a_rows[1].pk}
    assert {r.pk for r in started.filter(website=scope.outlet)} == {b.pk for b in b_rows}
    assert not sandbox.requests()["by_status"].get("400")  # the cap kept us under the platform's limit

    drain(timeout=30)
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}


def test_failing_rows_of_one_website_do_not_block_another(scope, sandbox):
    configure_websites(sandbox, scope.websites, shared_account=True, max_active_imports=3)
    failing = _backlog(scope.main, 30, "a")
    # every main row is waiting for a retry after earlier failures: not due for an hour
    Importer.objects.filter(pk__in=[r.pk for r in failing]).update(
        next_attempt_at=timezone.now() + timedelta(hours=1), retry_count=2, message="ServerError: 503"
    )
    b_rows = _backlog(scope.outlet, 3, "b")

    importer.run()
    assert {r.pk for r in Importer.objects.filter(import_status=ImportStatus.IMPORTING)} == {
        b.pk for b in b_rows
    }
    drain("outlet")
    assert (
        not Importer.objects.filter(website=scope.main).exclude(import_status=ImportStatus.PENDING).exists()
    )


def test_a_website_with_broken_credentials_does_not_stop_the_others(scope, sandbox):
    accounts = configure_websites(sandbox, scope.websites)
    cfg = WebsiteConfig.objects.get(website=scope.main)
    cfg.set_api_password("wrong-password")
    cfg.save()
    main = _backlog(scope.main, 2, "a")
    outlet = _backlog(scope.outlet, 2, "b")

    result = importer.run()
    assert any("main" in e for e in result.errors)
    drain("outlet")
    assert set(sandbox.contacts(accounts["outlet"].username)) == {"b0@example.com", "b1@example.com"}
    # nothing is wrong with the rows: the first waits (no retry spent), the others were not even tried
    first, second = Importer.objects.filter(pk__in=[m.pk for m in main]).order_by("pk")
    assert first.import_status == ImportStatus.PENDING and first.retry_count == 0
    assert first.wait_reason == "credentials"
    assert "AuthenticationError" in first.message and first.next_attempt_at > timezone.now() + timedelta(
        minutes=10
    )
    assert second.import_status == ImportStatus.PENDING and second.message == ""
    assert sandbox.requests(accounts["main"].username)["by_status"].get("401") == 1

    cfg.set_api_password(accounts["main"].password)  # fixed: `dotsync retry` (here: due now) resumes it
    cfg.save()
    from dotsync.accounts import reset_clients

    reset_clients()
    Importer.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    drain("main")
    assert set(sandbox.contacts(accounts["main"].username)) == {"a0@example.com", "a1@example.com"}
    assert len(outlet) == 2


def test_too_many_active_imports_on_the_platform_waits_without_spending_retries(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main], max_active_imports=25, max_retries=3)
    sandbox.set_faults(max_active_imports=2, import_delay=0, import_polls=1)  # running until polled once
    batches = _backlog(scope.main, 3, "a")

    result = importer.run()
    assert result.counts["main"]["started"] == 2
    assert result.counts["main"]["waiting"] == 1
    # the refused start is not retried by the client: the row is deferred at the first refusal
    starts = sandbox.requests(accounts["main"].username)["by_endpoint"]
    assert starts["POST /v2/address-books/{addressBookId}/contacts/import"] == 3
    third = Importer.objects.get(pk=batches[2].pk)
    assert third.import_status == ImportStatus.PENDING
    assert third.retry_count == 0
    assert third.next_attempt_at > timezone.now()
    assert "TooManyActiveImports" in third.message

    Importer.objects.filter(pk=third.pk).update(next_attempt_at=timezone.now())
    drain(timeout=30)
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
