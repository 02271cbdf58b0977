"""Admin actions: retry failed imports, reset to pending, and the platform message column."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from dotsync.admin_actions import install
from dotsync.models import Contact, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, drain, no_import_retries

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    install()  # idempotent: dotsync.admin already did
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(user)
    return client


def _act(client, model, action, pks):
    url = reverse(f"admin:dotsync_{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def test_retry_failed_import_from_the_admin_then_it_goes_through(scope, sandbox, staff, monkeypatch):
    no_import_retries(monkeypatch)
    accounts = configure_websites(sandbox, [scope.main])
    sandbox.set_faults(import_outcome="RejectedByWatchdog")
    batch = contact_batch(scope.main, contacts(scope.main, ["ann@example.com"]))
    drain()
    page = staff.get(reverse("admin:dotsync_importer_changelist"))
    assert "Import failed with status RejectedByWatchdog" in page.content.decode()  # the platform message

    sandbox.set_faults(import_outcome="Finished")
    response = _act(staff, "importer", "retry_failed_imports", [batch.pk])
    assert "1 failed import(s) queued again" in response.content.decode()
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.PENDING
    drain()
    assert Contact.objects.get().sync_status == SyncStatus.IMPORTED
    assert set(sandbox.contacts(accounts["main"].username)) == {"ann@example.com"}


def test_reset_sync_rows_to_pending(scope, staff):
    rows = contacts(scope.main, ["a@example.com", "b@example.com", "c@example.com"])
    Contact.objects.filter(pk=rows[0].pk).update(
        sync_status=SyncStatus.FAILED, sync_message="Rejected: Invalid Email"
    )
    Contact.objects.filter(pk=rows[1].pk).update(sync_status=SyncStatus.IMPORTED)
    page = staff.get(reverse("admin:dotsync_contact_changelist"))
    assert "Rejected: Invalid Email" in page.content.decode()

    _act(staff, "contact", "retry_failed_sync", [r.pk for r in rows])
    statuses = dict(Contact.objects.values_list("email", "sync_status"))
    assert statuses == {
        "a@example.com": SyncStatus.MODIFIED,
        "b@example.com": SyncStatus.IMPORTED,
        "c@example.com": SyncStatus.NEW,
    }
    _act(staff, "contact", "reset_sync_to_pending", [r.pk for r in rows])
    assert set(Contact.objects.values_list("sync_status", flat=True)) == {SyncStatus.MODIFIED, SyncStatus.NEW}
    assert Contact.objects.get(email="b@example.com").sync_status == SyncStatus.MODIFIED


def test_actions_need_the_change_permission(scope, client):
    install()
    user = get_user_model().objects.create_user("viewer", "v@example.com", "pw-123456", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_importer"))
    client.force_login(user)
    page = client.get(reverse("admin:dotsync_importer_changelist"))
    assert page.status_code == 200
    assert "retry_failed_imports" not in page.content.decode()
    assert Importer in admin.site._registry
