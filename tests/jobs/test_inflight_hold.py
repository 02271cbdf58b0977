"""Rows whose import has not settled: held by the batchers, "maybe sent", kept pending by settlement.

The end-to-end reproduction of each retire kind is tests/e2e/test_inflight.py; these pin the rules
underneath it on the queue alone (no platform call is made).
"""

from __future__ import annotations

import pytest

from dotsync.jobs import settle
from dotsync.jobs.base import JobResult
from dotsync.jobs.batching import Outcomes, held_reason, hold_in_flight, was_imported
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = pytest.mark.django_db


def _modified(row: Contact) -> None:
    """What an observer does to a row hit while its import is in flight."""
    Contact.objects.filter(pk=row.pk).update(sync_status=SyncStatus.MODIFIED)


def test_a_row_changed_while_importing_is_held_until_its_import_settles(scope):
    ann, _bob = contacts(scope.main, ["ann@example.com", "bob@example.com"])
    batch = contact_batch(scope.main, [ann])
    _modified(ann)
    page = list(Contact.objects.order_by("pk"))
    assert was_imported(page[0]) and not was_imported(page[1])  # "maybe sent" while in flight

    outcomes = Outcomes(Contact)
    assert hold_in_flight(page, outcomes) == [page[1]]
    outcomes.apply(JobResult("t"), "main")
    ann.refresh_from_db()
    assert ann.sync_status == SyncStatus.MODIFIED and ann.importer_id == batch.pk
    assert ann.sync_message == held_reason(batch.pk)

    Importer.objects.filter(pk=batch.pk).update(import_status=ImportStatus.IMPORTING)
    assert settle.settle_imported(batch) == 0  # nothing marked imported: ann changed meanwhile
    ann.refresh_from_db()
    assert ann.sync_status == SyncStatus.MODIFIED  # still to send
    assert ann.importer_id is None and ann.last_imported_at is not None  # the import is recorded
    Importer.objects.filter(pk=batch.pk).update(import_status=ImportStatus.IMPORTED)
    assert hold_in_flight([ann], Outcomes(Contact)) == [ann]


def test_a_rejected_record_changed_while_importing_stays_pending(scope):
    (ann,) = contacts(scope.main, ["ann@example.com"])
    batch = contact_batch(scope.main, [ann])
    _modified(ann)
    settle.settle_imported(batch, failed={ann.pk: "Rejected by the platform: invalid"})
    ann.refresh_from_db()
    assert ann.sync_status == SyncStatus.MODIFIED and ann.importer_id is None


def test_a_pointer_to_a_finished_import_is_not_a_hold_but_still_maybe_sent(scope):
    (ann,) = contacts(scope.main, ["ann@example.com"])
    batch = contact_batch(scope.main, [ann])
    Importer.objects.filter(pk=batch.pk).update(import_status=ImportStatus.FAILED)
    _modified(ann)
    ann.refresh_from_db()
    assert hold_in_flight([ann], Outcomes(Contact)) == [ann]
    assert was_imported(ann)  # its retire step is queued, not skipped: deletes are idempotent


def test_a_contact_whose_delete_is_still_queued_is_held_until_the_delete_settles(scope):
    from dotsync.jobs import events as rows
    from dotsync.jobs.batching import queued_contact_deletes

    rows.queue_contact_delete(scope.main.pk, "ann@example.com")  # the customer was deleted
    (ann,) = contacts(scope.main, ["ann@example.com"])  # and came back before the delete was made
    deleting = queued_contact_deletes(scope.main.pk)
    assert set(deleting) == {"ann@example.com"}
    assert hold_in_flight([ann], Outcomes(Contact), deleting=deleting) == []
    Importer.objects.filter(pk=deleting["ann@example.com"]).update(import_status=ImportStatus.IMPORTED)
    assert queued_contact_deletes(scope.main.pk) == {}
