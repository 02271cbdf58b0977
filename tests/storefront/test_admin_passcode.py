"""The admin's write-only dynamic-content passcode: encrypted, never shown, and what the EDC views check."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dotsync.config import get_config
from dotsync.models import WebsiteConfig
from dotsync.testing.scope import Scope
from tests.test_admin import form_data

pytestmark = pytest.mark.django_db

PASSCODE = "edc-admin-Pz42"


def test_the_admin_sets_the_passcode_encrypted_and_never_shows_it(scope: Scope, django_user_model) -> None:  # type: ignore[no-untyped-def]
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "root-pass"))
    config = WebsiteConfig.objects.get(website=scope.main)
    url = reverse("admin:dotsync_websiteconfig_change", args=[config.pk])
    data = form_data(config, edc_passcode=PASSCODE)
    response = staff.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.edc_passcode_encrypted and PASSCODE not in config.edc_passcode_encrypted
    assert get_config(scope.main).edc_passcode == PASSCODE
    assert PASSCODE not in repr(get_config(scope.main))
    page = staff.get(url).content.decode()
    assert PASSCODE not in page and config.edc_passcode_encrypted not in page
    assert staff.post(url, {**data, "edc_passcode": ""}).status_code == 302  # kept
    assert get_config(scope.main).edc_passcode == PASSCODE
    edc = Client(REMOTE_ADDR="192.0.2.10")
    assert edc.get(f"/dotsync/edc/main/bestsellers/?code={PASSCODE}").status_code in (200, 204)
    assert staff.post(url, {**data, "edc_passcode": "", "clear_edc_passcode": "on"}).status_code == 302
    assert get_config(scope.main).edc_passcode == ""
    assert edc.get(f"/dotsync/edc/main/bestsellers/?code={PASSCODE}").status_code == 401
