"""Row state lives in columns: why a record is held is ``hold_reason`` (rewording a message changes
nothing), "maybe sent" is one rule, and each stream's declaration agrees with its table."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from dotsync.jobs import contacts, orders, streams
from dotsync.jobs.resume import resume
from dotsync.models import Contact, HoldReason, Order, SyncStatus
from dotsync.models.sync import SUBSCRIBER_COLUMNS, maybe_sent
from dotsync.reporting import REPORTS
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.jobs.batch_helpers import contact, order_row
from tests.jobs.importer_helpers import drain


def test_a_held_order_is_released_by_its_hold_reason_whatever_its_message_says(scope, sandbox):
    configure_websites(sandbox, [scope.main])
    user = make_customer("reworded@example.com", "Re", "Worded")
    row = contact(scope.main_en, "reworded@example.com", customer=user, status=SyncStatus.FAILED)
    Contact.objects.filter(pk=row.pk).update(sync_message="Rejected by the platform: invalid email")
    product = make_product("Held thing", "4.00", 100, ["Things"])
    order = order_row(place_order(user, [product], scope.main_en, status="complete"), scope.main_en)

    orders.run()
    order.refresh_from_db()
    assert (order.sync_status, order.hold_reason) == (SyncStatus.SKIPPED, HoldReason.CONTACT_FAILED)
    Order.objects.filter(pk=order.pk).update(sync_message="someone reworded this message")

    resume(failed=True)
    contacts.run()
    drain()
    order.refresh_from_db()
    assert (order.sync_status, order.hold_reason, order.sync_message) == (SyncStatus.MODIFIED, "", "")


def test_maybe_sent_is_one_rule_with_a_wider_reading_for_store_events():
    never = Contact(email="a@example.com", sync_status=SyncStatus.SKIPPED)
    assert not maybe_sent(never)  # a job skips it: nothing to delete
    assert maybe_sent(never, any_stream=True)  # a store event reads status past NEW as "maybe sent"
    carried = Contact(email="b@example.com", importer_id=7)
    assert maybe_sent(carried) and not maybe_sent(carried, SUBSCRIBER_COLUMNS)
    confirmed = Contact(email="c@example.com", subscriber_last_imported_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert maybe_sent(confirmed, SUBSCRIBER_COLUMNS) and not maybe_sent(confirmed)
    assert maybe_sent(Contact(email="d@example.com", contact_id="42"), any_stream=True)


def test_each_stream_declaration_agrees_with_its_table_status_line_and_jobs():
    for stream in streams.ALL:
        if stream.status_line is not None:
            assert stream.status_line.model is stream.model
            assert stream.status_line.status_field == stream.columns.status
        assert {stream.columns.status, stream.columns.hash} <= {f.attname for f in stream.model._meta.fields}
    assert [r.name for r in REPORTS[: len(streams.status_lines())]] == [
        "email_contact",
        "email_contact.subscriber",
        "email_order",
        "email_quote",
        "email_wishlist",
        "email_review",
        "email_catalog",
    ]
    assert {s.name for s in (*contacts.JOB.streams, *orders.JOB.streams)} == {
        "customers",
        "guests",
        "subscribers",
        "orders",
        "quotes",
    }


def test_after_confirmed_runs_each_hook_of_a_table_once(monkeypatch):
    calls: list[tuple[int, ...]] = []

    def hook(pks):
        calls.append(tuple(pks))
        return len(pks)

    patched = tuple(
        dataclasses.replace(s, after_confirmed=hook) if s.after_confirmed is not None else s
        for s in streams.ALL
    )
    monkeypatch.setattr(streams, "ALL", patched)
    assert streams.after_confirmed("email_contact", [1, 2]) == 2  # three streams share one hook
    assert calls == [(1, 2)]
    assert streams.after_confirmed("email_order", [3]) == 0
