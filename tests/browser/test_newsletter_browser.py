"""Subscribe -> confirm -> preferences (logged in) -> unsubscribe in chromium against the live server.

The shop is the real Oscar shop (its login page too); after each step the ``sync all`` pass runs against
the sandbox over loopback and ``newsletter_subscriber`` and the platform's address books must agree. The
confirmation and unsubscribe links are read from the mail the page sent (Django's test mail outbox).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from dotsync.models import NewsletterSubscriber
from dotsync.models.newsletter import SubscriberStatus
from dotsync.testing.shop import Shop
from tests.browser.conftest import click_and_load
from tests.storefront.newsletter_platform import EXTRA_BOOK, assert_agree, connect, run_sync

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EMAIL = "walter@example.com"
PASSWORD = "walter-browser-pass-1"
LINK = re.compile(r"(https?://\S+/dotsync/newsletter/(confirm|unsubscribe)/[^/\s]+/)")


def _outcome(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, "dotsync-newsletter-outcome").get_attribute("data-outcome"))


def test_subscribe_confirm_preferences_unsubscribe(
    browser: Any, live_server: Any, shop: Shop, sandbox: Any, django_user_model: Any
) -> None:
    from selenium.webdriver.common.by import By

    store = shop.scope.main_en
    store.requires_confirmation = True  # double opt-in in the store the live server's Site maps to
    store.save()
    platform = connect(sandbox, shop.scope.main)
    walter = django_user_model.objects.create_user(username="walter", email=EMAIL, password=PASSWORD)
    browser.delete_all_cookies()

    # subscribe: the row waits for confirmation, the platform has nothing in the subscribers book
    browser.get(f"{live_server.url}/dotsync/newsletter/subscribe/")
    browser.find_element(By.NAME, "email").send_keys(EMAIL)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#dotsync-subscribe button[type=submit]"))
    assert _outcome(browser) == "confirmation_sent"
    row = NewsletterSubscriber.objects.get(subscriber_email=EMAIL, store=store)
    assert row.subscriber_status == SubscriberStatus.UNCONFIRMED
    links = dict((kind, url) for url, kind in LINK.findall(mail.outbox[-1].body))
    run_sync()
    assert_agree(platform, EMAIL, store)

    # confirm: subscribed here and in the platform's subscribers book
    browser.get(links["confirm"])
    assert _outcome(browser) == "subscribed"
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED
    run_sync()
    assert_agree(platform, EMAIL, store)
    assert platform.book_name("subscribers") in platform.books(EMAIL)

    # preferences, through Oscar's login page: join the Offers book and change the first name
    browser.get(f"{live_server.url}/dotsync/newsletter/preferences/")
    browser.find_element(By.NAME, "login-username").send_keys(EMAIL)
    browser.find_element(By.NAME, "login-password").send_keys(PASSWORD)
    click_and_load(browser, browser.find_element(By.NAME, "login_submit"))
    form = browser.find_element(By.ID, "dotsync-preferences")
    assert form.find_element(By.NAME, "subscribed").is_selected()
    form.find_element(By.NAME, f"book_{platform.offers_book}").click()
    first = form.find_element(By.NAME, "field_firstname")
    first.clear()
    first.send_keys("Walt")
    click_and_load(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.find_element(By.NAME, f"book_{platform.offers_book}").is_selected()
    walter.refresh_from_db()
    assert walter.first_name == "Walt"
    run_sync()
    assert EXTRA_BOOK in platform.books(EMAIL)
    contact = platform.contact(EMAIL)
    assert contact is not None and contact["data_fields"].get("FIRSTNAME") == "Walt"
    assert_agree(platform, EMAIL, store)

    # unsubscribe from the mail's link: a button, then unsubscribed here and out of the book
    browser.get(links["unsubscribe"])
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#dotsync-unsubscribe button[type=submit]"))
    assert _outcome(browser) == "unsubscribed"
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.UNSUBSCRIBED
    run_sync()
    assert_agree(platform, EMAIL, store)
    assert platform.book_name("subscribers") not in platform.books(EMAIL)
