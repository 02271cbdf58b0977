"""Easy email capture (issue 12 §5) through Django's test client and Oscar's real basket views.

A guest fills a basket with Oscar's "add to basket" view; posting a typed email to
``/dotsync/capture/email/`` gives that basket's ``email_quote`` row the email, which the guests'
abandoned-cart series reads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dotsync.jobs.automation import abandoned_carts
from dotsync.models import Campaign, Quote
from dotsync.models.automation import CampaignEvent
from dotsync.storefront import capture
from dotsync.testing.shop import Shop
from tests.jobs.batch_helpers import enable, store_settings

from .conftest import configure

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.storefront.shop_urls")]

URL = "/dotsync/capture/email/"


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """The rate limit lives in Django's cache (local memory here): each test starts with none counted."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def capturing(shop: Shop) -> Shop:
    """The shop with easy email capture on for the main website."""
    configure(shop, email_capture_enabled=True)
    return shop


def guest_with_basket(shop: Shop, client: Client | None = None, **extra: str) -> Client:
    """A guest whose session basket holds a shirt, added through Oscar's basket view."""
    client = client or Client()
    shirt = shop.products["shirt"]
    response = client.post(f"/basket/add/{shirt.pk}/", {"quantity": 1}, **extra)
    assert response.status_code == 302, response.content[:300]
    return client


def post(client: Client, email: str, **extra: str) -> tuple[int, str]:
    response = client.post(URL, {"email": email}, **extra)
    return response.status_code, response.json()["outcome"]


def guest_quotes() -> list[tuple[str, int | None, int]]:
    return list(Quote.objects.filter(customer_id__isnull=True).values_list("email", "store_id", "item_count"))


def test_a_typed_email_becomes_the_guest_baskets_quote_email(capturing: Shop) -> None:
    before = set(Quote.objects.values_list("quote_id", flat=True))
    client = guest_with_basket(capturing)
    assert post(client, "  Shopper@Example.com ") == (200, capture.Outcome.CAPTURED)
    row = Quote.objects.exclude(quote_id__in=before).get()
    assert (row.email, row.customer_id, row.item_count, row.is_active) == (
        "shopper@example.com",
        None,
        1,
        True,
    )
    assert row.store_id == capturing.scope.main_en.pk
    assert post(client, "shopper@example.com") == (200, capture.Outcome.UNCHANGED)
    assert post(client, "other@example.com") == (200, capture.Outcome.CAPTURED)
    row.refresh_from_db()
    assert row.email == "other@example.com"
    assert Quote.objects.exclude(quote_id__in=before).count() == 1


def test_an_invalid_email_is_refused_and_never_logged(
    capturing: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    client = guest_with_basket(capturing)
    before = guest_quotes()
    caplog.set_level(logging.DEBUG, logger="dotsync")
    for bad in ("not-an-email", "", "a@b", "x" * 250 + "@example.com"):
        assert post(client, bad) == (400, capture.Outcome.INVALID)
    assert post(client, "private.person@example.com")[0] == 200
    assert guest_quotes() != before
    assert caplog.records and not any("private.person" in r.getMessage() for r in caplog.records)
    assert not any("not-an-email" in r.getMessage() for r in caplog.records)


def test_an_empty_basket_gets_no_row(capturing: Shop) -> None:
    before = guest_quotes()
    assert post(Client(), "shopper@example.com") == (200, capture.Outcome.EMPTY_BASKET)
    assert guest_quotes() == before


def test_a_customers_basket_keeps_the_customers_email(capturing: Shop) -> None:
    client = Client()
    carol = capturing.customers["carol"]
    client.force_login(carol)
    guest_with_basket(capturing, client)
    assert post(client, "someone.else@example.com") == (200, capture.Outcome.CUSTOMER_BASKET)
    assert not Quote.objects.filter(email="someone.else@example.com").exists()


def test_capture_is_off_unless_the_website_enables_it(shop: Shop) -> None:
    client = guest_with_basket(shop)
    assert post(client, "shopper@example.com") == (404, capture.Outcome.OFF)
    assert not Quote.objects.filter(email="shopper@example.com").exists()


def test_only_post_is_answered(capturing: Shop) -> None:
    assert Client().get(URL).status_code == 405


def test_the_csrf_token_is_required(capturing: Shop) -> None:
    client = Client(enforce_csrf_checks=True)
    html = client.get(f"/catalogue/{capturing.products['shirt'].slug}_{capturing.products['shirt'].pk}/")
    token = re.search(r'"csrf": "([^"]+)"', html.content.decode())
    assert token is not None  # the capture script's settings carry the token
    guest_with_basket(capturing, client, HTTP_X_CSRFTOKEN=token.group(1))
    assert client.post(URL, {"email": "shopper@example.com"}).status_code == 403
    assert not Quote.objects.filter(email="shopper@example.com").exists()
    assert post(client, "shopper@example.com", HTTP_X_CSRFTOKEN=token.group(1)) == (
        200,
        capture.Outcome.CAPTURED,
    )


def test_a_client_over_the_rate_limit_waits_for_the_window_others_do_not(capturing: Shop) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        noisy = guest_with_basket(capturing, REMOTE_ADDR="203.0.113.7")
        for n in range(capture.RATE_LIMIT):
            assert post(noisy, f"n{n}@example.com", REMOTE_ADDR="203.0.113.7")[0] == 200
        assert post(noisy, "late@example.com", REMOTE_ADDR="203.0.113.7") == (
            429,
            capture.Outcome.RATE_LIMITED,
        )
        other = guest_with_basket(capturing, REMOTE_ADDR="198.51.100.2")
        assert post(other, "calm@example.com", REMOTE_ADDR="198.51.100.2") == (200, capture.Outcome.CAPTURED)
        clock.shift(timedelta(seconds=capture.RATE_WINDOW + 1))
        assert post(noisy, "late@example.com", REMOTE_ADDR="203.0.113.7") == (200, capture.Outcome.CAPTURED)


def test_a_captured_basket_starts_the_guests_abandoned_cart_series(capturing: Shop) -> None:
    enable(capturing.scope.main)  # fake credentials: the importer is not run, the Lost Basket row is queued
    store_settings(
        capturing.scope.main_en,
        ac_guests_enabled_1=True,
        ac_guests_send_after_1=20,
        ac_guests_campaign_1=21,
        ac_allow_non_subscribers=True,
    )
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = guest_with_basket(capturing)
        assert post(client, "gina@example.com") == (200, capture.Outcome.CAPTURED)
        basket_id = Quote.objects.get(email="gina@example.com").quote_id
        assert not abandoned_carts.run().errors
        clock.shift(timedelta(minutes=20))
        assert not abandoned_carts.run().errors
    sent = Campaign.objects.filter(quote_id=basket_id, event_name=CampaignEvent.LOST_BASKET)
    assert list(sent.values_list("email", "campaign_id", "customer_id", "step")) == [
        ("gina@example.com", 21, None, 1)
    ]
