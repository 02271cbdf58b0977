"""External dynamic content through Django's test client on the real Oscar shop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from dotsync.models import FailedAuth, WebsiteConfig
from dotsync.storefront import lockout, sites
from dotsync.testing.shop import Shop, make_basket, make_product, place_order, store_request
from tests.storefront.conftest import PASSCODE, configure, edc

pytestmark = pytest.mark.django_db

IP_A = "203.0.113.7"
IP_B = "198.51.100.9"


def endpoints(shop: Shop) -> list[str]:
    """One path of every dynamic-content view."""
    alice = shop.customers["alice"].pk
    return [
        f"basket/{shop.baskets['alice_open'].pk}/",
        f"review/{shop.orders['alice_en'].pk}/",
        f"wishlist/{alice}/",
        f"related/order/{shop.orders['alice_en'].pk}/",
        f"upsell/basket/{shop.baskets['alice_open'].pk}/",
        f"crosssell/wishlist/{alice}/",
        "bestsellers/",
        "mostviewed/",
        f"recentlyviewed/{alice}/",
        "push/",
    ]


def test_every_view_refuses_a_wrong_or_missing_passcode_and_answers_the_right_one(edc_shop: Shop) -> None:
    for path in endpoints(edc_shop):
        client = Client(REMOTE_ADDR=IP_A)
        FailedAuth.objects.all().delete()
        assert client.get(edc(path, code="wrong")).status_code == 401, path
        assert client.get(f"/dotsync/edc/main/{path}").status_code == 401, path
        assert client.get(edc(path)).status_code in (200, 204), path
    # another website without a passcode refuses everything (safe by default), and an unknown one too
    FailedAuth.objects.all().delete()
    client = Client(REMOTE_ADDR=IP_B)
    assert client.get(edc("bestsellers/", website="outlet")).status_code == 401
    assert client.get(edc("bestsellers/", website="nowhere")).status_code == 401


def test_five_failures_lock_that_client_for_five_minutes_and_no_other(edc_shop: Shop) -> None:
    path = f"basket/{edc_shop.baskets['alice_open'].pk}/"
    attacker, merchant = Client(REMOTE_ADDR=IP_A), Client(REMOTE_ADDR=IP_B)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(lockout.MAX_FAILURES):
            assert attacker.get(edc(path, code="guess")).status_code == 401
        # locked: refused without the passcode being checked, even the right one
        assert attacker.get(edc(path)).status_code == 429
        assert merchant.get(edc(path)).status_code == 200  # the merchant's fetches go on
        assert FailedAuth.objects.get(client_ip=IP_A).failures_num == lockout.MAX_FAILURES
        assert not FailedAuth.objects.filter(client_ip=IP_B).exists()
        clock.shift(lockout.LOCK_TIME - timedelta(seconds=1))
        assert attacker.get(edc(path)).status_code == 429
        clock.shift(timedelta(seconds=2))
        assert attacker.get(edc(path)).status_code == 200
        # the count starts again after the lock
        assert attacker.get(edc(path, code="guess")).status_code == 401
        assert FailedAuth.objects.get(client_ip=IP_A).failures_num == 1


def test_the_allow_list_refuses_other_clients(edc_shop: Shop) -> None:
    configure(edc_shop, edc_allowed_ips="10.1.0.0/16, 192.0.2.1")
    path = "bestsellers/"
    assert Client(REMOTE_ADDR=IP_A).get(edc(path)).status_code == 401
    assert Client(REMOTE_ADDR="10.1.2.3").get(edc(path)).status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get(edc(path)).status_code == 200


def test_the_passcode_is_stored_encrypted_never_in_plain_text(edc_shop: Shop) -> None:
    row = WebsiteConfig.objects.get(website=edc_shop.scope.main)
    assert PASSCODE not in row.edc_passcode_encrypted
    configure(edc_shop, edc_passcode="plain")  # refused in extra: the real passcode still applies
    client = Client(REMOTE_ADDR=IP_A)
    assert client.get(edc("bestsellers/", code="plain")).status_code == 401
    assert client.get(edc("bestsellers/")).status_code == 200


def test_basket_fragment_is_escaped_email_safe_and_links_back_signed(edc_shop: Shop) -> None:
    evil = make_product("<b>Evil</b> & Co", "12.00", 5, ["Home > Kitchen"])
    basket = make_basket(edc_shop.customers["carol"], [evil, (edc_shop.products["mug"], 2)])
    response = Client(REMOTE_ADDR=IP_A).get(edc(f"basket/{basket.pk}/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html and "<b>Evil" not in html
    assert "Coffee Mug" in html and "17.00" in html  # 2 x 8.50
    assert "<table" in html and 'style="' in html and "<style" not in html
    assert 'href="https://main.example.com/catalogue/' in html
    assert "https://main.example.com/dotsync/cart/main/" in html
    assert "Cache-Control" in response and "no-store" in response["Cache-Control"]


def test_204_on_empty_output(edc_shop: Shop) -> None:
    client = Client(REMOTE_ADDR=IP_A)
    assert client.get(edc(f"basket/{edc_shop.baskets['empty'].pk}/")).status_code == 204
    assert client.get(edc("basket/999999/")).status_code == 204
    assert client.get(edc("push/")).status_code == 204  # no products configured
    assert client.get(edc(f"wishlist/{edc_shop.customers['dave'].pk}/")).status_code == 204
    assert client.get(edc(f"recentlyviewed/{edc_shop.customers['carol'].pk}/")).status_code == 204


def test_query_count_is_fixed_per_request(edc_shop: Shop, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR=IP_A)
    small = make_basket(edc_shop.customers["carol"], [edc_shop.products["mug"]])
    extra = [make_product(f"Extra {i}", "3.00", 5, ["Home > Kitchen"]) for i in range(6)]
    big = make_basket(edc_shop.customers["alice"], [edc_shop.products["shirt"], *extra])
    client.get(edc("push/"))  # the website's snapshot read (sites.site), as every later request finds it
    with CaptureQueriesContext(connection) as one_line:
        assert client.get(edc(f"basket/{small.pk}/")).status_code == 200
    with django_assert_num_queries(len(one_line.captured_queries)):
        assert client.get(edc(f"basket/{big.pk}/")).status_code == 200
    configure(edc_shop, edc_items=2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(edc("bestsellers/")).status_code == 200
    configure(edc_shop, edc_items=8)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(edc("bestsellers/")).status_code == 200


def test_the_website_snapshot_saves_its_queries_and_a_passcode_change_applies(edc_shop: Shop) -> None:
    """The website, its settings, domain and stores are read once per process for SITE_TTL seconds.

    A change saved in this process applies to the next request; one made elsewhere (a queryset
    update sends no signal, as another process's save reaches this one) applies after SITE_TTL.
    """
    client = Client(REMOTE_ADDR=IP_A)
    basket = f"basket/{edc_shop.baskets['alice_open'].pk}/"
    with CaptureQueriesContext(connection) as cold:
        assert client.get(edc(basket)).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(edc(basket)).status_code == 200
    assert len(warm.captured_queries) <= len(cold.captured_queries) - 4  # website, settings, 2 store reads
    assert not any("dotsync_website_config" in q["sql"] for q in warm.captured_queries)

    row = WebsiteConfig.objects.get(website=edc_shop.scope.main)
    row.set_edc_passcode("rotated-Passcode-1")
    row.save()  # saved here: the next request already checks the new passcode
    assert client.get(edc(basket)).status_code == 401
    assert client.get(edc(basket, code="rotated-Passcode-1")).status_code == 200

    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.get(edc(basket, code="rotated-Passcode-1")).status_code == 200
        row.set_edc_passcode(PASSCODE)
        WebsiteConfig.objects.filter(pk=row.pk).update(edc_passcode_encrypted=row.edc_passcode_encrypted)
        assert client.get(edc(basket, code="rotated-Passcode-1")).status_code == 200  # still the snapshot
        clock.shift(timedelta(seconds=sites.SITE_TTL + 1))
        assert client.get(edc(basket, code="rotated-Passcode-1")).status_code == 401
        assert client.get(edc(basket)).status_code == 200


def _names(html: str, shop: Shop, *names: str) -> list[str]:
    return [n for n in names if n in html]


def test_review_lists_the_order_products_not_reviewed_yet(edc_shop: Shop) -> None:
    html = Client(REMOTE_ADDR=IP_A).get(edc(f"review/{edc_shop.orders['alice_en'].pk}/")).content.decode()
    assert "Coffee Mug" in html and "Oxford Shirt" not in html  # alice reviewed the shirt


def test_wishlist_lists_the_customers_items(edc_shop: Shop) -> None:
    html = Client(REMOTE_ADDR=IP_A).get(edc(f"wishlist/{edc_shop.customers['alice'].pk}/")).content.decode()
    assert "Coffee Mug" in html and "Hoodie" in html and "Oxford Shirt" not in html  # a variant as its parent


def test_recommendations_follow_the_rules_without_the_off_by_one(edc_shop: Shop) -> None:
    recommendation = get_model("catalogue", "ProductRecommendation")
    p = edc_shop.products
    rel = [make_product(f"Rel {i}", "9.00", 5, ["Home > Kitchen"]) for i in range(6)]
    for i, product in enumerate(rel[:3]):
        recommendation.objects.create(primary=p["shirt"], recommendation=product, ranking=10 - i)
    for i, product in enumerate(rel[3:]):
        recommendation.objects.create(primary=p["mug"], recommendation=product, ranking=10 - i)
    configure(edc_shop, edc_items=4, edc_display_type="list")
    basket = make_basket(edc_shop.customers["carol"], [p["shirt"], p["mug"]])
    client = Client(REMOTE_ADDR=IP_A)
    html = client.get(edc(f"related/basket/{basket.pk}/")).content.decode()
    # 2 sources, 4 items: 2 from each (the reference took 3 from the first)
    assert _names(html, edc_shop, *(f"Rel {i}" for i in range(6))) == ["Rel 0", "Rel 1", "Rel 3", "Rel 4"]
    # cross-sell: bought together with the shirt (alice_en: shirt + mug)
    html = client.get(edc(f"crosssell/basket/{edc_shop.baskets['alice_open'].pk}/")).content.decode()
    assert "Coffee Mug" in html and "Oxford Shirt" not in html
    # upsell: same category, dearer only
    make_product("Silk Shirt", "60.00", 5, ["Clothing > Shirts"])
    make_product("Cheap Shirt", "10.00", 5, ["Clothing > Shirts"])
    html = client.get(edc(f"upsell/basket/{edc_shop.baskets['alice_open'].pk}/")).content.decode()
    assert "Silk Shirt" in html and "Cheap Shirt" not in html
    # topped up from the fallback products
    configure(edc_shop, edc_fallback_product_ids=[p["mug"].pk, rel[5].pk])
    html = client.get(edc(f"upsell/basket/{edc_shop.baskets['alice_open'].pk}/")).content.decode()
    assert _names(html, edc_shop, "Silk Shirt", "Coffee Mug", "Rel 5") == [
        "Silk Shirt",
        "Coffee Mug",
        "Rel 5",
    ]


def test_bestsellers_by_period_and_category(edc_shop: Shop) -> None:
    client = Client(REMOTE_ADDR=IP_A)
    # the main website's orders in a month: shirt 3, mug 3 (a tie: lower id first), hoodie 1
    html = client.get(edc("bestsellers/")).content.decode()
    assert html.index("Oxford Shirt") < html.index("Coffee Mug") < html.index("Hoodie")
    html = client.get(edc("bestsellers/", period="D")).content.decode()  # alice's are older: mug 2, shirt 1
    assert html.index("Coffee Mug") < html.index("Oxford Shirt") and "Hoodie" not in html
    shirts = get_model("catalogue", "Category").objects.get(name="Shirts")
    html = client.get(edc("bestsellers/", category_id=str(shirts.pk))).content.decode()
    assert "Oxford Shirt" in html and "Coffee Mug" not in html
    # another website counts its own orders only (outlet: two mugs)
    outlet, _ = WebsiteConfig.objects.get_or_create(website=edc_shop.scope.outlet)
    outlet.set_edc_passcode(PASSCODE)
    outlet.save()
    html = client.get(edc("bestsellers/", website="outlet")).content.decode()
    assert "Coffee Mug" in html and "Oxford Shirt" not in html and "Hoodie" not in html


def test_a_ranking_is_kept_a_minute_and_prices_are_read_every_time(edc_shop: Shop) -> None:
    from dotsync.storefront.edc.reports import RANKING_TTL

    client = Client(REMOTE_ADDR=IP_A)
    variant = edc_shop.products["hoodie_m"]  # sold as its parent, "Hoodie"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        html = client.get(edc("bestsellers/")).content.decode()
        assert html.index("Oxford Shirt") < html.index("Hoodie")
        place_order(edc_shop.customers["carol"], [(variant, 4)], edc_shop.scope.main_en)
        edc_shop.products["shirt"].stockrecords.update(price=Decimal("26.40"))
        html = client.get(edc("bestsellers/")).content.decode()
        assert html.index("Oxford Shirt") < html.index("Hoodie"), "the ranking was read again at once"
        assert "26.40" in html, "the price came from the cache"
        clock.shift(timedelta(seconds=RANKING_TTL + 1))
        html = client.get(edc("bestsellers/")).content.decode()
        assert html.index("Hoodie") < html.index("Oxford Shirt"), "the ranking outlived its minute"


def test_views_are_recorded_on_commit_and_feed_most_and_recently_viewed(
    edc_shop: Shop,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    product_viewed = get_class("catalogue.signals", "product_viewed")
    alice = edc_shop.customers["alice"]
    p = edc_shop.products
    request = store_request(edc_shop.scope.main_en, alice, "/catalogue/")
    with django_capture_on_commit_callbacks(execute=True):
        for product in (p["mug"], p["shirt"], p["shirt"], p["hoodie"]):
            product_viewed.send(
                sender=None, product=product, user=alice, request=request, response=HttpResponse()
            )
    client = Client(REMOTE_ADDR=IP_A)
    html = client.get(edc("mostviewed/")).content.decode()
    assert html.index("Oxford Shirt") < html.index("Coffee Mug")
    html = client.get(edc(f"recentlyviewed/{alice.pk}/")).content.decode()
    assert html.index("Hoodie") < html.index("Oxford Shirt") < html.index("Coffee Mug")
    kitchen = get_model("catalogue", "Category").objects.get(name="Kitchen")
    html = client.get(edc("mostviewed/", category_id=str(kitchen.pk))).content.decode()
    assert "Coffee Mug" in html and "Oxford Shirt" not in html


def test_product_push_in_grid_follows_display_settings(edc_shop: Shop) -> None:
    p = edc_shop.products
    configure(
        edc_shop,
        edc_push_product_ids=f"{p['mug'].pk},{p['shirt'].pk},{p['poster'].pk}",
        edc_link_text="Shop it",
    )
    html = Client(REMOTE_ADDR=IP_A).get(edc("push/")).content.decode()
    assert "Coffee Mug" in html and "Oxford Shirt" in html and "Poster" not in html  # private
    assert "Shop it" in html and "width:25%" in html
    assert Decimal("8.50") and "8.50" in html


def test_logs_hold_no_personal_data(edc_shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    alice = edc_shop.customers["alice"]
    client = Client(REMOTE_ADDR=IP_A)
    with caplog.at_level("DEBUG", logger="dotsync"):
        for _ in range(lockout.MAX_FAILURES + 1):
            client.get(edc(f"wishlist/{alice.pk}/", code="guess-Wq9"))
        Client(REMOTE_ADDR=IP_B).get(edc(f"wishlist/{alice.pk}/"))
    text = caplog.text
    assert "refused" in text
    for secret in (IP_A, IP_B, "guess-Wq9", PASSCODE, alice.email, f"wishlist/{alice.pk}"):
        assert secret not in text, secret


def test_recommendation_and_list_query_counts_do_not_grow_with_their_input(
    edc_shop: Shop,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    recommendation = get_model("catalogue", "ProductRecommendation")
    p = edc_shop.products
    many = [make_product(f"Many {i}", "4.00", 5, ["Home > Kitchen"]) for i in range(8)]
    for i, product in enumerate(many):
        recommendation.objects.create(primary=p["shirt"], recommendation=product, ranking=i)
        recommendation.objects.create(primary=p["mug"], recommendation=product, ranking=i)
    one = make_basket(edc_shop.customers["carol"], [p["shirt"]])
    two = make_basket(edc_shop.customers["alice"], [p["shirt"], p["mug"], *many[:3]])
    client = Client(REMOTE_ADDR=IP_A)
    client.get(edc("push/"))  # the website's snapshot read (sites.site), as every later request finds it
    for kind in ("related", "upsell", "crosssell"):
        with CaptureQueriesContext(connection) as small:
            client.get(edc(f"{kind}/basket/{one.pk}/"))
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(edc(f"{kind}/basket/{two.pk}/"))
    with CaptureQueriesContext(connection) as small:
        client.get(edc(f"wishlist/{edc_shop.customers['carol'].pk}/"))
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(edc(f"wishlist/{edc_shop.customers['alice'].pk}/"))


def test_one_websites_passcode_never_reads_another_websites_customers(edc_shop: Shop) -> None:
    outlet, _ = WebsiteConfig.objects.get_or_create(website=edc_shop.scope.outlet)
    outlet.set_edc_passcode("outlet-Passcode-9")
    outlet.save()
    bob = edc_shop.customers["bob"]  # an outlet customer (his order is in outlet_en)
    get_model("wishlists", "Line").objects.create(
        wishlist=edc_shop.wishlists["bob_empty"], product=edc_shop.products["shirt"], title="Oxford Shirt"
    )
    paths = [
        f"basket/{edc_shop.baskets['bob_abandoned'].pk}/",
        f"wishlist/{bob.pk}/",
        f"review/{edc_shop.orders['guest_outlet'].pk}/",  # bob reviewed his mug: a guest's order
        f"crosssell/order/{edc_shop.orders['bob_outlet'].pk}/",
    ]
    client = Client(REMOTE_ADDR=IP_A)
    for path in paths:
        assert client.get(edc(path)).status_code == 204, path  # main's passcode: nothing of outlet's
        assert client.get(edc(path, code="outlet-Passcode-9", website="outlet")).status_code == 200, path
    # and the other way round: alice (main) is not readable with outlet's passcode
    alice_basket = f"basket/{edc_shop.baskets['alice_open'].pk}/"
    assert client.get(edc(alice_basket, code="outlet-Passcode-9", website="outlet")).status_code == 204
    assert not FailedAuth.objects.exists()  # right passcodes, however the records fall
