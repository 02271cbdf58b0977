"""A record whose contact failed to import leaves "waiting": skipped with the reason, released once the
contact is imported (here after ``dotsync retry --failed``), then sent."""

from __future__ import annotations

from dotsync.jobs import contacts, orders
from dotsync.jobs.contact_gate import CONTACT_FAILED
from dotsync.jobs.resume import resume
from dotsync.models import Contact, SyncStatus
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.jobs.batch_helpers import contact, order_row
from tests.jobs.importer_helpers import drain, records


def test_an_order_of_a_failed_contact_is_skipped_with_the_reason_then_released(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main])
    user = make_customer("rejected@example.com", "Re", "Jected")
    row = contact(scope.main_en, "rejected@example.com", customer=user, status=SyncStatus.FAILED)
    Contact.objects.filter(pk=row.pk).update(sync_message="Rejected by the platform: invalid email")
    product = make_product("Held thing", "4.00", 100, ["Things"])
    order = order_row(place_order(user, [product], scope.main_en, status="complete"), scope.main_en)

    for _ in range(2):  # not left waiting run after run
        result = orders.run()
        order.refresh_from_db()
        assert order.sync_status == SyncStatus.SKIPPED
        assert order.sync_message.endswith(CONTACT_FAILED) and "invalid email" in order.sync_message
        assert not result.total("waiting")

    assert resume(failed=True).failed_records == 1  # the contact is queued again
    contacts.run()
    drain()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.MODIFIED  # released by the contact's import
    orders.run()
    drain()
    order.refresh_from_db()
    assert order.sync_status == SyncStatus.IMPORTED
    assert len(records(sandbox, accounts["main"].username, "Orders")) == 1
