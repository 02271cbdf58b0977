"""A job moves a sync row's state only if nothing changed the row since its page was read.

Found by ``bench/latency.py`` at 50 changes a second: a contacts run read a page, an observer then
marked a row ``MODIFIED`` (a customer edit), and the run's "unchanged" outcome overwrote it with
``IMPORTED``, so the edit never reached the platform. The observer's commit is made here between the
page read and the outcome, as it happens between two statements of the run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dotsync.exceptions import BatchConflict
from dotsync.jobs import versions
from dotsync.jobs.base import JobResult, iter_pending
from dotsync.jobs.batching import Outcomes
from dotsync.jobs.queue import register_batch
from dotsync.models import Contact, Importer, SyncStatus


@pytest.fixture
def rows(scope):
    made = [
        Contact.objects.create(website=scope.main, email=f"c{i}@example.com", sync_status=SyncStatus.MODIFIED)
        for i in range(3)
    ]
    return [c.pk for c in made]


def read_page(scope) -> list[int]:
    (page,) = list(iter_pending(Contact, website_id=scope.main.pk, page_size=100))
    return [c.pk for c in page]


def observer_changes(pk: int) -> None:
    """What the store's observer does when the customer is edited (a later ``updated_at``)."""
    Contact.objects.filter(pk=pk).update(
        sync_status=SyncStatus.MODIFIED, updated_at=timezone.now() + timedelta(seconds=1)
    )


def statuses(pks: list[int]) -> list[int]:
    return [Contact.objects.get(pk=pk).sync_status for pk in pks]


@pytest.mark.parametrize("outcome", ["unchanged", "failed", "skipped"])
def test_an_outcome_leaves_a_row_changed_after_the_read_pending(scope, rows, outcome):
    assert read_page(scope) == rows
    observer_changes(rows[1])
    out = Outcomes(Contact)
    for pk in rows:
        if outcome == "unchanged":
            out.unchanged.append(pk)
        elif outcome == "failed":
            out.fail(pk, "bad email")
        else:
            out.skip(pk, "nothing to send")
    out.apply(JobResult("contacts"), "main")
    done = {"unchanged": SyncStatus.IMPORTED, "failed": SyncStatus.FAILED, "skipped": SyncStatus.SKIPPED}
    assert statuses(rows) == [done[outcome], SyncStatus.MODIFIED, done[outcome]]


def register_contacts(scope, rows):
    """Queue ``rows`` (their ids, a dummy hash) in one bulk Customer import of the main website."""
    return register_batch(
        website_id=scope.main.pk,
        import_type="Customer",
        import_mode=Importer.Mode.BULK,
        table="email_contact",
        rows=[(pk, "h") for pk in rows],
        payload={"csv": "x"},
    )


def test_a_batch_carries_a_row_changed_after_the_read_but_leaves_it_pending(scope, rows):
    assert read_page(scope) == rows
    observer_changes(rows[0])
    # no BatchConflict: the changed row is pending, not taken by another run
    importer = register_contacts(scope, rows)
    assert statuses(rows) == [SyncStatus.MODIFIED, SyncStatus.IMPORTING, SyncStatus.IMPORTING]
    assert [Contact.objects.get(pk=pk).importer_id for pk in rows] == [None, importer.pk, importer.pk]


def test_a_row_another_run_queued_is_still_a_conflict(scope, rows):
    assert read_page(scope) == rows
    Contact.objects.filter(pk=rows[2]).update(sync_status=SyncStatus.IMPORTING, importer_id=999)
    with pytest.raises(BatchConflict):
        register_contacts(scope, rows)
    assert statuses(rows) == [SyncStatus.MODIFIED, SyncStatus.MODIFIED, SyncStatus.IMPORTING]


def test_rows_read_some_other_way_update_as_before(scope, rows):
    versions.forget(Contact, rows)
    out = Outcomes(Contact)
    out.unchanged.extend(rows)
    out.apply(JobResult("contacts"), "main")
    assert statuses(rows) == [SyncStatus.IMPORTED] * 3
