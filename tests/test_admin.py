"""The admin configuration screen (write-only password, every problem shown) and the read-only grids."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dotsync.config import get_config
from dotsync.install import backfill
from dotsync.models import WebsiteConfig

SECRET = "pa55-word-never-shown"


@pytest.fixture
def staff(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "root-pass")
    client.force_login(admin_user)
    return client


def form_data(config: WebsiteConfig, **overrides):
    data = {
        "website": config.website_id,
        "enabled": "unknown",
        "api_user": "",
        "api_password": "",
        "api_endpoint": "",
        "customers_address_book_id": "",
        "subscribers_address_book_id": "",
        "guests_address_book_id": "",
        "order_statuses": "null",
        "batch_sizes": "null",
        "job_frequencies": "null",
        "data_field_mapping": "null",
        "extra": "null",
    }
    for key in ("customers", "subscribers", "guests", "orders", "quotes", "reviews", "wishlists", "catalog"):
        data[f"sync_{key}"] = "unknown"
    data.update(overrides)
    return data


def test_password_is_encrypted_and_never_displayed(scope, staff):
    config = WebsiteConfig.objects.get(website=scope.main)
    url = reverse("admin:dotsync_websiteconfig_change", args=[config.pk])
    data = form_data(
        config,
        enabled="true",
        api_user="apiuser-1@apiconnector.com",
        api_password=SECRET,
        api_endpoint="https://r1-api.dotdigital.com",
    )
    response = staff.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.api_password_encrypted.startswith("fernet:") and SECRET not in config.api_password_encrypted
    assert get_config(scope.main).api_password == SECRET
    page = staff.get(url).content.decode()
    assert SECRET not in page and config.api_password_encrypted not in page
    # saving again without typing the password keeps it
    assert staff.post(url, {**data, "api_password": ""}).status_code == 302
    assert get_config(scope.main).api_password == SECRET


def test_invalid_configuration_shows_every_problem_and_saves_nothing(scope, staff):
    config = WebsiteConfig.objects.get(website=scope.main)
    url = reverse("admin:dotsync_websiteconfig_change", args=[config.pk])
    data = form_data(
        config,
        enabled="true",
        api_endpoint="https://evil.example.com",
        customers_address_book_id="5",
        guests_address_book_id="5",
    )
    response = staff.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    for fragment in ("API user is empty", "API password is empty", "evil.example.com", "same address book"):
        assert fragment in page, fragment
    config.refresh_from_db()
    assert config.enabled is None and config.api_endpoint == ""


def test_sync_grids_are_read_only_and_filterable(shop, staff):
    backfill()
    for model in ("contact", "order", "quote", "wishlist", "review", "catalog", "importer"):
        url = reverse(f"admin:dotsync_{model}_changelist")
        response = staff.get(url, {"sync_status__exact": "0"} if model != "importer" else {})
        assert response.status_code == 200, model
    page = staff.get(reverse("admin:dotsync_order_changelist"), {"website__id__exact": shop.scope.outlet.pk})
    content = page.content.decode()
    assert str(shop.orders["bob_outlet"].number) in content
    assert str(shop.orders["alice_en"].number) not in content
    assert staff.get(reverse("admin:dotsync_order_add")).status_code == 403


def test_website_admin_shows_stores_inline(scope, staff):
    page = staff.get(reverse("admin:dotsync_website_change", args=[scope.main.pk])).content.decode()
    assert "main_fr" in page and "outlet_en" not in page
