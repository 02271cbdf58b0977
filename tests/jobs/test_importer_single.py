"""Single-record modes reach the platform through the same queue."""

from __future__ import annotations

import pytest

from dotsync.jobs import importer, queue
from dotsync.models import Contact, Importer, Order, SyncStatus, WebsiteConfig
from dotsync.models.importer import ImportMode, ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain, order_batch, orders, records

pytestmark = pytest.mark.django_db


@pytest.fixture
def main(scope, sandbox):
    account = configure_websites(sandbox, [scope.main])["main"]
    contact_batch(
        scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]), book="subscribers"
    )
    drain()
    return account


def _single(website, mode, payload, import_type="Contact", **kwargs):
    return queue.enqueue_single(
        website_id=website.pk, import_type=import_type, import_mode=mode, payload=payload, **kwargs
    )


def _done(row):
    row.refresh_from_db()
    assert row.import_status == ImportStatus.IMPORTED, row.message
    assert row.import_started and row.import_finished
    return row


def test_contact_delete(scope, sandbox, main):
    delete = _single(scope.main, ImportMode.CONTACT_DELETE, {"email": "ann@example.com"})
    missing = _single(scope.main, ImportMode.CONTACT_DELETE, {"email": "nobody@example.com"})
    importer.run()
    assert _done(delete).message == ""
    assert "nothing to delete" in _done(missing).message
    assert set(sandbox.contacts(main.username)) == {"bob@example.com"}


def test_contact_email_update_and_update(scope, sandbox, main):
    change = _single(
        scope.main,
        ImportMode.CONTACT_EMAIL_UPDATE,
        {"old_email": "ann@example.com", "email": "ann@new.example"},
    )
    update = _single(
        scope.main,
        ImportMode.CONTACT_UPDATE,
        {"email": "cat@example.com", "data_fields": {}, "address_book_id": main.address_books["customers"]},
    )
    importer.run()
    _done(change), _done(update)
    on_platform = sandbox.contacts(main.username)
    assert "ann@new.example" in on_platform and "ann@example.com" not in on_platform
    assert on_platform["cat@example.com"]["address_books"]


def test_subscriber_unsubscribe(scope, sandbox, main):
    unsub = _single(
        scope.main, ImportMode.SUBSCRIBER_UNSUBSCRIBE, {"email": "bob@example.com"}, import_type="Subscriber"
    )
    importer.run()
    _done(unsub)
    assert sandbox.contacts(main.username)["bob@example.com"]["address_books"] == []


def test_subscriber_resubscribe_to_the_account(scope, sandbox, main):
    WebsiteConfig.objects.filter(website=scope.main).update(subscribers_address_book_id=None)
    sandbox.suppress("bob@example.com", account=main.username)
    resub = _single(
        scope.main, ImportMode.SUBSCRIBER_RESUBSCRIBED, {"email": "bob@example.com"}, import_type="Subscriber"
    )
    importer.run()
    assert _done(resub).message == "Platform answered ContactChallenged."


def test_subscriber_resubscribe_to_the_subscribers_book(scope, sandbox, main):
    sandbox.suppress("bob@example.com", account=main.username)
    resub = _single(
        scope.main, ImportMode.SUBSCRIBER_RESUBSCRIBED, {"email": "bob@example.com"}, import_type="Subscriber"
    )
    importer.run()
    assert _done(resub).message == "Platform answered ContactChallenged."


def test_insight_upsert_and_delete(scope, sandbox, main):
    rows = orders(scope.main, ["ann@example.com"])
    order_batch(scope.main, rows)
    drain()
    Order.objects.filter(pk=rows[0].pk).update(sync_status=SyncStatus.MODIFIED)  # the order changed
    upsert = _single(
        scope.main,
        ImportMode.SINGLE,
        {
            "collection": "Orders",
            "scope": "contact",
            "key": "1000",
            "email": "ann@example.com",
            "json": {"total": 99},
        },
        import_type="Orders",
        table="email_order",
        rows=[(rows[0].pk, "h2")],
    )
    Order.objects.filter(pk=rows[0].pk).update(sync_status=SyncStatus.IMPORTING, importer_id=upsert.pk)
    importer.run()
    _done(upsert)
    assert records(sandbox, main.username, "Orders")["1000"]["json"] == {"total": 99}
    order = Order.objects.get()
    assert order.sync_status == SyncStatus.IMPORTED and order.payload_hash == "h2"

    delete = _single(
        scope.main,
        ImportMode.SINGLE_DELETE,
        {"collection": "Orders", "scope": "contact", "key": "1000", "email": "ann@example.com"},
        import_type="Orders",
    )
    again = _single(
        scope.main,
        ImportMode.SINGLE_DELETE,
        {"collection": "Orders", "scope": "contact", "key": "1000", "email": "ann@example.com"},
        import_type="Orders",
    )
    importer.run()
    _done(delete)
    assert "nothing to delete" in _done(again).message
    assert records(sandbox, main.username, "Orders") == {}


def test_single_upsert_into_a_new_collection_becomes_a_one_record_import(scope, sandbox, main):
    row = _single(
        scope.main,
        ImportMode.SINGLE,
        {
            "collection": "Wishlist",
            "scope": "contact",
            "key": "w1",
            "email": "bob@example.com",
            "json": {"items": 2},
        },
        import_type="Wishlist",
    )
    drain()
    row.refresh_from_db()
    assert row.import_status == ImportStatus.IMPORTED and row.import_mode == ImportMode.BULK_JSON
    assert records(sandbox, main.username, "Wishlist")["w1"]["json"] == {"items": 2}


def test_single_rows_interleave_with_bulk_rows_of_a_full_account(scope, sandbox, main):
    cfg = WebsiteConfig.objects.get(website=scope.main)
    cfg.extra = {**(cfg.extra or {}), "max_active_imports": 1}
    cfg.save()
    for i in range(3):
        contact_batch(scope.main, contacts(scope.main, [f"x{i}@example.com"]))
    delete = _single(scope.main, ImportMode.CONTACT_DELETE, {"email": "ann@example.com"})
    result = importer.run()
    assert result.counts["main"]["started"] == 1 and result.counts["main"]["sent"] == 1
    _done(delete)
    assert Importer.objects.filter(import_status=ImportStatus.PENDING).count() == 2
    assert Contact.objects.filter(email="x0@example.com").get().sync_status == SyncStatus.IMPORTING


def test_every_import_mode_has_a_way_out():
    from dotsync.jobs.importer.fairness import KIND_BY_MODE
    from dotsync.jobs.importer.single import HANDLERS

    for mode in ImportMode:
        assert (mode in KIND_BY_MODE) != (mode in HANDLERS), mode
