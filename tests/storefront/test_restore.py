"""Signed cart-restore links through Django's test client on the real Oscar shop."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import signing
from django.test import Client
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync import links
from dotsync.storefront.restore import REFUSED
from dotsync.testing.shop import Shop, make_basket

pytestmark = pytest.mark.django_db

COOKIE = settings.OSCAR_BASKET_COOKIE_OPEN


def lines(basket) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return sorted(basket.lines.values_list("product_id", "quantity"))


def test_a_guest_basket_is_restored_into_the_session_with_tracking_params(shop: Shop) -> None:
    original = shop.baskets["anonymous"]
    url = links.restore_url(original.pk, "main", None, {"utm_source": "dotdigital", "dm_i": "A1"})
    client = Client()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/basket/?utm_source=dotdigital&dm_i=A1"
    restored_id = signing.Signer().unsign(response.cookies[COOKIE].value)
    basket = get_model("basket", "Basket").objects.get(pk=restored_id)
    assert basket.pk == original.pk and lines(basket) == lines(original)
    # the session's basket is that basket on the next request (Oscar's middleware reads the cookie)
    follow = client.get("/healthz")
    assert follow.wsgi_request.basket.pk == original.pk  # type: ignore[attr-defined]


def test_a_customer_basket_goes_through_login_and_back(shop: Shop) -> None:
    alice = shop.customers["alice"]
    original = shop.baskets["alice_open"]
    url = links.restore_url(original.pk, "main", None, {"utm_campaign": "ac1"})
    client = Client()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL + "?next=")
    assert COOKIE not in response.cookies  # nothing of alice's reaches an anonymous session
    client.force_login(alice)
    response = client.get(url)
    assert response["Location"] == "/basket/?utm_campaign=ac1"
    assert response.wsgi_request.basket.pk == original.pk  # type: ignore[attr-defined]
    assert lines(response.wsgi_request.basket) == lines(original)  # type: ignore[attr-defined]
    # another customer logged in is sent to log in as the owner, and keeps their own basket
    other = Client()
    other.force_login(shop.customers["bob"])
    response = other.get(url)
    assert response["Location"].startswith(settings.LOGIN_URL)


def test_a_guest_basket_merges_into_a_logged_in_customers_basket(shop: Shop) -> None:
    guest = make_basket(None, [shop.products["mug"]])
    carol = shop.customers["carol"]
    client = Client()
    client.force_login(carol)
    response = client.get(links.restore_url(guest.pk, "main", None))
    assert response.status_code == 302
    basket = response.wsgi_request.basket  # type: ignore[attr-defined]
    assert basket.owner_id == carol.pk
    assert shop.products["mug"].pk in {pid for pid, _ in lines(basket)}


@pytest.mark.parametrize("how", ["tampered", "expired", "other salt", "closed basket", "unknown website"])
def test_a_tampered_or_expired_link_lands_on_an_empty_basket_with_a_message(shop: Shop, how: str) -> None:
    basket = shop.baskets["anonymous"]
    path = links.restore_path(basket.pk, "main")
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        if how == "tampered":
            token = links.make_token(basket.pk)
            forged = signing.dumps({"b": shop.baskets["alice_open"].pk}, salt=links.SALT)
            path = path.replace(token, token.split(":")[0] + ":" + forged.split(":", 1)[1])
        elif how == "expired":
            clock.shift(timedelta(hours=168, seconds=1))
        elif how == "other salt":
            path = f"/{links.RESTORE_PREFIX}main/{signing.dumps({'b': basket.pk})}/"
        elif how == "closed basket":
            get_model("basket", "Basket").objects.filter(pk=basket.pk).update(status="Submitted")
        else:
            path = path.replace("/main/", "/nowhere/")
        response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/basket/"
    assert COOKIE not in response.cookies
    assert [m.message for m in get_messages(response.wsgi_request)] == [REFUSED]


def test_links_max_age_follows_the_setting(shop: Shop) -> None:
    from tests.storefront.conftest import configure

    configure(shop, cart_restore_max_age=1)  # hours
    basket = shop.baskets["anonymous"]
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        url = links.restore_url(basket.pk, "main", None)
        clock.shift(timedelta(minutes=59))
        assert COOKIE in client.get(url).cookies
        clock.shift(timedelta(minutes=2))
        assert COOKIE not in Client().get(url).cookies


def test_restore_url_of_a_basket_uses_its_stores_domain(shop: Shop) -> None:
    from dotsync.storefront.restore import restore_url

    # alice's last order is in main_fr: her basket's link is on that store's domain
    url = restore_url(shop.baskets["alice_open"], {"utm_medium": "email"})
    assert url.startswith("https://fr.main.example.com/dotsync/cart/main/") and url.endswith(
        "?utm_medium=email"
    )
    assert links.read_token(url.split("/")[-2], 60) == shop.baskets["alice_open"].pk
    guest = restore_url(shop.baskets["anonymous"])
    assert guest.startswith("https://main.example.com/dotsync/cart/main/")
    response = Client().get(guest.removeprefix("https://main.example.com"))
    assert signing.Signer().unsign(response.cookies[COOKIE].value) == str(shop.baskets["anonymous"].pk)
