"""Records whose contact is queued but not imported yet wait without being read from the store."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dotsync.jobs import orders
from dotsync.jobs.contact_gate import WAITING
from dotsync.models import Contact, SyncStatus
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.jobs.batch_helpers import batches, contact, enable, order_row, settle_all


def test_orders_of_a_queued_contact_wait_unread_then_go(scope):
    enable(scope.main)
    user = make_customer("queued@example.com", "Que", "Ued")
    queued = contact(
        scope.main_en, "queued@example.com", customer=user
    )  # NEW: the next contacts run sends it
    product = make_product("Queued thing", "4.00", 100, ["Things"])
    complete = order_row(place_order(user, [product], scope.main_en, status="complete"), scope.main_en)
    cancelled = order_row(place_order(user, [product], scope.main_en, status="cancelled"), scope.main_en)

    with CaptureQueriesContext(connection) as ctx:
        result = orders.run()

    complete.refresh_from_db()
    cancelled.refresh_from_db()
    assert complete.sync_status == SyncStatus.NEW and complete.sync_message == WAITING
    assert result.counts["main"]["waiting"] == 1
    # the cancelled order is read and skipped as before; the waiting one is not read at all
    assert cancelled.sync_status == SyncStatus.SKIPPED
    order_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "order_order"' in q["sql"]]
    assert len(order_reads) == 1 and f"IN ({cancelled.order_id})" in order_reads[0]

    Contact.objects.filter(pk=queued.pk).update(sync_status=SyncStatus.IMPORTING)
    orders.run()
    assert batches("Orders") == []  # still queued: still waiting

    Contact.objects.filter(pk=queued.pk).update(
        sync_status=SyncStatus.IMPORTED, last_imported_at=timezone.now()
    )
    orders.run()
    [(_, env)] = batches("Orders")
    assert env.rows[0][0] == complete.pk
    settle_all()
