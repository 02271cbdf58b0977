"""Contact-import fault reports: suppressions unsubscribe locally, in that website only, never resurrect."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from dotsync.jobs import importer
from dotsync.models import Contact, Importer, NewsletterSubscriber, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.models.newsletter import SubscriberStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain

pytestmark = pytest.mark.django_db

SUBSCRIBED = SubscriberStatus.SUBSCRIBED
UNSUBSCRIBED = SubscriberStatus.UNSUBSCRIBED


def _subscribe(email, stores, at):
    for store in stores:
        NewsletterSubscriber.objects.create(
            store=store, subscriber_email=email, subscriber_status=SUBSCRIBED, change_status_at=at
        )


def _statuses(email):
    return {
        s.store.code: s.subscriber_status
        for s in NewsletterSubscriber.objects.filter(subscriber_email=email).select_related("store")
    }


def test_suppressed_contact_is_unsubscribed_in_that_website_only(scope, sandbox):
    accounts = configure_websites(sandbox, scope.websites)
    long_ago = timezone.now() - timedelta(days=30)
    email = "gone@example.com"
    sandbox.suppress(email)  # globally suppressed on the platform
    _subscribe(email, scope.stores, long_ago)
    main_rows = contacts(
        scope.main, [email, "ok@example.com"], is_subscriber=True, last_subscribed_at=long_ago
    )
    contacts(scope.outlet, [email], is_subscriber=True, last_subscribed_at=long_ago)
    batch = contact_batch(scope.main, main_rows, book="subscribers")

    drain()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTED
    gone = Contact.objects.get(website=scope.main, email=email)
    assert gone.suppressed and not gone.is_subscriber
    assert gone.subscriber_status == UNSUBSCRIBED and gone.suppressed_at is not None
    assert gone.sync_status == SyncStatus.IMPORTED  # settled: resending cannot change the platform's decision
    assert "Globally Suppressed" in gone.sync_message
    assert _statuses(email) == {"main_en": UNSUBSCRIBED, "main_fr": UNSUBSCRIBED, "outlet_en": SUBSCRIBED}
    changed = NewsletterSubscriber.objects.get(subscriber_email=email, store=scope.main_en).change_status_at
    assert changed > batch.import_started
    other_site = Contact.objects.get(website=scope.outlet, email=email)
    assert not other_site.suppressed and other_site.is_subscriber
    ok = Contact.objects.get(website=scope.main, email="ok@example.com")
    assert not ok.suppressed and ok.sync_status == SyncStatus.IMPORTED
    assert set(sandbox.contacts(accounts["main"].username)) == {"ok@example.com"}


def test_a_resubscription_after_the_import_started_is_not_overwritten(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main])
    sandbox.set_faults(import_polls=1)  # still running at the first poll: time to re-subscribe
    long_ago = timezone.now() - timedelta(days=30)
    fresh, stale = "fresh@example.com", "stale@example.com"
    for email in (fresh, stale):
        sandbox.suppress(email, account=accounts["main"].username)
        _subscribe(email, [scope.main_en], long_ago)
    rows = contacts(scope.main, [fresh, stale], is_subscriber=True, last_subscribed_at=long_ago)
    batch = contact_batch(scope.main, rows, book="subscribers")
    importer.run()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.IMPORTING

    time.sleep(0.01)
    now = timezone.now()  # the customer re-subscribes in the store while the import runs
    NewsletterSubscriber.objects.filter(subscriber_email=fresh).update(change_status_at=now)
    Contact.objects.filter(email=fresh).update(last_subscribed_at=now)

    drain()
    kept = Contact.objects.get(email=fresh)
    assert kept.is_subscriber and not kept.suppressed
    assert _statuses(fresh) == {"main_en": SUBSCRIBED}
    gone = Contact.objects.get(email=stale)
    assert gone.suppressed and not gone.is_subscriber
    assert _statuses(stale) == {"main_en": UNSUBSCRIBED}


def test_a_suppressed_contact_stays_suppressed(scope, sandbox):
    configure_websites(sandbox, [scope.main])
    email = "gone@example.com"
    sandbox.suppress(email)
    suppressed_at = timezone.now() - timedelta(days=3)
    rows = contacts(scope.main, [email], suppressed=True, suppressed_at=suppressed_at, subscriber_status=3)
    for _ in range(2):  # imported twice: the suppression is reported twice and kept
        Contact.objects.filter(pk=rows[0].pk).update(sync_status=SyncStatus.MODIFIED)
        contact_batch(scope.main, rows)
        drain()
    row = Contact.objects.get()
    assert row.suppressed and not row.is_subscriber
    assert row.suppressed_at == suppressed_at  # the first suppression time is kept
    assert Importer.objects.filter(import_status=ImportStatus.IMPORTED).count() == 2


@pytest.mark.parametrize(
    ("reason", "suppressed"),
    [
        ("Unsubscribed", True),
        ("HardBounced", True),
        ("IspComplained", True),
        ("MailBlocked", True),
        ("DomainSuppression", True),
        ("Suppressed", True),
        ("SoftBounced", False),  # temporary: not a suppression
    ],
)
def test_each_platform_reason(scope, sandbox, reason, suppressed):
    accounts = configure_websites(sandbox, [scope.main])
    sandbox.suppress("x@example.com", account=accounts["main"].username, reason=reason)
    contact_batch(scope.main, contacts(scope.main, ["x@example.com"], is_subscriber=True))
    drain()
    row = Contact.objects.get()
    assert row.suppressed is suppressed and row.is_subscriber is not suppressed
    assert row.sync_status == SyncStatus.IMPORTED
