"""Store-scope settings: store row > website > defaults, with provenance, in the CLI and the admin."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from django.urls import reverse

from dotsync.cli import main
from dotsync.config import STORE_SCHEMA, Layer, env_name, explain, get_store_config
from dotsync.models import StoreConfig, WebsiteConfig

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch):
    for key in STORE_SCHEMA:
        monkeypatch.delenv(env_name(key), raising=False)


def config(*args: str):
    return CliRunner().invoke(main, ["config", *args])


def test_a_store_overrides_its_website_which_overrides_the_defaults(scope, monkeypatch):
    monkeypatch.setenv("DOTSYNC_AC_CART_LIMIT", "6")
    WebsiteConfig.objects.filter(website=scope.main).update(
        extra={"ac_customers_campaign_1": 500, "review_delay_days": 3}
    )
    StoreConfig.objects.create(store=scope.main_fr, overrides={"ac_customers_campaign_1": "501"})
    en, fr, outlet = (get_store_config(s) for s in (scope.main_en, scope.main_fr, scope.outlet_en))
    assert en.cart_step("customers", 1).campaign_id == 500
    assert fr.cart_step("customers", 1).campaign_id == 501  # parsed like every source
    assert outlet.cart_step("customers", 1).campaign_id is None
    assert en.values["review_delay_days"] == fr.values["review_delay_days"] == 3
    assert en.cart_limit == fr.cart_limit == outlet.cart_limit == timedelta(hours=6)
    step2 = fr.cart_step("guests", 2)
    assert (step2.enabled, step2.delay) == (False, timedelta(hours=1))
    assert fr.cart_step("guests", 1).delay == timedelta(minutes=15)
    items = explain(store=scope.main_fr)
    assert items["ac_customers_campaign_1"].layer is Layer.STORE
    assert [label for _, label in items["ac_customers_campaign_1"].sources] == [
        "website main's row: extra['ac_customers_campaign_1']",
        "store main_fr's row: overrides['ac_customers_campaign_1']",
    ]
    assert items["review_delay_days"].layer is Layer.WEBSITE
    assert items["ac_cart_limit"].layer is Layer.ENVIRONMENT


def test_bad_store_values_are_problems_naming_the_row_and_switches_stay_off(scope):
    StoreConfig.objects.create(
        store=scope.main_en,
        overrides={"ac_guests_enabled_1": "maybe", "timeout": 5, "ac_custmers_enabled_1": True},
    )
    cfg = get_store_config(scope.main_en)
    assert cfg.cart_step("guests", 1).enabled is False
    problems = "\n".join(cfg.problems())
    assert "store main_en's row: overrides['ac_guests_enabled_1'] must be true or false" in problems
    assert "overrides['timeout'] is a website setting" in problems
    assert "did you mean 'ac_customers_enabled_1'?" in problems


def test_config_get_and_set_with_store(scope):
    result = config("set", "--store", "main_fr", "ac_customers_send_after_2", "12")
    assert result.exit_code == 0, result.output
    assert StoreConfig.objects.get(store=scope.main_fr).overrides == {"ac_customers_send_after_2": 12}
    got = json.loads(config("get", "--json", "--store", "main_fr", "ac_customers_send_after_2").stdout)
    assert (got["value"], got["source"], got["inherited"], got["store"], got["website"]) == (
        12,
        "store row",
        False,
        "main_fr",
        "main",
    )
    listed = json.loads(config("get", "--json", "--store", "main_en").stdout)["settings"]
    assert set(listed) == set(STORE_SCHEMA)
    assert listed["ac_customers_send_after_2"]["inherited"] is True
    refused = config("set", "--store", "main_fr", "timeout", "30")
    assert refused.exit_code != 0 and "website setting" in refused.output
    bad = config("set", "--store", "main_fr", "ac_cart_limit", "forever")
    assert bad.exit_code != 0 and "store main_fr's row: overrides['ac_cart_limit']" in bad.output
    assert config("set", "--store", "nowhere", "ac_cart_limit", "1").exit_code != 0
    assert config("set", "--store", "main_fr", "ac_customers_send_after_2").exit_code == 0  # unset
    assert StoreConfig.objects.get(store=scope.main_fr).overrides is None


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def test_store_config_admin_validates_and_shows_where_values_come_from(scope, staff):
    add = reverse("admin:dotsync_storeconfig_add")
    refused = staff.post(add, {"store": scope.main_en.pk, "overrides": '{"ac_cart_limit": -1}'})
    assert refused.status_code == 200 and "overrides[&#x27;ac_cart_limit&#x27;]" in refused.content.decode()
    assert not StoreConfig.objects.exists()
    saved = staff.post(add, {"store": scope.main_en.pk, "overrides": '{"ac_cart_limit": 8}'})
    assert saved.status_code == 302
    row = StoreConfig.objects.get(store=scope.main_en)
    page = staff.get(reverse("admin:dotsync_storeconfig_change", args=[row.pk])).content.decode()
    assert "store main_en&#x27;s row: overrides[&#x27;ac_cart_limit&#x27;]" in page
    assert "review_delay_days" in page
