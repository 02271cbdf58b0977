"""`dotsync retry`: deferred rows become due now; with --failed, failed rows and records queue again."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from django.utils import timezone

from dotsync.accounts import reset_clients
from dotsync.cli import main
from dotsync.models import Contact, Importer, SyncStatus, WebsiteConfig
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain, no_import_retries

pytestmark = pytest.mark.django_db


def _retry(*args: str) -> dict:
    result = CliRunner().invoke(main, ["retry", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_after_fixing_credentials_retry_sends_the_waiting_rows_now(scope, sandbox):
    accounts = configure_websites(sandbox, scope.websites)
    cfg = WebsiteConfig.objects.get(website=scope.main)
    cfg.set_api_password("wrong-password")
    cfg.save()
    main_batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    outlet_batch = contact_batch(scope.outlet, contacts(scope.outlet, ["bob@example.com"]))
    Importer.objects.filter(pk=outlet_batch.pk).update(next_attempt_at=timezone.now() + timezone.timedelta(1))
    from dotsync.jobs import importer

    importer.run("main")
    main_batch.refresh_from_db()
    assert main_batch.import_status == ImportStatus.PENDING and main_batch.wait_reason == "credentials"
    assert main_batch.next_attempt_at > timezone.now() + timezone.timedelta(minutes=10)

    cfg.set_api_password(accounts["main"].password)
    cfg.save()
    reset_clients()
    assert _retry("--website", "main") == {"deferred": 1, "failed_imports": 0, "failed_records": 0}
    main_batch.refresh_from_db()
    assert main_batch.next_attempt_at is None and main_batch.wait_reason == ""
    drain("main", timeout=10)
    assert set(sandbox.contacts(accounts["main"].username)) == {"ann@example.com"}
    outlet_batch.refresh_from_db()
    assert outlet_batch.next_attempt_at is not None  # another website's row was left alone


def test_retry_failed_queues_failed_imports_and_records_again(scope, sandbox, monkeypatch):
    accounts = configure_websites(sandbox, [scope.main])
    no_import_retries(monkeypatch)
    sandbox.set_faults(import_outcome="RejectedByWatchdog")
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]))
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.FAILED
    # a record quarantined on its own (no importer row carries it)
    extra = contacts(scope.main, ["cat@example.com"])[0]
    Contact.objects.filter(pk=extra.pk).update(sync_status=SyncStatus.FAILED, sync_message="rejected")

    sandbox.set_faults(import_outcome="Finished")
    assert _retry("--failed") == {"deferred": 0, "failed_imports": 1, "failed_records": 1}
    assert Contact.objects.get(pk=extra.pk).sync_status == SyncStatus.MODIFIED
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    assert set(sandbox.contacts(accounts["main"].username)) == {"ann@example.com", "bob@example.com"}


def test_retry_names_the_websites_when_the_code_is_unknown(scope):
    result = CliRunner().invoke(main, ["retry", "--website", "nope"])
    assert result.exit_code == 2 and "main" in result.output
