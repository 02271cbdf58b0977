"""Marketing consent end to end: a subscription made with a request on the Oscar shop records its
consent (text, URL, IP, user agent, time) in ``email_contact_consent``; ``sync all`` sends it with the
contact over real HTTP to the sandbox, whose ``GET /v2/contacts/{email}/with-consent`` lists it; a
second sync sends nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from dotsync.jobs.automap import automap
from dotsync.jobs.runner import sync_all
from dotsync.models import Contact, ContactConsent, Importer, StoreConfig
from dotsync.testing.platform_setup import configure_websites
from dotsync.testing.shop import store_request, subscribe

pytestmark = pytest.mark.django_db

CONSENT = {
    "consent_enabled": True,
    "consent_text": "Yes, send me offers by email",
    "consent_url": "https://main.example.com/newsletter/",
}


def run_sync() -> None:
    summary = sync_all(timeout=60)
    assert summary["drained"] and not summary["errors"], summary


def form_request(store: Any) -> Any:
    request = store_request(store, path="/newsletter/subscribe/")
    request.META["REMOTE_ADDR"] = "203.0.113.7"
    request.META["HTTP_USER_AGENT"] = "Mozilla/5.0 (consent test)"
    return request


def with_consent(sandbox: Any, account: Any, email: str) -> dict[str, Any]:
    response = httpx.get(
        f"{sandbox.url}/v2/contacts/{email}/with-consent", auth=(account.username, account.password)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_consent_is_recorded_and_sent_once(scope, sandbox, django_capture_on_commit_callbacks):
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main])["main"]
    automap()
    StoreConfig.objects.create(store=scope.main_en, overrides=CONSENT)
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("dora@example.com", scope.main_en, request=form_request(scope.main_en))

    [record] = ContactConsent.objects.all()
    assert record.email_contact == Contact.objects.get(email="dora@example.com", website=scope.main)
    assert (record.consent_text, record.consent_url) == (CONSENT["consent_text"], CONSENT["consent_url"])
    assert (record.consent_ip, record.consent_user_agent) == ("203.0.113.7", "Mozilla/5.0 (consent test)")
    assert record.consent_datetime is not None and not record.consent_imported

    run_sync()

    body = with_consent(sandbox, account, "dora@example.com")
    assert body["contact"]["email"] == "dora@example.com"
    [sent] = body["consentFields"]
    fields = {f["key"]: f["value"] for f in sent["fields"]}
    assert fields == {
        "TEXT": CONSENT["consent_text"],
        "URL": CONSENT["consent_url"],
        "DATETIMECONSENTED": record.consent_datetime.isoformat(),
        "IPADDRESS": "203.0.113.7",
        "USERAGENT": "Mozilla/5.0 (consent test)",
    }
    record.refresh_from_db()
    assert record.consent_imported
    imports = Importer.objects.count()

    run_sync()  # nothing new: no import, no second consent record

    assert Importer.objects.count() == imports
    assert len(with_consent(sandbox, account, "dora@example.com")["consentFields"]) == 1

    # consent given again later (the contact is on the platform, its row otherwise unchanged): sent once more
    later = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("dora@example.com", scope.main_en, request=form_request(scope.main_en), at=later)
    run_sync()
    run_sync()
    records = with_consent(sandbox, account, "dora@example.com")["consentFields"]
    assert [{f["key"]: f["value"] for f in r["fields"]}["DATETIMECONSENTED"] for r in records] == [
        record.consent_datetime.isoformat(),
        later.isoformat(),
    ]
    assert not ContactConsent.objects.filter(consent_imported=False).exists()


def test_a_refused_contact_keeps_its_consent_pending(scope, sandbox, django_capture_on_commit_callbacks):
    sandbox.set_faults(import_delay=0)
    account = configure_websites(sandbox, [scope.main])["main"]
    automap()
    StoreConfig.objects.create(store=scope.main_en, overrides=CONSENT)
    sandbox.suppress("gone@example.com")  # globally suppressed: the import's fault report names the row
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("gone@example.com", scope.main_en, request=form_request(scope.main_en))
    run_sync()
    [record] = ContactConsent.objects.all()
    assert not record.consent_imported
    response = httpx.get(
        f"{sandbox.url}/v2/contacts/gone@example.com/with-consent", auth=(account.username, account.password)
    )
    assert response.status_code == 404


def test_consent_off_records_nothing(scope, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        subscribe("erin@example.com", scope.main_en, request=form_request(scope.main_en))
    assert Contact.objects.filter(email="erin@example.com").exists()
    assert not ContactConsent.objects.exists()
