"""Transient failures retry with backoff and a cap; a crash anywhere neither loses nor duplicates a record;
failed rows can be retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync.accounts import client_for
from dotsync.config import get_config
from dotsync.jobs import importer
from dotsync.jobs.importer import state
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain, no_import_retries

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(scope, sandbox):
    account = configure_websites(sandbox, [scope.main], max_retries=1)["main"]
    assert client_for(get_config(scope.main)).endpoint  # region discovered before faults are injected
    return account


def _due(row):
    Importer.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())


def test_transient_failure_retries_later_then_succeeds(scope, sandbox, account):
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    sandbox.set_faults(fail_next=2)  # the client's own retry fails too
    result = importer.run()
    assert result.counts["main"]["retrying"] == 1
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.PENDING and batch.retry_count == 1
    assert batch.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert "ServerError" in batch.message and batch.wait_reason == "platform_error"
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTING  # still carried, not lost

    assert importer.run().total("started") == 0  # not due yet
    _due(batch)
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED and batch.retry_count == 1
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTED


def test_transient_failures_never_fail_the_row_however_many(scope, sandbox, account):
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(8):  # far past max_retries (1); the clock moves past the backoff and cool-down
            sandbox.set_faults(fail_next=2)
            importer.run()
            batch.refresh_from_db()
            assert batch.import_status == ImportStatus.PENDING
            assert batch.wait_reason in ("platform_error", "unreachable")
            # the backoff is capped: the row is tried again within 15 minutes (+ jitter)
            assert batch.next_attempt_at < timezone.now() + timedelta(minutes=18)
            clock.shift(timedelta(minutes=20))
        assert Contact.objects.get().sync_status == SyncStatus.IMPORTING  # still carried, not failed
        sandbox.set_faults(fail_next=0)
        drain()
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTED
    assert set(sandbox.contacts(account.username)) == {"ann@example.com"}


def test_retry_failed_puts_the_row_and_its_records_back(scope, sandbox, account, monkeypatch):
    no_import_retries(monkeypatch)
    sandbox.set_faults(import_outcome="Failed")
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]))
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.FAILED
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.FAILED}

    sandbox.set_faults(import_outcome="Finished")
    assert state.reset_to_pending(Importer.objects.filter(pk=batch.pk)) == 1
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.PENDING and batch.retry_count == 0 and not batch.import_id
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTING}
    drain()
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    assert set(sandbox.contacts(account.username)) == {"ann@example.com", "bob@example.com"}


def test_crash_after_the_platform_accepted_is_sent_again_and_not_duplicated(scope, sandbox, account):
    emails = ["ann@example.com", "bob@example.com", "cat@example.com"]
    batch = contact_batch(scope.main, contacts(scope.main, emails))
    # a run claims the row and the platform accepts the import, then the process dies
    assert state.claim(batch)
    cfg = get_config(scope.main)
    client_for(cfg).import_contacts_csv(
        cfg.customers_address_book_id, b"Email\r\n" + "\r\n".join(emails).encode()
    )

    importer.run()  # a live claim is neither polled nor sent twice
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTING and batch.import_id == ""
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTING}

    Importer.objects.filter(pk=batch.pk).update(
        import_started=timezone.now() - state.CLAIM_TIMEOUT - timedelta(1)
    )
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    on_platform = sandbox.account(account.username)
    assert sorted(c["email"] for c in on_platform["contacts"]) == emails  # each once
    assert len(on_platform["imports"]) == 2  # it was sent twice


def test_crash_before_settling_a_finished_import_settles_on_rerun(scope, sandbox, account):
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    importer.run()
    batch.refresh_from_db()
    client_for(get_config(scope.main)).contact_import_status(batch.import_id)  # finished on the platform
    # ... the run that saw it finish died before its transaction committed: nothing was recorded
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTING
    drain()
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTED
    assert len(sandbox.account(account.username)["imports"]) == 1


def test_a_throttled_account_stops_calling_and_waits_what_the_platform_asked(scope, sandbox):
    from dotsync.jobs import queue
    from dotsync.models.importer import ImportMode

    configure_websites(sandbox, [scope.main], max_retries=0)
    assert client_for(get_config(scope.main)).endpoint
    rows = [
        queue.enqueue_single(
            website_id=scope.main.pk,
            import_type="Catalog_Default",
            import_mode=ImportMode.SINGLE_DELETE,
            payload={"collection": "Catalog_Default", "scope": "account", "key": str(i), "email": None},
        )
        for i in range(4)
    ]
    sandbox.set_faults(rate_limit_per_minute=2)
    result = importer.run()
    assert result.counts["main"]["sent"] == 2 and result.counts["main"]["waiting"] == 1
    third = Importer.objects.get(pk=rows[2].pk)
    assert third.import_status == ImportStatus.PENDING and third.retry_count == 0
    assert third.next_attempt_at > timezone.now() + timedelta(seconds=30)  # Retry-After, not a blind retry
    assert "RateLimited" in third.message
    assert Importer.objects.get(pk=rows[3].pk).message == ""  # not even tried
    assert sandbox.requests()["by_status"].get("429") == 1
