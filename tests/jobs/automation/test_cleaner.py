"""``cleaner``: only finished rows older than the retention go, with their archived import files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dotsync.jobs.automation import cleaner
from dotsync.jobs.importer.bulk import archive_dir
from dotsync.models import Automation, Campaign, Contact, ContactConsent, Importer
from dotsync.models.automation import CampaignSendStatus
from dotsync.models.importer import ImportStatus
from tests.jobs.batch_helpers import enable

pytestmark = pytest.mark.django_db


def _importer(website, status, created, name=""):
    row = Importer.objects.create(
        import_type="Customer", website=website, import_status=status, created_at=created
    )
    if name:
        folder = archive_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text("Email\r\nx@example.com\r\n")
        row.import_file = str(path)
        row.save(update_fields=["import_file"])
    return row


def _rows(website, created):
    """One row per state of every cleaned table, created at ``created``; returns the finished ones."""
    contact = Contact.objects.create(website=website, email=f"c{created:%s}@example.com", created_at=created)
    finished = [
        _importer(website, ImportStatus.IMPORTED, created, f"{website.code}_customer_{created:%s}1.csv"),
        _importer(website, ImportStatus.FAILED, created),
        Automation.objects.create(
            automation_type="customer",
            email="a@example.com",
            website=website,
            enrolment_status="Active",
            created_at=created,
        ),
        Automation.objects.create(
            automation_type="customer",
            email="a@example.com",
            website=website,
            enrolment_status="Deactivated",
            created_at=created,
        ),
        Campaign.objects.create(
            campaign_id=1,
            email="a@example.com",
            website=website,
            send_status=CampaignSendStatus.SENT,
            created_at=created,
        ),
        Campaign.objects.create(
            campaign_id=1,
            email="a@example.com",
            website=website,
            send_status=CampaignSendStatus.FAILED,
            created_at=created,
        ),
        ContactConsent.objects.create(email_contact=contact, consent_datetime=created, consent_imported=True),
    ]
    # pending or in flight: never deleted, however old
    _importer(website, ImportStatus.PENDING, created)
    _importer(website, ImportStatus.IMPORTING, created)
    for status in ("pending", "PendingOptIn", "Confirmed"):
        Automation.objects.create(
            automation_type="customer",
            email="a@example.com",
            website=website,
            enrolment_status=status,
            created_at=created,
        )
    for status in (CampaignSendStatus.PENDING, CampaignSendStatus.PROCESSING, CampaignSendStatus.REVIEW):
        Campaign.objects.create(
            campaign_id=1, email="a@example.com", website=website, send_status=status, created_at=created
        )
    ContactConsent.objects.create(email_contact=contact, consent_datetime=created, consent_imported=False)
    return finished


def _count():
    return (
        Importer.objects.count(),
        Automation.objects.count(),
        Campaign.objects.count(),
        ContactConsent.objects.count(),
    )


def test_only_finished_rows_older_than_the_retention_go(scope):
    enable(scope.main, extra={"cleaner_retention_days": 10})
    enable(scope.outlet)  # the default 30 days
    now = timezone.now()
    old = _rows(scope.main, now - timedelta(days=11))
    recent = _rows(scope.main, now - timedelta(days=9))  # inside main's retention
    outlet = _rows(scope.outlet, now - timedelta(days=20))  # inside the outlet's 30 days
    orphan = archive_dir() / "main_customer_999.csv"
    orphan.write_text("Email\r\n")  # named by no row; written now, so within the retention
    before = _count()

    result = cleaner.run()

    assert not result.errors
    counts = result.counts["main"]
    assert counts["email_importer"] == 2 and counts["email_automation"] == 2
    assert counts["email_campaign"] == 2 and counts["email_contact_consent"] == 1
    assert _count() == (before[0] - 2, before[1] - 2, before[2] - 2, before[3] - 1)
    for row in old:
        assert not type(row).objects.filter(pk=row.pk).exists()
    for row in recent + outlet:
        assert type(row).objects.filter(pk=row.pk).exists()
    assert not any(archive_dir().glob(f"main_customer_{(now - timedelta(days=11)):%s}*"))
    assert archive_dir().joinpath(f"main_customer_{(now - timedelta(days=9)):%s}1.csv").exists()
    assert orphan.exists()
    assert result.counts["outlet"]["email_importer"] == 0

    again = cleaner.run()  # nothing more to do
    assert sum(again.counts["main"].values()) == 0


def test_batches_are_keyset_pages(scope):
    enable(scope.main)
    old = timezone.now() - timedelta(days=40)
    Importer.objects.bulk_create(
        Importer(import_type="Order", website=scope.main, import_status=status, created_at=old)
        for status in [ImportStatus.IMPORTED] * 7 + [ImportStatus.PENDING] * 3
    )
    counts = cleaner.clean_website(scope.main.pk, "main", timezone.now() - timedelta(days=30), batch=2)
    assert counts["email_importer"] == 7
    assert list(Importer.objects.values_list("import_status", flat=True)) == [ImportStatus.PENDING] * 3
