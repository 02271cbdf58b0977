"""Finished imports settle their rows; failure statuses fail them with the platform's reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from dotsync.jobs import importer
from dotsync.models import Catalog, Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import (
    catalog_batch,
    contact_batch,
    contacts,
    drain,
    no_import_retries,
    products,
    records,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(scope, sandbox):
    return configure_websites(sandbox, scope.websites)


def test_finished_contact_import_settles_rows_and_archives_the_csv(
    scope, sandbox, accounts, tmp_path, settings
):
    settings.VAR_DIR = tmp_path
    rows = contacts(scope.main, ["ann@example.com", "bob@example.com"])
    batch = contact_batch(scope.main, rows)

    first = importer.run()
    batch.refresh_from_db()
    assert first.counts["main"]["started"] == 1
    assert batch.import_status == ImportStatus.IMPORTING and batch.import_id
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTING}

    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    assert batch.import_finished >= batch.import_started
    for row in Contact.objects.all():
        assert row.sync_status == SyncStatus.IMPORTED
        assert row.last_imported_at is not None
        assert row.payload_hash and row.importer_id is None
    archived = Path(batch.import_file)
    assert archived.parent == tmp_path / "export" / "email" / "archive"
    assert archived.name == f"main_customer_{batch.pk}.csv"
    assert "ann@example.com" in archived.read_text()

    on_platform = sandbox.contacts(accounts["main"].username)
    assert set(on_platform) == {"ann@example.com", "bob@example.com"}
    assert all(len(c["address_books"]) == 1 for c in on_platform.values())


@pytest.mark.parametrize("done", ["Finished", "Complete"])  # the spec's enum and its own example disagree
def test_finished_insight_import_settles_rows(scope, sandbox, accounts, done):
    sandbox.set_faults(insight_done_status=done)
    rows = products([1, 2, 3])
    batch = catalog_batch(scope.outlet, rows)
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    assert set(Catalog.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    assert set(records(sandbox, accounts["outlet"].username, "Catalog_Default")) == {"1", "2", "3"}


@pytest.mark.parametrize("status", ["RejectedByWatchdog", "ExceedsAllowedContactLimit"])
def test_failure_status_fails_the_import_and_its_rows_with_the_reason(
    scope, sandbox, accounts, status, monkeypatch
):
    no_import_retries(monkeypatch)  # tests/jobs/test_importer_watchdog.py covers the new imports
    sandbox.set_faults(import_outcome=status)
    rows = contacts(scope.main, ["ann@example.com"])
    batch = contact_batch(scope.main, rows)
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.FAILED
    assert batch.message == f"Import failed with status {status}"
    row = Contact.objects.get()
    assert row.sync_status == SyncStatus.FAILED
    assert row.sync_message == f"Import failed with status {status}"
    assert row.importer_id is None and row.last_imported_at is None


def test_a_rejected_record_is_quarantined_and_the_rest_imported(scope, sandbox, accounts):
    rows = products([1, 2, 3])
    batch = catalog_batch(
        scope.main, rows, json_for=lambda r: {"sizes": [[1, 2]]} if r.product_id == 2 else {"a": 1}
    )
    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    by_product = {r.product_id: r for r in Catalog.objects.all()}
    assert by_product[1].sync_status == by_product[3].sync_status == SyncStatus.IMPORTED
    assert by_product[2].sync_status == SyncStatus.FAILED
    assert "JsonContainsNestedArray" in by_product[2].sync_message
    assert set(records(sandbox, accounts["main"].username, "Catalog_Default")) == {"1", "3"}


def test_invalid_email_is_quarantined_not_suppressed(scope, sandbox, accounts):
    rows = contacts(scope.main, ["ann@example.com", "not-an-email"])
    contact_batch(scope.main, rows)
    drain()
    good, bad = Contact.objects.order_by("pk")
    assert good.sync_status == SyncStatus.IMPORTED
    assert bad.sync_status == SyncStatus.FAILED and "Invalid Email" in bad.sync_message
    assert not bad.suppressed
    assert Importer.objects.get().import_status == ImportStatus.IMPORTED


def test_record_for_a_contact_not_yet_on_the_platform_is_sent_again_once(scope, sandbox, accounts):
    from dotsync.jobs.importer.poll import REQUEUED
    from dotsync.models import Order
    from tests.jobs.importer_helpers import order_batch, orders

    rows = orders(scope.main, ["ghost@example.com"])
    order_batch(scope.main, rows)
    drain()
    row = Order.objects.get()
    assert (
        row.sync_status == SyncStatus.MODIFIED and row.sync_message == REQUEUED
    )  # the batcher sends it again

    order_batch(scope.main, [row])
    drain()
    row.refresh_from_db()
    assert row.sync_status == SyncStatus.FAILED and "ContactEmailDoesNotExist" in row.sync_message


def test_reading_a_deferred_payload_does_not_keep_it_on_the_row(scope):
    """The importer pages and polls rows without their payload; reading one must not cache it on the
    row, or a page would hold every payload it sent until the page ends (memory grows per run)."""
    from dotsync.jobs.queue import Envelope

    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    row = Importer.objects.defer("import_data").get(pk=batch.pk)
    envelope = Envelope.load(row)
    assert "ann@example.com" in envelope.payload["csv"]
    assert "import_data" in row.get_deferred_fields()
    assert Envelope.load(Importer.objects.get(pk=batch.pk)).payload == envelope.payload
