"""``dotsync erase EMAIL``: nothing of the person is left in dotsync or in the sandbox, and an audit row
without personal data is.

The real Oscar shop is synced into the sandbox over HTTP first (``sync all``), so the person has contact
rows, subscriptions, order/basket/review/wishlist sync rows, finished imports with archived CSVs, and a
contact with insight data on the platform.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from django.apps import apps
from django.db import models
from django.utils import timezone

from dotsync.cli.main import main
from dotsync.erasure import subject_hash
from dotsync.install.backfill import backfill
from dotsync.jobs.automap import automap
from dotsync.jobs.importer.bulk import archive_dir
from dotsync.jobs.runner import sync_all
from dotsync.models import (
    Automation,
    Campaign,
    Contact,
    ContactConsent,
    Erasure,
    Importer,
    Order,
    Review,
    RuleExclusion,
    RuleType,
    SmsOrderQueue,
    SyncStatus,
    Wishlist,
)
from dotsync.models.importer import ImportStatus
from dotsync.models.newsletter import ContactBook
from dotsync.testing.platform_setup import configure_websites

pytestmark = pytest.mark.django_db

ALICE = "alice@example.com"  # a customer of main: orders, basket, wishlist, review, two subscriptions


@pytest.fixture
def synced(shop, sandbox, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    accounts = configure_websites(sandbox, shop.scope.websites)
    automap()
    backfill()
    summary = sync_all(timeout=60)
    assert summary["drained"] and not summary["errors"], summary
    return accounts


def _mentions(email: str) -> dict[str, int]:
    """Rows of every dotsync table with the address in any text column (case-insensitive)."""
    found = {}
    for model in apps.get_app_config("dotsync").get_models():
        text = [f.name for f in model._meta.fields if isinstance(f, models.CharField | models.TextField)]
        if not text:
            continue
        query = models.Q()
        for name in text:
            query |= models.Q(**{f"{name}__icontains": email})
        n = model._default_manager.filter(query).count()
        if n:
            found[model._meta.db_table] = n
    return found


def _but_history(found: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in found.items() if table != "email_importer"}


def _sandbox_text(sandbox: Any) -> str:
    return json.dumps(sandbox.state()).lower()


def test_erase_leaves_nothing_of_the_person(shop, sandbox, synced):
    customer_id = shop.customers["alice"].pk
    contact = Contact.objects.get(website=shop.scope.main, email=ALICE)
    ContactConsent.objects.create(email_contact=contact, consent_text="yes please", consent_ip="10.0.0.1")
    Campaign.objects.create(campaign_id=2, email="Alice@Example.com", website=shop.scope.main)
    Automation.objects.create(automation_type="customer", email=ALICE, website=shop.scope.main)
    RuleExclusion.objects.create(rule_type=RuleType.REVIEW, website=shop.scope.main, email=ALICE)
    ContactBook.objects.create(
        website=shop.scope.main, email=ALICE, address_book_id=77, member=True, changed_at=timezone.now()
    )
    alice_order = Order.objects.filter(email__iexact=ALICE, website=shop.scope.main).first()
    assert alice_order is not None
    SmsOrderQueue.objects.create(  # her order's text to her phone
        website=shop.scope.main,
        store=alice_order.store,
        order_id=alice_order.order_id,
        order_status="processing",
        slot=1,
    )
    # queued work carrying alice and someone else: alice goes, the other is queued again
    carol = Contact.objects.get(website=shop.scope.main, email="carol@example.com")
    Contact.objects.filter(pk__in=[contact.pk, carol.pk]).update(sync_status=SyncStatus.MODIFIED)
    from tests.jobs.importer_helpers import contact_batch

    pending = contact_batch(shop.scope.main, [contact, carol])
    assert "email_importer" in _mentions(ALICE) and "email_order" in _mentions(ALICE)
    assert ALICE in _sandbox_text(sandbox)
    archived = list(archive_dir().glob("*.csv"))
    assert any(ALICE in p.read_text() for p in archived)
    others = ("bob@example.com", "carol@example.com")
    others_before = {e: _but_history(_mentions(e)) for e in others}

    orphan = archive_dir() / "main_customer_99999.csv"  # an archived import no row names any more
    orphan.write_text("Email,EmailType\r\nALICE@example.com,Html\r\n")
    unrelated = archive_dir() / "main_customer_99998.csv"
    unrelated.write_text("Email,EmailType\r\nbob@example.com,Html\r\n")

    result = CliRunner().invoke(main, ["erase", "Alice@Example.com", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["outcome"] == "complete" and report["platform"] == "deleted"
    counts = report["counts"]
    assert counts["platform_contacts"] == 1  # main's account (alice never bought in the outlet)
    assert (
        counts["email_contact"] >= 1 and counts["email_order"] >= 1 and counts["newsletter_subscriber"] == 2
    )
    assert counts["email_contact_consent"] == 1 and counts["email_campaign"] == 1
    assert counts["email_rule_exclusion"] == 1 and counts["email_contact_book"] == 1
    assert counts["email_sms_order_queue"] == 1 and not SmsOrderQueue.objects.exists()
    assert counts["requeued_records"] == 2 and counts["in_flight"] == 0  # carol and alice (then erased)
    assert _mentions(ALICE) == {}  # nothing in any dotsync table
    assert not Review.objects.filter(customer_id=customer_id).exists()
    assert not Wishlist.objects.filter(customer_id=customer_id).exists()
    assert ALICE not in _sandbox_text(sandbox)  # contact, list memberships, insight data: gone
    assert not any(ALICE in p.read_text().lower() for p in archive_dir().glob("*.csv"))
    assert not orphan.exists() and unrelated.exists()
    assert not Importer.objects.filter(pk=pending.pk).exists()
    carol.refresh_from_db()
    assert carol.sync_status == SyncStatus.MODIFIED and carol.importer_id is None  # sent with the next run
    # the others keep everything but the finished imports that also carried alice (history, deleted)
    assert {e: _but_history(_mentions(e)) for e in others} == others_before
    assert Order.objects.filter(email__iexact="bob@example.com").exists()

    (audit,) = Erasure.objects.all()
    assert audit.subject_hash == subject_hash(ALICE) and ALICE not in audit.subject_hash
    assert audit.outcome == "complete" and audit.platform_status == "deleted"
    assert "alice" not in json.dumps(audit.counts).lower() and audit.website is None

    again = CliRunner().invoke(main, ["erase", ALICE])  # nothing left: still complete, nothing removed
    assert again.exit_code == 0, again.output
    assert "platform: absent" in again.output and Erasure.objects.count() == 2


def test_a_suppressed_contact_or_work_in_flight_leaves_the_erasure_incomplete(shop, sandbox, synced):
    sandbox.suppress(ALICE, account=synced["main"].username)  # the platform keeps suppressed contacts
    Importer.objects.create(
        import_type="Customer",
        website=shop.scope.main,
        import_status=ImportStatus.IMPORTING,
        import_data=json.dumps({"table": "email_contact", "rows": [], "payload": {"csv": ALICE}}),
    )

    Importer.objects.create(  # someone else whose address ends with alice's: not hers
        import_type="Customer",
        website=shop.scope.main,
        import_status=ImportStatus.IMPORTING,
        import_data=json.dumps({"payload": {"csv": "Email\r\njimalice@example.com,Html\r\n"}}),
    )

    result = CliRunner().invoke(main, ["erase", ALICE, "--website", "main", "--json"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["outcome"] == "incomplete" and report["platform"] == "suppressed"
    assert report["counts"]["in_flight"] == 1  # hers only
    assert Importer.objects.filter(import_status=ImportStatus.IMPORTING).count() == 2  # never touched
    assert not Contact.objects.filter(email=ALICE).exists()  # the store side is erased all the same
    assert Erasure.objects.get().website == shop.scope.main


def test_erase_in_one_website_keeps_the_other(shop, sandbox, synced):
    assert Contact.objects.filter(email="guest@example.com").count() == 2  # a guest of main and of the outlet
    result = CliRunner().invoke(main, ["erase", "guest@example.com", "--website", "outlet"])
    assert result.exit_code == 0, result.output
    assert list(
        Contact.objects.filter(email="guest@example.com").values_list("website__code", flat=True)
    ) == ["main"]
    assert "guest@example.com" in sandbox.contacts(synced["main"].username)
    assert "guest@example.com" not in sandbox.contacts(synced["outlet"].username)
    bad = CliRunner().invoke(main, ["erase", "guest@example.com", "--website", "nope"])
    assert bad.exit_code == 2 and "no website" in bad.output


def test_the_audit_grid_is_read_only_and_holds_no_address(shop, sandbox, synced, client, django_user_model):
    from django.urls import reverse

    assert CliRunner().invoke(main, ["erase", ALICE]).exit_code == 0
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "root-pass"))
    page = client.get(reverse("admin:dotsync_erasure_changelist"), {"q": subject_hash(ALICE)})
    assert page.status_code == 200
    content = page.content.decode().lower()
    assert "complete" in content and "alice" not in content
    assert client.get(reverse("admin:dotsync_erasure_add")).status_code == 403


def test_a_platform_contact_shared_with_another_website_is_kept(shop, sandbox, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    (account,) = {
        a.username: a for a in configure_websites(sandbox, shop.scope.websites, shared_account=True).values()
    }.values()
    automap()
    backfill()
    assert sync_all(timeout=60)["drained"]
    guest = "guest@example.com"  # a guest of main and of the outlet: one contact in the shared account
    assert guest in sandbox.contacts(account.username)

    result = CliRunner().invoke(main, ["erase", guest, "--website", "outlet", "--json"])

    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["platform"] == "shared" and report["outcome"] == "incomplete"
    assert guest in sandbox.contacts(account.username)  # main still holds them
    assert list(Contact.objects.filter(email=guest).values_list("website__code", flat=True)) == ["main"]

    everywhere = CliRunner().invoke(main, ["erase", guest, "--json"])
    assert everywhere.exit_code == 0, everywhere.output
    assert json.loads(everywhere.output)["platform"] == "deleted"
    assert guest not in sandbox.contacts(account.username) and _mentions(guest) == {}
