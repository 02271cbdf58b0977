"""State writes are set-based: the statements writing a sync table do not grow with the rows they write.

A batching run writes each page's outcomes (unchanged, failed, skipped, waiting) and each batch's
``IMPORTING`` rows; the importer settles a batch's rows imported or quarantined. Each is a fixed
number of statements per page or batch, whatever its size, so a per-row ``UPDATE`` coming back fails
these. The counts are taken on two sizes and compared, on the real Oscar shop and, for the importer,
the sandbox over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dotsync.jobs import contacts, orders, versions
from dotsync.jobs.base import JobResult, iter_pending
from dotsync.jobs.batching import Outcomes
from dotsync.models import Contact, HoldReason, Importer, Order, SyncStatus
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.jobs.batch_helpers import contact, enable, imported_contact, order_row, settle_all
from tests.jobs.importer_helpers import drain, order_batch
from tests.jobs.importer_helpers import orders as order_rows


def writes(table: str, run: Callable[[], Any]) -> int:
    """The INSERT, UPDATE and DELETE statements on ``table`` while ``run`` runs."""
    pattern = re.compile(rf'\b(UPDATE|INSERT INTO|DELETE FROM) "{table}"', re.IGNORECASE)
    with CaptureQueriesContext(connection) as ctx:
        run()
    return sum(1 for q in ctx.captured_queries if pattern.search(q["sql"]))


def touch(model: Any, **where: Any) -> None:
    """What an observer does to a row whose entity is saved unchanged: ``MODIFIED``, a later version."""
    model.objects.filter(**where).update(sync_status=SyncStatus.MODIFIED, updated_at=timezone.now())


def _contact_page(scope: Any, n: int, start: int) -> tuple[int, int]:
    """Writes of a contacts run over n customers and n bad emails, then of a run finding them unchanged."""
    for i in range(start, start + n):
        contact(scope.main_en, f"c{i}@example.com", customer=make_customer(f"c{i}@example.com", "C", str(i)))
        bad = f"bad{i}@@example.com"  # quarantined: "the email address is not valid"
        contact(scope.main_en, bad, customer=make_customer(bad, "B", str(i)))
    first = writes("email_contact", contacts.run)
    assert Contact.objects.filter(sync_status=SyncStatus.FAILED).count() == n
    settle_all()
    touch(Contact, sync_status=SyncStatus.IMPORTED)
    again = writes("email_contact", contacts.run)
    assert Contact.objects.filter(sync_status=SyncStatus.IMPORTED).count() == n
    assert not Importer.objects.filter(import_status=Importer.Status.PENDING).exists()  # nothing re-sent
    return first, again


def test_a_contacts_page_writes_the_same_statements_for_2_or_6_rows_of_each_outcome(scope):
    enable(scope.main)
    few = _contact_page(scope, 2, 0)
    Importer.objects.all().delete()
    Contact.objects.all().delete()
    many = _contact_page(scope, 6, 100)
    assert many == few, "a per-row write is back in the contacts job's outcomes or batches"


def _orders_page(scope: Any, n: int, tag: str) -> int:
    """Writes on email_order of an orders run: n orders sent, n waiting for their customer's contact."""
    product = make_product(f"Thing {tag}", "3.00", 100, ["Things"])
    sent = make_customer(f"sent-{tag}@example.com", "S", tag)
    imported_contact(scope.main_en, sent.email, customer=sent)
    for i in range(n):
        order_row(place_order(sent, [product], scope.main_en, status="complete"), scope.main_en)
        waiting = make_customer(f"wait-{tag}{i}@example.com", "W", tag)
        order_row(place_order(waiting, [product], scope.main_en, status="complete"), scope.main_en)
    count = writes("email_order", orders.run)
    assert Order.objects.filter(sync_status=SyncStatus.IMPORTING).count() == n
    assert Order.objects.filter(hold_reason=HoldReason.WAITING_CONTACT).count() == n
    return count


def test_an_orders_page_writes_the_same_statements_for_2_or_5_orders_sent_and_waiting(scope):
    enable(scope.main)
    few = _orders_page(scope, 2, "few")
    Importer.objects.all().delete()
    Order.objects.all().delete()
    many = _orders_page(scope, 5, "many")
    assert many == few, "a per-row write is back in the orders job's outcomes or batches"


def _settle(scope: Any, n: int, start: int) -> int:
    """Writes on email_order while the importer sends and settles one batch of n orders.

    None of their contacts is on the platform, so the sandbox rejects every record
    (``ContactEmailDoesNotExist``): each row is quarantined, and re-queued once for a missing contact.
    """
    rows = order_rows(scope.main, [f"o{i}@example.com" for i in range(start, start + n)], start=start)
    order_batch(scope.main, rows)
    count = writes("email_order", lambda: drain("main"))
    mine = Order.objects.filter(pk__in=[r.pk for r in rows])
    assert mine.filter(sync_status=SyncStatus.MODIFIED, requeue_count=1).count() == n
    return count


def test_settling_a_batch_writes_the_same_statements_for_3_or_12_rejected_records(scope, sandbox):
    configure_websites(sandbox, scope.websites)
    few = _settle(scope, 3, 1000)
    many = _settle(scope, 12, 2000)
    assert many == few, "a per-row write is back in settling a batch"


def test_a_page_read_unchanged_is_marked_in_one_update_without_a_second_look(scope):
    """The version guard matches what the page read, so nothing is looked at again (one statement)."""
    for i in range(7):
        contact(scope.main_en, f"v{i}@example.com", status=SyncStatus.MODIFIED)
    (page,) = list(iter_pending(Contact, website_id=scope.main.pk, page_size=100))
    outcomes = Outcomes(Contact)
    outcomes.unchanged.extend(row.pk for row in page)
    with CaptureQueriesContext(connection) as ctx:
        outcomes.apply(JobResult("contacts"), "main")
    assert len(ctx.captured_queries) == 1 and ctx.captured_queries[0]["sql"].startswith("UPDATE")
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    assert not versions._seen()
