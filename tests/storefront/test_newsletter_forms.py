"""The subscription forms through Django's test client on the real Oscar shop, synced to the sandbox.

After each step the ``sync all`` pass runs (contacts job, importer) and ``newsletter_subscriber`` and the
sandbox contact's address books must agree. Nothing is mocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dotsync.models import ContactConsent, NewsletterSubscriber, StoreConfig
from dotsync.models.newsletter import ContactBook, SubscriberStatus
from dotsync.storefront.newsletter import tokens, views
from dotsync.testing.shop import Shop
from tests.storefront.newsletter_platform import EXTRA_BOOK, Platform, assert_agree, connect, run_sync

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/dotsync/newsletter/subscribe/"
PREFERENCES = "/dotsync/newsletter/preferences/"
NEW = "nina@example.com"
LINK = re.compile(r"https?://\S+/dotsync/newsletter/(confirm|unsubscribe)/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # the rate limiter's counters
    yield
    cache.clear()


@pytest.fixture
def platform(shop: Shop, sandbox: Any) -> Platform:
    """The main website on a sandbox account, with the Offers book and first name on the preferences page."""
    return connect(sandbox, shop.scope.main)


@pytest.fixture
def french(shop: Shop, settings: Any) -> Any:
    """Requests land in main_fr (its Site), the store that requires confirmation, with consent on."""
    store = shop.scope.main_fr
    assert store.requires_confirmation
    settings.SITE_ID = store.site_id
    StoreConfig.objects.update_or_create(
        store=store,
        defaults={
            "overrides": {
                "consent_enabled": True,
                "consent_text": "I agree to receive the newsletter.",
                "consent_url": "https://fr.main.example.com/newsletter",
            }
        },
    )
    return store


def links_in(message: mail.EmailMessage) -> dict[str, str]:
    """The newsletter links of a mail: ``confirm``/``unsubscribe`` -> the site-relative path."""
    return {kind: f"/dotsync/newsletter/{kind}/{token}/" for kind, token in LINK.findall(message.body)}


@pytest.mark.slow  # end to end by nature: three sync passes against the sandbox
def test_double_opt_in_subscribe_confirm_unsubscribe_agree_with_the_platform(
    shop: Shop, platform: Platform, french: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="TestBrowser/1.0")
    page = client.get(SUBSCRIBE)
    assert page.status_code == 200 and "I agree to receive the newsletter." in page.content.decode()

    refused = client.post(SUBSCRIBE, {"email": NEW})  # consent is required when the store has it on
    assert refused.status_code == 400
    assert not NewsletterSubscriber.objects.filter(subscriber_email=NEW).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(SUBSCRIBE, {"email": "Nina@Example.com", "consent": "on"})
    assert done.status_code == 200 and 'data-outcome="confirmation_sent"' in done.content.decode()
    row = NewsletterSubscriber.objects.get(subscriber_email=NEW, store=french)
    assert row.subscriber_status == SubscriberStatus.UNCONFIRMED and row.subscriber_confirm_code
    consent = ContactConsent.objects.get(email_contact__email=NEW)
    assert (consent.consent_text, consent.consent_ip, consent.consent_user_agent) == (
        "I agree to receive the newsletter.",
        "203.0.113.7",
        "TestBrowser/1.0",
    )
    assert [m.to for m in mail.outbox] == [[NEW]]
    urls = links_in(mail.outbox[0])
    assert set(urls) == {"confirm", "unsubscribe"}
    run_sync()
    assert_agree(platform, NEW, french)  # unconfirmed: not in the subscribers book
    assert platform.book_name("subscribers") not in platform.books(NEW)

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.get(urls["confirm"])
    assert confirmed.status_code == 200 and 'data-outcome="subscribed"' in confirmed.content.decode()
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED and not row.subscriber_confirm_code
    again = client.get(urls["confirm"])  # the link works once; a second click says so
    assert again.status_code == 200 and 'data-outcome="already"' in again.content.decode()
    run_sync()
    assert_agree(platform, NEW, french)
    contact = platform.contact(NEW)
    assert contact is not None and contact["opt_in_type"] == "Double"  # the store requires confirmation
    ContactConsent.objects.get(pk=consent.pk, consent_imported=True)  # the consent went with the import

    ask = client.get(urls["unsubscribe"])
    assert ask.status_code == 200 and 'id="dotsync-unsubscribe"' in ask.content.decode()
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        gone = client.post(urls["unsubscribe"])
    assert gone.status_code == 200 and 'data-outcome="unsubscribed"' in gone.content.decode()
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.UNSUBSCRIBED
    run_sync()
    assert_agree(platform, NEW, french)
    assert platform.book_name("subscribers") not in platform.books(NEW)


def test_a_store_without_confirmation_subscribes_at_once_with_an_unsubscribe_link(shop: Shop) -> None:
    client = Client()
    response = client.post(SUBSCRIBE, {"email": NEW})
    assert response.status_code == 200 and 'data-outcome="subscribed"' in response.content.decode()
    row = NewsletterSubscriber.objects.get(subscriber_email=NEW)
    assert row.store == shop.scope.main_en and row.subscriber_status == SubscriberStatus.SUBSCRIBED
    assert set(links_in(mail.outbox[0])) == {"unsubscribe"}
    # no consent checkbox when the store's consent is off, and nothing recorded
    assert 'name="consent"' not in client.get(SUBSCRIBE).content.decode()
    assert not ContactConsent.objects.exists()
    # subscribing again changes nothing and mails nothing (the page does not tell whether it was known)
    again = client.post(SUBSCRIBE, {"email": NEW})
    assert again.status_code == 200 and len(mail.outbox) == 1


def test_the_page_does_not_tell_whether_an_email_was_subscribed(shop: Shop, french: Any) -> None:
    known = "zed@example.com"
    NewsletterSubscriber.objects.create(
        subscriber_email=known, store=french, subscriber_status=SubscriberStatus.SUBSCRIBED
    )
    client = Client()
    pages = [client.post(SUBSCRIBE, {"email": email, "consent": "on"}) for email in (known, NEW)]
    assert [p.status_code for p in pages] == [200, 200]
    strip = [p.content.decode().replace("csrfmiddlewaretoken", "") for p in pages]
    assert 'data-outcome="confirmation_sent"' in strip[0] and 'data-outcome="confirmation_sent"' in strip[1]
    assert [m.to for m in mail.outbox] == [[NEW]]  # only the new address is mailed
    assert (
        NewsletterSubscriber.objects.get(subscriber_email=known).subscriber_status
        == SubscriberStatus.SUBSCRIBED
    )


def test_a_confirmation_mail_that_cannot_be_sent_is_said_and_a_new_request_sends_another(
    shop: Shop, french: Any, settings: Any
) -> None:
    # a real SMTP failure: nothing listens on port 1 of loopback
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    client = Client()
    failed = client.post(SUBSCRIBE, {"email": NEW, "consent": "on"})
    assert failed.status_code == 503 and 'id="dotsync-problem"' in failed.content.decode()
    row = NewsletterSubscriber.objects.get(subscriber_email=NEW)
    assert row.subscriber_status == SubscriberStatus.UNCONFIRMED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert client.post(SUBSCRIBE, {"email": NEW, "consent": "on"}).status_code == 200
    assert client.get(links_in(mail.outbox[-1])["confirm"]).status_code == 200
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED


def _confirm_path(row: NewsletterSubscriber) -> str:
    token = tokens.confirm_token(row.subscriber_id, row.subscriber_email, row.subscriber_confirm_code)
    return f"/dotsync/newsletter/confirm/{token}/"


@pytest.mark.parametrize("how", ["tampered", "expired", "unsubscribe token", "replaced by a new request"])
def test_bad_confirmation_links_are_refused(shop: Shop, french: Any, how: str) -> None:
    client = Client()
    client.post(SUBSCRIBE, {"email": NEW, "consent": "on"})
    row = NewsletterSubscriber.objects.get(subscriber_email=NEW)
    path = _confirm_path(row)
    if how == "tampered":
        token = path.split("/")[-2]
        path = path.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    elif how == "unsubscribe token":  # signed, but for another purpose (its own salt)
        path = f"/dotsync/newsletter/confirm/{tokens.unsubscribe_token(row.pk, NEW)}/"
    elif how == "replaced by a new request":
        client.post(SUBSCRIBE, {"email": NEW, "consent": "on"})  # a new code: the old link is dead
    if how == "expired":
        with time_machine.travel(timezone.now() + timedelta(hours=48, minutes=1)):
            response = client.get(path)
    else:
        response = client.get(path)
    assert response.status_code == 400 and 'data-outcome="refused"' in response.content.decode()
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.UNCONFIRMED
    # within its age the genuine (current) link works
    with time_machine.travel(timezone.now() + timedelta(hours=47)):
        assert client.get(_confirm_path(row)).status_code == 200
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED


def test_a_tampered_unsubscribe_link_is_refused(shop: Shop) -> None:
    row = shop.subscribers["erin"]
    token = tokens.unsubscribe_token(row.pk, row.subscriber_email)
    forged = tokens.unsubscribe_token(shop.subscribers["frank"].pk, row.subscriber_email)  # another's id
    client = Client()
    for bad in (token[:-2] + "xx", forged, "not-a-token"):
        response = client.post(f"/dotsync/newsletter/unsubscribe/{bad}/")
        assert response.status_code == 400
    for sub in (row, shop.subscribers["frank"]):
        sub.refresh_from_db()
        assert sub.subscriber_status == SubscriberStatus.SUBSCRIBED


def test_csrf_is_enforced_on_every_post(shop: Shop) -> None:
    client = Client(enforce_csrf_checks=True)
    row = shop.subscribers["erin"]
    unsubscribe = f"/dotsync/newsletter/unsubscribe/{tokens.unsubscribe_token(row.pk, row.subscriber_email)}/"
    assert client.post(SUBSCRIBE, {"email": NEW}).status_code == 403
    assert client.post(unsubscribe).status_code == 403
    client.force_login(shop.customers["alice"])
    assert client.post(PREFERENCES, {"subscribed": ""}).status_code == 403
    assert not NewsletterSubscriber.objects.filter(subscriber_email=NEW).exists()
    row.refresh_from_db()
    assert row.subscriber_status == SubscriberStatus.SUBSCRIBED
    # with the form's token the same post goes through
    page = client.get(SUBSCRIBE)
    token = page.cookies["csrftoken"].value
    assert client.post(SUBSCRIBE, {"email": NEW, "csrfmiddlewaretoken": token}).status_code == 200


def test_the_subscribe_form_is_rate_limited_per_client(shop: Shop) -> None:
    noisy, other = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    for n in range(views.RATE_LIMIT):
        assert noisy.post(SUBSCRIBE, {"email": f"n{n}@example.com"}).status_code == 200
    limited = noisy.post(SUBSCRIBE, {"email": NEW})
    assert limited.status_code == 429 and 'id="dotsync-rate-limited"' in limited.content.decode()
    assert not NewsletterSubscriber.objects.filter(subscriber_email=NEW).exists()
    assert other.post(SUBSCRIBE, {"email": "other@example.com"}).status_code == 200  # another client is fine
    with time_machine.travel(timezone.now() + timedelta(seconds=views.RATE_WINDOW + 1)):
        assert noisy.post(SUBSCRIBE, {"email": NEW}).status_code == 200


def test_preferences_need_a_login(shop: Shop) -> None:
    response = Client().get(PREFERENCES)
    assert response.status_code == 302 and response["Location"].endswith("?next=" + PREFERENCES)


@pytest.mark.slow  # end to end by nature: three sync passes against the sandbox
def test_preferences_write_subscription_books_and_fields_and_the_platform_follows(
    shop: Shop, platform: Platform, django_capture_on_commit_callbacks: Any
) -> None:
    alice = shop.customers["alice"]
    store = shop.scope.main_en
    client = Client()
    client.force_login(alice)
    run_sync()
    assert_agree(platform, alice.email, store)
    assert EXTRA_BOOK not in platform.books(alice.email)

    page = client.get(PREFERENCES)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="subscribed"' in html and "checked" in html  # alice_en is subscribed
    assert f'name="book_{platform.offers_book}"' in html and EXTRA_BOOK in html
    assert 'name="field_firstname"' in html and 'name="field_lastname"' not in html  # only those offered

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(
            PREFERENCES,
            {"subscribed": "on", f"book_{platform.offers_book}": "on", "field_firstname": "Alicia"},
        )
    assert saved.status_code == 302
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"
    assert ContactBook.objects.get(email=alice.email, address_book_id=platform.offers_book).member
    run_sync()
    contact = platform.contact(alice.email)
    assert contact is not None and contact["data_fields"]["FIRSTNAME"] == "Alicia"
    assert EXTRA_BOOK in platform.books(alice.email)
    assert_agree(platform, alice.email, store)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(PREFERENCES, {"field_firstname": "Alicia"})  # unsubscribe, leave the book
    row = NewsletterSubscriber.objects.get(subscriber_email=alice.email, store=store)
    assert row.subscriber_status == SubscriberStatus.UNSUBSCRIBED
    assert not ContactBook.objects.get(email=alice.email, address_book_id=platform.offers_book).member
    run_sync()
    assert EXTRA_BOOK not in platform.books(alice.email)
    assert_agree(platform, alice.email, store)
    assert platform.book_name("subscribers") not in platform.books(alice.email)


def test_subscribing_on_the_preferences_page_asks_for_consent_and_confirmation(
    shop: Shop, french: Any, django_capture_on_commit_callbacks: Any
) -> None:
    carol = shop.customers["carol"]  # no subscription
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(carol)
    page = client.get(PREFERENCES).content.decode()
    assert "I agree to receive the newsletter." in page and 'name="consent"' in page
    refused = client.post(PREFERENCES, {"subscribed": "on"})
    assert refused.status_code == 400
    assert not NewsletterSubscriber.objects.filter(subscriber_email=carol.email).exists()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(PREFERENCES, {"subscribed": "on", "consent": "on"})
    assert saved.status_code == 302
    row = NewsletterSubscriber.objects.get(subscriber_email=carol.email, store=french)
    assert row.subscriber_status == SubscriberStatus.UNCONFIRMED and row.customer_id == carol.pk
    assert [m.to for m in mail.outbox] == [[carol.email]] and "confirm" in links_in(mail.outbox[0])
    consent = ContactConsent.objects.get(email_contact__email=carol.email)
    assert consent.consent_ip == "203.0.113.9"
    # awaiting confirmation: the page says so, and keeping the box ticked asks for nothing more
    assert 'id="dotsync-awaiting"' in client.get(PREFERENCES).content.decode()
    assert client.post(PREFERENCES, {"subscribed": "on"}).status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("raw", "books"),
    [
        ({"12": "Offers", "7": ""}, ((7, "Address book 7"), (12, "Offers"))),  # an object: in id order
        ("12:Offers, 7", ((12, "Offers"), (7, "Address book 7"))),
        ('[12, "7:News", 12]', ((12, "Address book 12"), (7, "News"))),
        ("", ()),
    ],
)
def test_newsletter_books_setting_forms(scope: Any, raw: Any, books: Any) -> None:
    from dotsync.config import get_config
    from dotsync.models import WebsiteConfig

    def configure(**extra: Any) -> Any:
        WebsiteConfig.objects.update_or_create(website=scope.main, defaults={"extra": extra})
        return get_config(scope.main)

    cfg = configure(newsletter_books=raw, newsletter_fields="lastname,firstname")
    assert not cfg.problems() and cfg.newsletter_books == books
    assert cfg.newsletter_fields == ("lastname", "firstname")
    bad = configure(newsletter_books="0:Zero", newsletter_fields="dob")  # not an id; not an editable field
    assert {"newsletter_books", "newsletter_fields"} <= bad.invalid and bad.newsletter_books == ()


def test_book_choices_are_kept_but_not_queued_while_the_website_does_not_sync(shop: Shop) -> None:
    from dotsync.config import get_config
    from dotsync.models import Importer
    from tests.storefront.conftest import configure

    configure(shop, newsletter_books={"12": "Offers"})
    assert not get_config(shop.scope.main).enabled
    client = Client()
    client.force_login(shop.customers["carol"])
    assert client.post(PREFERENCES, {"book_12": "on"}).status_code == 302
    assert ContactBook.objects.get(email="carol@example.com", address_book_id=12).member
    assert not Importer.objects.exists()
    page = client.get(PREFERENCES).content.decode()
    assert re.search(r'name="book_12"[^>]*checked', page)  # the page reads the choice back


def test_the_preferences_page_can_be_switched_off(shop: Shop) -> None:
    from tests.storefront.conftest import configure

    configure(shop, newsletter_preferences=False)
    client = Client()
    client.force_login(shop.customers["carol"])
    assert client.get(PREFERENCES).status_code == 404


def test_pages_take_the_shops_layout_when_oscars_urls_are_routed(shop: Shop) -> None:
    html = Client().get(SUBSCRIBE).content.decode()
    assert 'class="header container"' in html  # Oscar's layout: header, navigation, mini-basket
    assert 'id="dotsync-subscribe"' in html


@pytest.mark.urls("tests.storefront.newsletter_urls")
def test_pages_have_oscars_styles_without_oscars_urls(shop: Shop) -> None:
    html = Client().get(SUBSCRIBE).content.decode()
    assert "oscar/css/styles.css" in html and 'class="header container"' not in html
