"""Easy email capture in a real browser (chromium): a guest types an email at Oscar's checkout.

The guest adds a product with the product page's button, opens Oscar's checkout gateway, types an email in
its email field and leaves the field: the capture script posts it, and the basket's ``email_quote`` row
carries that email (what the guests' abandoned-cart series reads). With the tag on, ``ddg.identify`` is
called with the email too (dotdigital's script replaced by a recorder, :mod:`tests.browser.ddg`).
"""

from __future__ import annotations

from typing import Any

import pytest

from dotsync.models import Quote
from dotsync.testing.shop import Shop
from tests.browser.ddg import calls, recording
from tests.storefront.conftest import configure

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.browser.guest_checkout_urls"),
]

EMAIL = "typed.guest@example.com"


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def staleness_of(element: Any) -> Any:
    from selenium.webdriver.support import expected_conditions

    return expected_conditions.staleness_of(element)


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def test_an_email_typed_at_checkout_lands_on_the_baskets_quote_row(
    browser: Any, live_server: Any, shop: Shop, settings: Any
) -> None:
    settings.OSCAR_ALLOW_ANON_CHECKOUT = True  # guests check out with an email: Oscar's gateway asks for it
    configure(
        shop,
        email_capture_enabled=True,
        tracking_profile_id="DM-4410-02",
        api_endpoint="https://r1-api.dotdigital.com",
    )
    shirt = shop.products["shirt"]
    before = set(Quote.objects.values_list("quote_id", flat=True))
    browser.delete_all_cookies()
    with recording(browser):
        browser.get(f"{live_server.url}/catalogue/{shirt.slug}_{shirt.pk}/")
        button = browser.find_element(_by("CSS_SELECTOR"), "#add_to_basket_form button[type=submit]")
        button.click()
        _wait(browser, staleness_of(button))  # Oscar answered the add with a new page
        browser.get(f"{live_server.url}/checkout/")
        field = browser.find_element(_by("ID"), "id_username")  # Oscar's gateway: "My email address is"
        field.send_keys(EMAIL)
        browser.find_element(_by("TAG_NAME"), "h1").click()  # leave the field (blur)

        def captured(_browser: Any) -> bool:
            return Quote.objects.exclude(quote_id__in=before).filter(email=EMAIL).exists()

        _wait(browser, captured)
        assert ["identify", {"email": EMAIL}] in calls(browser)
    row = Quote.objects.exclude(quote_id__in=before).get()
    assert (row.email, row.customer_id, row.item_count) == (EMAIL, None, 1)
    assert row.store_id == shop.scope.main_en.pk
