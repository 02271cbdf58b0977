"""Tracking in a real browser (chromium) on Oscar's own pages: the tag is on the page and its calls fire.

Product, search and thank-you pages of the real shop come from ``live_server``; dotdigital's scripts are
replaced by a recorder (:mod:`tests.browser.ddg`: the test cannot reach ``ddlnk.net``), so the test sees the
calls the page makes: ``ddg.productBrowse``, ``ddg.event("Searched term", ...)`` and the ROI ``_dmTrack``
calls.
"""

from __future__ import annotations

from typing import Any

import pytest

from dotsync.storefront import tracking
from dotsync.testing.shop import Shop
from tests.browser.conftest import click_and_load
from tests.browser.ddg import calls, offline, recording, script_sources
from tests.storefront.conftest import configure

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.storefront.shop_urls"),
]

PROFILE = "DM-4410-02"
PASSWORD = "tracking-browser-password"


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def test_the_tag_fires_on_product_search_and_thank_you_pages(
    browser: Any, live_server: Any, shop: Shop, django_user_model: Any
) -> None:
    configure(shop, enabled=True, tracking_profile_id=PROFILE, api_endpoint="https://r1-api.dotdigital.com")
    shirt = shop.products["shirt"]
    order = shop.orders["alice_en"]
    django_user_model.objects.create_superuser("tracker", "tracker@example.com", PASSWORD)
    browser.delete_all_cookies()
    with recording(browser):
        browser.get(f"{live_server.url}/catalogue/{shirt.slug}_{shirt.pk}/")
        assert f"https://r1.ddlnk.net/{PROFILE}/ddgtag.js" in script_sources(browser)
        browse = [c for c in calls(browser) if c[0] == "productBrowse"]
        assert len(browse) == 1
        assert browse[0][1]["productId"] == str(shirt.pk) and browse[0][1]["name"] == "Oxford Shirt"
        assert browse[0][1]["price"] == 25.0

        browser.get(f"{live_server.url}/search/?q=shirt")
        assert ["event", "Searched term", {"Term": "shirt"}] in calls(browser)

        browser.get(f"{live_server.url}/accounts/login/")  # Oscar's login form (email and password)
        browser.find_element(_by("ID"), "id_login-username").send_keys("tracker@example.com")
        browser.find_element(_by("ID"), "id_login-password").send_keys(PASSWORD)
        click_and_load(browser, browser.find_element(_by("NAME"), "login_submit"))
        # Oscar lets a superuser open any order's thank-you page
        browser.get(f"{live_server.url}/checkout/thank-you/?order_number={order.number}")
        recorded = calls(browser)
        names = sorted(c[2] for c in recorded if c[:2] == ["_dmTrack", "product"])
        assert names == ["Coffee Mug", "Oxford Shirt"]
        assert ["_dmTrack", "CheckOutAmount", tracking.roi_amount(order.total_incl_tax)] in recorded
        assert recorded[-1] == ["_dmCallHandler"]

    with offline(browser):  # no recorder: the tag's own window.ddg queues the call until ddgtag.js loads
        browser.get(f"{live_server.url}/catalogue/{shirt.slug}_{shirt.pk}/")
        queued = browser.execute_script("return window.ddg.queue;")
        assert [name for name, _args in queued] == ["productBrowse"]
        assert queued[0][1][0]["productId"] == str(shirt.pk)


def test_without_a_profile_id_the_pages_carry_no_tag(browser: Any, live_server: Any, shop: Shop) -> None:
    shirt = shop.products["shirt"]
    browser.delete_all_cookies()
    with recording(browser):
        browser.get(f"{live_server.url}/catalogue/{shirt.slug}_{shirt.pk}/")
        assert browser.find_element(_by("CSS_SELECTOR"), "h1").text == "Oxford Shirt"
        assert calls(browser) == []
        assert not any("ddlnk" in src for src in script_sources(browser))
