"""Customer observers: saved, registered/logged in (Oscar's real login view), email changed, deleted."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from oscar.test import factories

from dotsync.models import Contact, Importer, SyncStatus


def test_customer_saved_upserts_the_contact_then_marks_it_modified(scope, committed):
    with committed():
        user = factories.UserFactory(email="bob@example.com")
    row = Contact.objects.get(email="bob@example.com")
    assert (row.website_id, row.store_id, row.customer_id) == (scope.main.pk, scope.main_en.pk, user.pk)
    assert row.sync_status == SyncStatus.NEW
    Contact.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        user.first_name = "Bob"
        user.save()
    assert Contact.objects.get().sync_status == SyncStatus.MODIFIED


def test_customer_contact_follows_their_last_order_website(scope, place_order, committed):
    user = factories.UserFactory(email="carol@example.com")  # not committed: no contact yet
    with committed():
        place_order(user, site=scope.outlet_en.site)
    Contact.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        user.last_name = "Jones"
        user.save()
    row = Contact.objects.get(email="carol@example.com")
    assert (row.website_id, row.sync_status) == (scope.outlet.pk, SyncStatus.MODIFIED)


def test_email_change_moves_the_row_and_queues_an_email_update(scope, committed):
    with committed():
        user = factories.UserFactory(email="old@example.com")
    Contact.objects.update(sync_status=SyncStatus.IMPORTED, contact_id="42")
    with committed():
        user.email = "new@example.com"
        user.save()
    row = Contact.objects.get()
    assert (row.email, row.customer_id, row.sync_status) == ("new@example.com", user.pk, SyncStatus.MODIFIED)
    job = Importer.objects.get()
    assert (job.import_type, job.import_mode, job.import_status) == ("Contact", "Contact_Email_Update", 0)
    assert json.loads(job.import_data)["payload"] == {
        "old_email": "old@example.com",
        "email": "new@example.com",
    }


def test_customer_deleted_removes_the_row_and_queues_a_contact_delete(scope, committed):
    with committed():
        user = factories.UserFactory(email="gone@example.com")
        keep = factories.UserFactory(email="stay@example.com")
    Contact.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        user.delete()
    assert list(Contact.objects.values_list("customer_id", flat=True)) == [keep.pk]
    job = Importer.objects.get()
    assert (job.import_type, job.import_mode, job.website_id) == ("Contact", "Contact_Delete", scope.main.pk)
    assert json.loads(job.import_data)["payload"] == {"email": "gone@example.com"}


def test_deleting_a_never_sent_customer_queues_nothing(scope, committed):
    with committed():
        user = factories.UserFactory(email="new@example.com")
    with committed():
        user.delete()
    assert not Contact.objects.exists() and not Importer.objects.exists()


@pytest.mark.urls("tests.observers.urls")
def test_login_through_oscars_login_view_marks_the_contact_modified(scope, client, committed):
    with committed():
        user = get_user_model().objects.create_user("dora", "dora@example.com", "s3cret-pass")
    Contact.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        response = client.post(
            "/accounts/login/",
            {"login-username": "dora@example.com", "login-password": "s3cret-pass", "login_submit": "1"},
        )
    assert response.status_code == 302, response.content[:500]
    assert Contact.objects.get(customer_id=user.pk).sync_status == SyncStatus.MODIFIED
