"""Acceptance, end to end: an address suppressed in the platform before a contact import.

The import's fault report names it; dotsync unsubscribes it in ``email_contact`` and in the store's
``newsletter_subscriber`` of that website only, and does not send it again.
"""

from __future__ import annotations

import pytest

from dotsync.jobs.contact_gate import SUPPRESSED
from dotsync.models import Contact, NewsletterSubscriber, Order, SyncStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.testing.shop import subscribe
from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)

SAM = "sam@example.com"


@pytest.fixture
def sam(shop):
    """Subscribed in a store of each website (before the history install)."""
    scope = shop.scope
    return {store.code: subscribe(SAM, store) for store in (scope.main_en, scope.outlet_en)}


def test_suppressed_before_import_ends_unsubscribed_in_that_website_only(shop, sam, sandbox, accounts):
    scope = shop.scope
    sandbox.suppress(SAM, account=accounts["main"].username)  # main's account only, reason Unsubscribed
    sandbox.suppress("alice@example.com", account=accounts["main"].username, reason="HardBounced")

    run_sync()

    main_row = Contact.objects.get(website=scope.main, email=SAM)
    assert main_row.suppressed and main_row.suppressed_at is not None
    assert not main_row.is_subscriber and main_row.subscriber_status == SubscriberStatus.UNSUBSCRIBED
    sub = NewsletterSubscriber.objects.get(subscriber_email=SAM, store=scope.main_en)
    assert sub.subscriber_status == SubscriberStatus.UNSUBSCRIBED

    alice = Contact.objects.get(website=scope.main, email="alice@example.com")
    assert alice.suppressed and not alice.is_subscriber
    alice_en = NewsletterSubscriber.objects.get(subscriber_email="alice@example.com", store=scope.main_en)
    assert alice_en.subscriber_status == SubscriberStatus.UNSUBSCRIBED

    # alice's orders are not sent to a suppressed contact: skipped with the reason, not left pending
    alice_orders = Order.objects.filter(website=scope.main, email="alice@example.com")
    assert alice_orders.exists()
    assert set(alice_orders.values_list("sync_status", "sync_message")) == {(SyncStatus.SKIPPED, SUPPRESSED)}

    # the other website is untouched: still subscribed here and in its account
    outlet_row = Contact.objects.get(website=scope.outlet, email=SAM)
    assert not outlet_row.suppressed and outlet_row.is_subscriber
    outlet_sub = NewsletterSubscriber.objects.get(subscriber_email=SAM, store=scope.outlet_en)
    assert outlet_sub.subscriber_status == SubscriberStatus.SUBSCRIBED
    outlet = view(sandbox, accounts["outlet"])
    assert SAM in outlet.books["subscribers"] and outlet.contacts[SAM]["status"] == "Subscribed"
    main = view(sandbox, accounts["main"])
    assert main.contacts[SAM]["status"] == "Unsubscribed" and SAM not in main.books["subscribers"]

    # the unsubscription came from the platform: nothing is sent back, nothing else is sent
    again = run_sync()
    assert again["api_writes"] == 0, again  # the feeds read again, and carry nothing new
    assert again["api_reads"] == again["api_calls"], again


def test_orders_held_for_a_suppressed_contact_go_out_once_it_subscribes_again(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    scope = shop.scope
    sandbox.suppress("alice@example.com", account=accounts["main"].username)  # reason Unsubscribed
    run_sync()
    alice_orders = Order.objects.filter(website=scope.main, email="alice@example.com")
    assert set(alice_orders.values_list("sync_status", "sync_message")) == {(SyncStatus.SKIPPED, SUPPRESSED)}
    numbers = {o.order_number for o in alice_orders}
    assert not numbers & view(sandbox, accounts["main"]).keys("Orders")

    # alice subscribes again in the store, after the suppression: her contact goes back to the
    # platform (resubscribed); once that is confirmed, the orders held for her are released and the
    # next run sends them
    sandbox.set_faults(resubscribe_challenge=False)  # the platform takes her back at once
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("alice@example.com", scope.main_en)
    assert run_sync()["jobs"]["contacts"]["counts"]["main"]["resubscribes"] == 1
    assert set(alice_orders.values_list("sync_status", flat=True)) == {SyncStatus.MODIFIED}
    run_sync()
    alice = Contact.objects.get(website=scope.main, email="alice@example.com")
    assert not alice.suppressed and alice.suppressed_at is None
    assert set(alice_orders.values_list("sync_status", flat=True)) == {SyncStatus.IMPORTED}
    main = view(sandbox, accounts["main"])
    assert main.contacts["alice@example.com"]["status"] == "Subscribed"
    assert numbers <= main.keys("Orders")
