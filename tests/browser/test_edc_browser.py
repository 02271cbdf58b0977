"""The basket's dynamic content in a real browser (chromium): rendered, readable, and kept as a screenshot.

dotdigital fetches the fragment and pastes it into an email; a browser shows what the email's reader
sees. The fragment comes from the live server (the real Oscar shop's open basket), with the website's
passcode; its image is kept in ``var/artifacts/edc-basket.png`` (CI keeps the folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dotsync.models import WebsiteConfig
from dotsync.testing.shop import Shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSCODE = "browser-edc-passcode"


def test_the_basket_fragment_renders_and_is_screenshotted(
    browser: Any, live_server: Any, shop: Shop, screenshot_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    row, _ = WebsiteConfig.objects.get_or_create(website=shop.scope.main)
    row.set_edc_passcode(PASSCODE)
    row.save()
    basket = shop.baskets["alice_open"]
    names = [line.product.get_title() for line in basket.all_lines()]
    assert names, "the shared shop's open basket has lines"

    browser.get(f"{live_server.url}/dotsync/edc/main/basket/{basket.pk}/?code={PASSCODE}")
    table = browser.find_element(By.TAG_NAME, "table")
    assert table.is_displayed() and table.size["width"] > 100 and table.size["height"] > 40
    text = table.text
    for name in names:
        assert name in text
    restore = [
        a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, "a[href*='/dotsync/cart/main/']")
    ]
    assert restore, "the fragment links back to a signed cart-restore URL"
    shot = screenshot_dir / "edc-basket.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5_000

    browser.get(f"{live_server.url}/dotsync/edc/main/basket/{basket.pk}/?code=wrong")
    assert "401" in browser.find_element(By.TAG_NAME, "body").text
