"""Imports the platform failed (``RejectedByWatchdog``, ``Failed``) start again with backoff, up to a limit,
then fail with the platform's status; the records land exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dotsync.jobs import importer
from dotsync.jobs.importer.retry import BACKOFF
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = pytest.mark.django_db


def _round(clock) -> None:
    clock.shift(timedelta(hours=1))  # past the backoff (capped at 15 min)
    importer.run()  # starts an import
    importer.run()  # polls it: the platform failed it


@pytest.mark.parametrize("status", ["RejectedByWatchdog", "Failed"])
def test_a_failed_import_starts_again_then_lands_once(scope, sandbox, status):
    accounts = configure_websites(sandbox, [scope.main])
    sandbox.set_faults(import_outcome=status, import_delay=0)
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]))
    with time_machine.travel(timezone.now(), tick=True) as clock:
        importer.run()  # started
        importer.run()  # polled: the platform failed it
        batch.refresh_from_db()
        assert batch.import_status == ImportStatus.PENDING and batch.wait_reason == "import_failed"
        assert batch.import_failures == 1 and status in batch.message
        assert batch.next_attempt_at > timezone.now()
        assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTING}

        sandbox.set_faults(import_outcome="Finished")
        clock.shift(timedelta(hours=1))
        for _ in range(3):
            importer.run()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    on_platform = sandbox.account(accounts["main"].username)
    assert sorted(c["email"] for c in on_platform["contacts"]) == ["ann@example.com", "bob@example.com"]
    assert len(on_platform["imports"]) == 2  # the failed one, then the new one from the stored payload


def test_past_the_limit_the_row_fails_with_the_platforms_status(scope, sandbox):
    configure_websites(sandbox, [scope.main])
    sandbox.set_faults(import_outcome="RejectedByWatchdog", import_delay=0)
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(BACKOFF.import_failures + 1):
            _round(clock)
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.FAILED
    assert batch.import_failures == BACKOFF.import_failures + 1
    assert batch.message.startswith("Import failed with status RejectedByWatchdog (4 imports failed")
    row = Contact.objects.get()
    assert row.sync_status == SyncStatus.FAILED and "RejectedByWatchdog" in row.sync_message
    assert Importer.objects.filter(import_status=ImportStatus.PENDING).count() == 0
