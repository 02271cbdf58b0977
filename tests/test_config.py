"""Settings that lie (issue 8, part 2): strict typed parsing of every key from every source, problems that
name their source, jobs that refuse a misconfigured website, the default SECRET_KEY, and rotate-key.

The property tests generate values per key for each source (environment text, ``settings.DOTSYNC``
JSON, the website row's ``extra`` JSON): the result is a typed value or a problem naming the source,
never another exception, and never a switch turned on by a word that does not mean "on".
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotsync import config
from dotsync.cli import main
from dotsync.config import SCHEMA, env_name, get_config
from dotsync.config_types import boolean
from dotsync.crypto import DEFAULT_SECRET_KEY, allow_default_key, decrypt, encrypt
from dotsync.exceptions import ConfigurationError
from dotsync.install.sandbox_accounts import SandboxAccount, configure_website
from dotsync.jobs import contacts, orders
from dotsync.models import Order, SyncStatus, WebsiteConfig
from tests.jobs.batch_helpers import batches, enable, imported_contact, order_row

BOOL_KEYS = sorted(k for k, parse in SCHEMA.items() if parse is boolean)
TRUE_WORDS = {"true", "1", "yes"}


@contextmanager
def environ(**values: str) -> Iterator[None]:
    """Set ``DOTSYNC_*`` variables for the block (hypothesis examples cannot use monkeypatch)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch):
    for key in SCHEMA:
        monkeypatch.delenv(env_name(key), raising=False)


# --- the defects, one by one --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DOTSYNC_TIMEOUT", "abc"),
        ("DOTSYNC_MAX_ACTIVE_IMPORTS", "abc"),
        ("DOTSYNC_BATCH_SIZES", "[1]"),
        ("DOTSYNC_JOB_FREQUENCIES", "5"),
        ("DOTSYNC_DATA_FIELD_MAPPING", "notjson"),
        ("DOTSYNC_ENABLED", "maybe"),
        ("DOTSYNC_SYNC_ORDERS", "off"),
        ("DOTSYNC_ORDER_STATUSES", ""),
        ("DOTSYNC_SALES_DATA_ORDER_STATUSES", "complete,,processing"),
        ("DOTSYNC_BATCH_SIZES", '{"contact": 5}'),
        ("DOTSYNC_JOB_FREQUENCIES", '{"orders": -1}'),
    ],
)
def test_a_bad_environment_value_is_a_configuration_error_naming_it(scope, monkeypatch, variable, value):
    enable(scope.main)
    monkeypatch.setenv(variable, value)

    cfg = get_config(scope.main)  # never raises: the problem is kept
    with pytest.raises(ConfigurationError) as caught:
        cfg.validate()

    assert any(p.startswith(f"environment variable {variable} ") for p in caught.value.problems)
    assert caught.value.problems[0].startswith(f"environment variable {variable} "), caught.value.problems


@pytest.mark.parametrize(
    ("value", "expected"), [("complete", ("complete",)), ('["complete"]', ("complete",))]
)
def test_order_statuses_from_one_word_is_that_status_not_its_letters(scope, monkeypatch, value, expected):
    monkeypatch.setenv("DOTSYNC_ORDER_STATUSES", value)
    monkeypatch.setenv("DOTSYNC_SALES_DATA_ORDER_STATUSES", "complete, processing")

    cfg = get_config(scope.main)

    assert cfg.order_statuses == expected
    assert cfg.sales_data_order_statuses == ("complete", "processing")
    assert cfg.problems() == []


def test_order_statuses_complete_keeps_a_synced_complete_order_on_the_platform(shop, monkeypatch):
    """Was: the statuses c, o, m, p, l, e, t, so the synced order was deleted from the platform."""
    scope, o = shop.scope, shop.orders
    monkeypatch.setenv("DOTSYNC_ORDER_STATUSES", "complete")
    enable(scope.main)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    row = order_row(o["alice_en"], scope.main_en)
    Order.objects.filter(pk=row.pk).update(
        sync_status=SyncStatus.MODIFIED, last_imported_at=timezone.now(), payload_hash="f" * 64
    )

    result = orders.run()

    assert result.errors == []
    [(batch, _env)] = batches("Orders")
    assert batch.import_mode != "Single_Delete"


@pytest.mark.parametrize("word", ["False", "false", "NO", "0", " no "])
def test_sync_orders_false_in_any_spelling_sends_nothing(shop, monkeypatch, word):
    scope, o = shop.scope, shop.orders
    monkeypatch.setenv("DOTSYNC_SYNC_ORDERS", word)
    monkeypatch.setenv("DOTSYNC_SYNC_QUOTES", "false")
    enable(scope.main)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    order_row(o["alice_en"], scope.main_en)

    result = orders.run()

    assert result.errors == [] and batches() == []


@pytest.mark.parametrize("word", ["False", "no", "0"])
def test_enabled_false_in_any_spelling_keeps_syncing_off(shop, monkeypatch, word):
    scope = shop.scope
    monkeypatch.setenv("DOTSYNC_ENABLED", word)
    enable(scope.main, enabled=None)  # credentials, but the row inherits "enabled"

    assert get_config(scope.main).enabled is False
    assert contacts.run().counts == {} and batches() == []


@pytest.mark.parametrize("word", ["off", "maybe", "nein", "2", ""])
def test_an_unreadable_switch_refuses_the_website_and_says_why(shop, monkeypatch, word):
    """A misconfigured global never enables syncing, nor deletes orders: the job refuses, naming it."""
    scope, o = shop.scope, shop.orders
    monkeypatch.setenv("DOTSYNC_ENABLED", word)
    monkeypatch.setenv("DOTSYNC_SYNC_ORDERS", word)
    enable(scope.main, enabled=None)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    row = order_row(o["alice_en"], scope.main_en)
    Order.objects.filter(pk=row.pk).update(
        sync_status=SyncStatus.MODIFIED, last_imported_at=timezone.now(), payload_hash="f" * 64
    )

    cfg = get_config(scope.main)
    result = orders.run()

    assert cfg.enabled is False and cfg.sync_orders is False and {"enabled", "sync_orders"} <= cfg.invalid
    assert batches() == []
    assert any("environment variable DOTSYNC_ENABLED" in e for e in result.errors)
    assert any("environment variable DOTSYNC_SYNC_ORDERS" in e for e in result.errors)
    assert contacts.run().errors  # every job refuses it, not only the orders job


def test_a_bad_global_stops_every_job_of_an_enabled_website(shop, monkeypatch):
    scope = shop.scope
    monkeypatch.setenv("DOTSYNC_TIMEOUT", "abc")
    enable(scope.main)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    order_row(shop.orders["alice_en"], scope.main_en)

    for job in (contacts, orders):
        result = job.run()
        assert any("environment variable DOTSYNC_TIMEOUT" in e for e in result.errors), result.errors
    assert batches() == []


# --- every problem at once, each naming its source -------------------------------------------------------


def test_every_problem_of_every_source_is_reported_at_once(scope, monkeypatch):
    monkeypatch.setenv("DOTSYNC_TIMEOUT", "abc")
    monkeypatch.setenv("DOTSYNC_SYNC_ORDERS", "maybe")
    row = enable(scope.main, order_statuses="complete", batch_sizes={"contacts": -1})
    row.extra = {"max_active_imports": 99, "sync_order": True}
    row.save()
    bad = {"job_frequencies": {"orders": "often"}, "catalog_level": "website"}
    with override_settings(DOTSYNC=bad), pytest.raises(ConfigurationError) as caught:
        get_config(scope.main).validate()

    problems = caught.value.problems
    expected_sources = [
        "settings.DOTSYNC['job_frequencies']",
        "settings.DOTSYNC['catalog_level']",
        "environment variable DOTSYNC_SYNC_ORDERS",
        "environment variable DOTSYNC_TIMEOUT",
        "website main's row: batch_sizes",
        "website main's row: extra['max_active_imports']",
        "website main's row: extra['sync_order']",
    ]
    assert len(problems) == len(expected_sources), problems
    for source in expected_sources:
        assert any(p.startswith(source) for p in problems), (source, problems)
    # the row's extra keys come back in the database's order (PostgreSQL's jsonb sorts them)
    assert any(
        p.startswith("website main's row: extra['sync_order']") and "did you mean 'sync_orders'?" in p
        for p in problems
    ), problems
    assert get_config(scope.main).order_statuses == ("complete",)  # a JSON string in the row: one status
    message = str(caught.value)
    assert message.count("\n  - ") == len(problems)


def test_unknown_settings_keys_are_problems_with_a_suggestion(scope):
    with override_settings(DOTSYNC={"order_status": ["complete"]}):
        problems = get_config(scope.main).problems()
    assert problems == [
        "settings.DOTSYNC['order_status'] is not a dotsync setting; did you mean 'order_statuses'?"
    ]


def test_maps_merge_key_by_key_over_each_layer(scope, monkeypatch):
    monkeypatch.setenv("DOTSYNC_BATCH_SIZES", '{"contacts": 500}')
    enable(scope.main, batch_sizes={"insight": 7})
    with override_settings(DOTSYNC={"batch_sizes": {"page": 50, "contacts": 9}}):
        cfg = get_config(scope.main)
    assert cfg.problems() == []
    assert cfg.batch_sizes == {**config.DEFAULT_BATCH_SIZES, "page": 50, "contacts": 500, "insight": 7}


def test_a_plain_password_in_extra_is_refused_and_never_shown(scope):
    enable(scope.main, extra={"api_password": "plain-secret"})
    problems = get_config(scope.main).problems()
    assert len(problems) == 1 and "must not hold the password" in problems[0]
    assert "plain-secret" not in problems[0]
    assert get_config(scope.main).api_password == "secret-password"  # the encrypted one still applies


def test_a_password_that_cannot_be_decrypted_is_a_problem_not_a_crash(scope):
    enable(scope.main)
    WebsiteConfig.objects.filter(website=scope.main).update(api_password_encrypted="fernet:garbage")
    problems = get_config(scope.main).problems()
    assert len(problems) == 1 and problems[0].startswith("website main's row: stored API password cannot")
    assert "rotate-key" in problems[0]


# --- generated values, per key and source ----------------------------------------------------------------

# what a JSON column can hold on every database: no NaN or infinity, no NUL (PostgreSQL's jsonb refuses it)
json_text = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(json_text, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(json_text, max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)
env_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
    st.sampled_from(
        [
            "true",
            "False",
            "YES",
            "no",
            "off",
            "on",
            "1",
            "0",
            "2",
            "-1",
            "1e3",
            "1.5",
            "nan",
            "inf",
            "null",
            "",
            " ",
            "[1]",
            "[]",
            '["complete"]',
            "complete",
            "a,,b",
            "5",
            '{"contacts": 5}',
            '{"orders": 0}',
            '{"title": ""}',
            '{"title": "not a name!"}',
            "https://r1-api.dotdigital.com",
            "store",
            "99999999999999999999",
        ]
    ),
    json_values.map(json.dumps),
)


def _check(cfg: config.WebsiteSettings, key: str, source: str, raw: Any) -> None:
    """``key`` from ``source`` is a well-typed value, or a problem naming ``source``; never a lying True."""
    problems = cfg.problems()
    if key in cfg.invalid:
        assert any(p.startswith(source + " ") for p in problems), (key, raw, problems)
        return
    assert not any(p.startswith(source) for p in problems), (key, raw, problems)
    if key in config.STORE_SCHEMA:  # store-scope keys: the website's value, a store may override it
        value = cfg.store_scope[key]
        if key in BOOL_KEYS:
            assert isinstance(value, bool)
        elif key.endswith("_id") or "_campaign_" in key:
            assert value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
        elif key == "review_order_status":
            assert isinstance(value, str) and value and value == value.strip()
        elif key in ("consent_text", "consent_url", "programme_order_status"):
            assert isinstance(value, str)
        elif key == "sms_opt_in":
            assert value in config.SMS_OPT_IN
        elif key.startswith("sms_"):  # a message slot's status or text (a message's placeholders are known)
            assert isinstance(value, str) and value == value.strip()
            assert "{{" not in config.SMS_PLACEHOLDER_RE.sub("", value)
        else:
            assert isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return
    value = getattr(cfg, key)
    if key in BOOL_KEYS:
        assert isinstance(value, bool)
        if value:  # from a word that means it (settings and JSON rows may also say true or 1)
            assert raw is True or raw == 1 or (isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS)
    elif key == "batch_sizes":
        assert all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value.values())
    elif key == "job_frequencies":  # minutes between runs; 0 switches the job off ("disabled")
        assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values())
    elif key == "data_field_mapping":
        assert all(isinstance(v, str) for v in value.values())
    elif key.endswith("order_statuses"):
        assert value and all(isinstance(s, str) and s and s == s.strip() for s in value)
    elif key == "timeout":
        assert isinstance(value, float) and 0 < value <= 86400
    elif key == "alert_recipients":
        assert isinstance(value, tuple)
        assert all(isinstance(r, str) and (r.isdigit() or "@" in r) for r in value)
    elif key == "alert_window":
        assert isinstance(value, int) and not isinstance(value, bool) and 5 <= value <= 72 * 60
    elif key == "cleaner_retention_days":
        assert isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3650
    elif key in ("max_active_imports", "max_retries"):
        assert isinstance(value, int) and not isinstance(value, bool)
    elif key.endswith("address_book_id"):
        assert value is None or (isinstance(value, int) and value > 0)
    elif key == "edc_allowed_ips":
        assert isinstance(value, tuple) and all(ipaddress.ip_network(v) for v in value)
    elif key.endswith("_product_ids"):
        assert isinstance(value, tuple)
        assert all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    elif key in ("edc_items", "edc_image_size", "cart_restore_max_age"):
        assert isinstance(value, int) and not isinstance(value, bool) and value > 0
    elif key == "newsletter_books":
        assert isinstance(value, tuple)
        assert all(isinstance(b, int) and not isinstance(b, bool) and b > 0 and label for b, label in value)
    elif key == "newsletter_fields":
        assert isinstance(value, tuple) and set(value) <= set(config.NEWSLETTER_FIELDS)
    elif key == "newsletter_confirm_max_age":
        assert isinstance(value, int) and not isinstance(value, bool) and value > 0
    elif key in ("edc_display_type", "edc_period"):
        assert value in ("grid", "list", "D", "W", "M")
    elif key == "email_capture_selectors":
        assert isinstance(value, tuple) and all(isinstance(s, str) and s and s == s.strip() for s in value)
    elif key == "tracking_profile_id":
        assert isinstance(value, str) and (not value or re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value))
    else:
        assert isinstance(value, str)


@pytest.mark.django_db
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(SCHEMA)), raw=env_text)
def test_any_environment_text_is_a_typed_value_or_a_problem_naming_the_variable(scope, key, raw):
    with environ(**{env_name(key): raw}):
        try:
            cfg = get_config(scope.main)
        except Exception as exc:  # pragma: no cover - the property's failure message
            raise AssertionError(f"{env_name(key)}={raw!r} raised {exc!r}") from exc
    _check(cfg, key, f"environment variable {env_name(key)}", raw)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(SCHEMA)), raw=json_values | env_text)
def test_any_settings_value_is_a_typed_value_or_a_problem_naming_the_key(scope, key, raw):
    with override_settings(DOTSYNC={key: raw}):
        cfg = get_config(scope.main)
    _check(cfg, key, f"settings.DOTSYNC[{key!r}]", raw)


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(SCHEMA)), raw=json_values | env_text)
def test_any_row_extra_value_is_a_typed_value_or_a_problem_naming_the_row(scope, key, raw):
    WebsiteConfig.objects.filter(website=scope.main).update(extra={key: raw})
    cfg = get_config(scope.main)
    _check(cfg, key, f"website main's row: extra[{key!r}]", raw)


# --- the default SECRET_KEY ------------------------------------------------------------------------------


@pytest.fixture
def default_key(monkeypatch, settings):
    monkeypatch.delenv("DOTSYNC_ENCRYPTION_KEY", raising=False)
    settings.SECRET_KEY = DEFAULT_SECRET_KEY


def test_no_password_is_stored_under_the_default_key(scope, default_key):
    row = WebsiteConfig.objects.get(website=scope.main)
    with pytest.raises(ConfigurationError) as caught:
        row.set_api_password("pa55")
    assert "SECRET_KEY" in str(caught.value) and "DOTSYNC_ENCRYPTION_KEY" in str(caught.value)
    assert "pa55" not in str(caught.value)
    with allow_default_key():  # the demo's explicit allowance
        row.set_api_password("pa55")
    assert row.get_api_password() == "pa55"
    with pytest.raises(ConfigurationError):
        encrypt("again")  # the allowance ended with its block


def test_a_loopback_sandbox_account_may_use_the_default_key_a_real_endpoint_may_not(scope, default_key):
    account = SandboxAccount(
        "u@apiconnector.com", "sandbox-pass", {"customers": 1, "subscribers": 2, "guests": 3}
    )
    configure_website(scope.main, account, "http://127.0.0.1:9")
    assert get_config(scope.main).api_password == "sandbox-pass"
    with pytest.raises(ConfigurationError):
        configure_website(scope.outlet, account, "https://r1-api.dotdigital.com")


def test_status_warns_while_the_default_key_is_in_use(scope, default_key):
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    [warning] = json.loads(result.output)["warnings"]
    assert "default SECRET_KEY" in warning and "rotate-key" in warning
    human = CliRunner().invoke(main, ["status"])
    assert "Warning: API passwords are encrypted with dotsync's public default SECRET_KEY" in human.output


def test_status_has_no_warning_with_a_key_of_ones_own(scope):
    result = CliRunner().invoke(main, ["status", "--json"])
    assert json.loads(result.output)["warnings"] == []


def test_admin_warns_about_the_default_key_and_refuses_a_password_under_it(scope, default_key, admin_client):
    row = WebsiteConfig.objects.get(website=scope.main)
    listing = admin_client.get(reverse("admin:dotsync_websiteconfig_changelist")).content.decode()
    assert "public default SECRET_KEY" in listing
    url = reverse("admin:dotsync_websiteconfig_change", args=[row.pk])
    assert "public default SECRET_KEY" in admin_client.get(url).content.decode()
    from tests.test_admin import form_data

    response = admin_client.post(
        url, form_data(row, api_user="u@apiconnector.com", api_password="typed-secret")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "refusing to store a password" in page and "typed-secret" not in page
    row.refresh_from_db()
    assert row.api_password_encrypted == ""


# --- rotate-key -----------------------------------------------------------------------------------------


def _store(row: WebsiteConfig, key: str, password: str, monkeypatch) -> None:
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", key)
    row.set_api_password(password)
    row.save()


def test_rotate_key_re_encrypts_every_password_and_prints_no_secret(scope, monkeypatch):
    main_row = WebsiteConfig.objects.get(website=scope.main)
    outlet_row = WebsiteConfig.objects.get(website=scope.outlet)
    _store(main_row, "old-key-1", "main-secret", monkeypatch)
    _store(outlet_row, "old-key-1", "outlet-secret", monkeypatch)
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "new-key-2")
    monkeypatch.setenv("DOTSYNC_OLD_SECRET_KEY", "old-key-1")
    assert get_config(scope.main).problems()  # undecryptable before the rotation

    result = CliRunner().invoke(main, ["rotate-key", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "rotated": 2,
        "already_current": 0,
        "websites": {"rotated": ["main", "outlet"], "already_current": []},
    }
    for secret in ("main-secret", "outlet-secret", "old-key-1", "new-key-2"):
        assert secret not in result.output
    assert get_config(scope.main).api_password == "main-secret"
    assert get_config(scope.outlet).api_password == "outlet-secret"
    again = CliRunner().invoke(main, ["rotate-key"])  # a second run is harmless
    assert (
        again.exit_code == 0
        and "Re-encrypted 0 API password(s) with the current key (2 already" in again.output
    )


def test_rotate_key_reads_the_old_key_from_stdin(scope, monkeypatch):
    _store(WebsiteConfig.objects.get(website=scope.main), "old-key-1", "main-secret", monkeypatch)
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "new-key-2")
    result = CliRunner().invoke(main, ["rotate-key", "--old-key-stdin", "--json"], input="old-key-1\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rotated"] == 1


def test_rotate_key_changes_nothing_when_a_password_decrypts_with_neither_key(scope, monkeypatch):
    main_row = WebsiteConfig.objects.get(website=scope.main)
    _store(main_row, "old-key-1", "main-secret", monkeypatch)
    _store(WebsiteConfig.objects.get(website=scope.outlet), "some-other-key", "outlet-secret", monkeypatch)
    before = WebsiteConfig.objects.get(website=scope.main).api_password_encrypted
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "new-key-2")
    monkeypatch.setenv("DOTSYNC_OLD_SECRET_KEY", "old-key-1")

    result = CliRunner().invoke(main, ["rotate-key"])

    assert result.exit_code == 2
    assert "website outlet's stored API password decrypts with neither" in result.output
    assert "outlet-secret" not in result.output and "old-key-1" not in result.output
    assert WebsiteConfig.objects.get(website=scope.main).api_password_encrypted == before  # rolled back
    monkeypatch.setenv("DOTSYNC_ENCRYPTION_KEY", "old-key-1")
    assert decrypt(before) == "main-secret"


def test_rotate_key_needs_an_old_key_and_a_key_of_ones_own(scope, monkeypatch, settings):
    monkeypatch.delenv("DOTSYNC_OLD_SECRET_KEY", raising=False)
    missing = CliRunner().invoke(main, ["rotate-key"])
    assert missing.exit_code == 2 and "DOTSYNC_OLD_SECRET_KEY" in missing.output
    monkeypatch.setenv("DOTSYNC_OLD_SECRET_KEY", "old-key-1")
    monkeypatch.delenv("DOTSYNC_ENCRYPTION_KEY")
    settings.SECRET_KEY = DEFAULT_SECRET_KEY
    to_default = CliRunner().invoke(main, ["rotate-key"])
    assert to_default.exit_code == 2 and "public default" in to_default.output
