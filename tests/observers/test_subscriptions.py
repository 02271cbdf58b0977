"""Newsletter subscription observers, including the suppression-resurrection rule."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone
from oscar.test import factories

from dotsync.models import Contact, Importer, NewsletterSubscriber, SyncStatus

SUBSCRIBED = NewsletterSubscriber.Status.SUBSCRIBED
UNSUBSCRIBED = NewsletterSubscriber.Status.UNSUBSCRIBED


def subscribe(store, email, status=SUBSCRIBED, at=None, customer_id=None):
    return NewsletterSubscriber.objects.create(
        store=store,
        subscriber_email=email,
        subscriber_status=status,
        change_status_at=at or timezone.now(),
        customer_id=customer_id,
    )


def test_subscription_saved_creates_a_subscriber_contact_in_the_store_website(scope, committed):
    with committed():
        sub = subscribe(scope.main_fr, "sub@example.com")
    row = Contact.objects.get(email="sub@example.com")
    assert (row.website_id, row.store_id) == (scope.main.pk, scope.main_fr.pk)
    assert row.is_subscriber and row.subscriber_status == SUBSCRIBED
    assert row.subscriber_sync_status == SyncStatus.NEW and row.last_subscribed_at == sub.change_status_at


def test_unsubscribe_marks_the_subscriber_stream_modified(scope, committed):
    with committed():
        sub = subscribe(scope.main_en, "sub@example.com")
    Contact.objects.update(subscriber_sync_status=SyncStatus.IMPORTED)
    with committed():
        sub.subscriber_status = UNSUBSCRIBED
        sub.save()
    row = Contact.objects.get()
    assert not row.is_subscriber and row.subscriber_status == UNSUBSCRIBED
    assert row.subscriber_sync_status == SyncStatus.MODIFIED


def test_subscribe_attaches_to_the_existing_customer_contact(scope, committed):
    with committed():
        user = factories.UserFactory(email="cust@example.com")
        subscribe(scope.main_en, "cust@example.com", customer_id=user.pk)
    row = Contact.objects.get()
    assert row.customer_id == user.pk and row.is_subscriber


def test_an_older_subscription_never_clears_a_newer_platform_suppression(scope, committed):
    past = timezone.now() - timedelta(days=2)
    with committed():
        sub = subscribe(scope.main_en, "s@example.com", at=past)
    suppressed_at = timezone.now() - timedelta(days=1)
    Contact.objects.update(
        suppressed=True, suppressed_at=suppressed_at, subscriber_sync_status=SyncStatus.IMPORTED
    )
    with committed():
        sub.save()  # re-saved, e.g. an admin edit; its change time is still before the suppression
    assert Contact.objects.get().suppressed
    with committed():
        sub.change_status_at = timezone.now()  # the customer subscribes again, after the suppression
        sub.save()
    row = Contact.objects.get()
    assert not row.suppressed and row.last_subscribed_at == sub.change_status_at


def test_unsubscribe_of_a_suppressed_contact_is_not_sent_back(scope, committed):
    with committed():
        sub = subscribe(scope.main_en, "s@example.com")
    Contact.objects.update(
        suppressed=True, suppressed_at=timezone.now(), subscriber_sync_status=SyncStatus.IMPORTED
    )
    with committed():
        sub.subscriber_status = UNSUBSCRIBED
        sub.save()
    assert Contact.objects.get().subscriber_sync_status == SyncStatus.IMPORTED


def test_deleting_a_subscriber_only_contact_queues_a_contact_delete(scope, committed):
    with committed():
        sub = subscribe(scope.outlet_en, "only@example.com")
    Contact.objects.update(
        subscriber_sync_status=SyncStatus.IMPORTED, subscriber_last_imported_at=timezone.now()
    )
    with committed():
        sub.delete()
    assert not Contact.objects.exists()
    job = Importer.objects.get()
    assert (job.import_mode, job.website_id) == ("Contact_Delete", scope.outlet.pk)
    assert json.loads(job.import_data)["payload"] == {"email": "only@example.com"}


def test_deleting_a_customers_subscription_unsubscribes_the_contact(scope, committed):
    with committed():
        user = factories.UserFactory(email="cust@example.com")
        sub = subscribe(scope.main_en, "cust@example.com", customer_id=user.pk)
    Contact.objects.update(subscriber_sync_status=SyncStatus.IMPORTED)
    with committed():
        sub.delete()
    row = Contact.objects.get()
    assert row.customer_id == user.pk and not row.is_subscriber
    assert row.subscriber_status == UNSUBSCRIBED and row.subscriber_sync_status == SyncStatus.MODIFIED
    assert not Importer.objects.exists()
