"""The admin in a real browser (chromium): the dashboard renders per-website rows and its charts, and a
website's configuration saves from the form (a bad value shows its problem and saves nothing).

The data is real: contact imports sent to the sandbox over loopback HTTP by ``sync all`` (rows imported per
website, API calls recorded per hour for the charts), and a failed import the monitor job recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from dotsync.config import get_config
from dotsync.jobs import monitor
from dotsync.jobs.runner import sync_all
from dotsync.models import ApiUsage, Contact, SyncStatus, WebsiteConfig
from dotsync.testing.platform_setup import configure_websites
from tests.browser.conftest import click_and_load
from tests.jobs.importer_helpers import contact_batch, contacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def test_the_dashboard_renders_rows_per_website_and_the_charts(
    admin_page: Any, live_server: Any, scope: Any, sandbox: Any, screenshot_dir: Path
) -> None:
    configure_websites(sandbox, [scope.main, scope.outlet])
    contact_batch(scope.main, contacts(scope.main, ["ann@example.com", "bob@example.com"]))
    contact_batch(scope.outlet, contacts(scope.outlet, ["cy@example.com"]))
    summary = sync_all(timeout=30)
    assert summary["drained"]
    assert Contact.objects.filter(sync_status=SyncStatus.IMPORTED).count() == 3
    calls = sum(ApiUsage.objects.values_list("calls", flat=True))
    assert calls > 0
    monitor.run()

    browser = admin_page
    browser.get(f"{live_server.url}/admin/")
    click_and_load(browser, browser.find_element(_by("CSS_SELECTOR"), "a[href$='/admin/dotsync/dashboard/']"))
    assert browser.title.startswith("dotsync dashboard")

    header = [th.text.lower() for th in browser.find_elements(_by("CSS_SELECTOR"), "#streams thead th")]
    for code, expected in (("main", 2), ("outlet", 1)):
        row = browser.find_element(
            _by("CSS_SELECTOR"), f'#streams tr[data-table="email_contact"][data-website="{code}"]'
        )
        cells = [td.text for td in row.find_elements(_by("TAG_NAME"), "td")]
        assert cells[header.index("imported")] == str(expected), (code, cells)
        assert cells[header.index("total")] == str(expected)

    assert browser.find_element(_by("CSS_SELECTOR"), '[data-usage="calls"]').text == str(calls)
    for chart in ("chart-calls", "chart-throttled"):
        svg = browser.find_element(_by("ID"), chart)
        assert svg.is_displayed() and svg.size["width"] > 0 and svg.size["height"] > 0
        assert len(svg.find_elements(_by("CSS_SELECTOR"), "rect")) == 24
    bars = browser.find_elements(_by("CSS_SELECTOR"), "#chart-calls rect.bar")
    drawn = [b for b in bars if b.size["height"] > 0]  # laid out by the browser, not just in the markup
    assert drawn and max(b.size["height"] for b in drawn) >= 50  # the busiest hour is (nearly) full height

    jobs = browser.find_elements(_by("CSS_SELECTOR"), "#jobs tbody tr[data-job]")
    assert {r.get_attribute("data-job") for r in jobs} >= {"contacts", "importer", "monitor"}
    assert browser.find_element(_by("ID"), "alerts").is_displayed()

    shot = screenshot_dir / "dashboard.png"
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(int(height) + 300, 6000))  # the whole page, charts included
    try:
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        browser.set_window_size(1400, 1000)


def _field(browser: Any, name: str) -> Any:
    return browser.find_element(_by("NAME"), name)


def _select(browser: Any, name: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(_field(browser, name)).select_by_value(value)


def _type(browser: Any, name: str, text: str) -> None:
    element = _field(browser, name)
    element.clear()
    element.send_keys(text)


def test_a_configuration_change_saves_from_the_form_and_a_bad_value_shows_its_problem(
    admin_page: Any, live_server: Any, scope: Any, sandbox: Any
) -> None:
    configure_websites(sandbox, [scope.main])
    config = WebsiteConfig.objects.get(website=scope.main)
    url = live_server.url + reverse("admin:dotsync_websiteconfig_change", args=[config.pk])
    browser = admin_page

    browser.get(url)
    assert "Alerts" in browser.find_element(_by("ID"), "content-main").text
    _select(browser, "sync_orders", "false")
    _select(browser, "alert_emails", "true")
    _type(browser, "alert_recipients", "ops@example.com, 7")
    _type(browser, "alert_window", "120")
    click_and_load(browser, browser.find_element(_by("NAME"), "_save"))

    assert "was changed successfully" in browser.find_element(_by("CSS_SELECTOR"), "ul.messagelist").text
    config.refresh_from_db()
    assert (config.sync_orders, config.alert_emails, config.alert_window) == (False, True, 120)
    cfg = get_config(scope.main)
    assert cfg.alert_recipients == ("ops@example.com", "7") and not cfg.sync_orders
    assert cfg.api_password  # the write-only password was kept (its field was left empty)

    browser.get(url)
    _type(browser, "alert_window", "2")
    _type(browser, "alert_recipients", "ops@example.com, nobody")
    click_and_load(browser, browser.find_element(_by("NAME"), "_save"))

    errors = browser.find_element(_by("CSS_SELECTOR"), ".errornote").text
    assert "correct the error" in errors.lower()
    page = browser.find_element(_by("ID"), "content-main").text
    assert "alert_window must be a whole number between 5 and 4320, not 2" in page
    assert "alert_recipients must hold staff user ids or email addresses only, not 'nobody'" in page
    config.refresh_from_db()
    assert (config.alert_window, config.alert_recipients) == (120, "ops@example.com, 7")  # nothing saved
