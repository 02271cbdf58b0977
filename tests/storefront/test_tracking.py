"""Tracking on Oscar's own pages (issue 12 §4): the tag, product browse, search, ROI and the capture script.

Oscar's real views render through dotsync's template overrides (``templates/oscar/``) with the test client on
the shared shop; each test reads the JSON data the tags put on the page.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.template import engines
from django.test import Client, RequestFactory

from dotsync.models import WebsiteConfig
from dotsync.storefront import tracking
from dotsync.testing.shop import Shop, make_product, place_order

from .conftest import configure

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.storefront.shop_urls")]

PROFILE = "DM-8812-01"
ENDPOINT = "https://r3-api.dotdigital.com"


def data(html: str, element_id: str) -> Any:
    """The JSON of the page's ``<script id=element_id type="application/json">``, or None."""
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def page(url: str, client: Client | None = None) -> str:
    response = (client or Client()).get(url)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def product_url(shop: Shop, name: str = "shirt") -> str:
    product = shop.products[name]
    return f"/catalogue/{product.slug}_{product.pk}/"


@pytest.fixture
def tagged(shop: Shop) -> Shop:
    """The shop with the main website's tag on (profile id and a region-3 endpoint)."""
    configure(shop, tracking_profile_id=PROFILE, api_endpoint=ENDPOINT)
    return shop


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("https://r1-api.dotdigital.com", "r1"),
        ("https://r3-api.dotmailer.com/", "r3"),
        ("https://r2.apiconnector.com", "r2"),
        ("https://api.dotdigital.com", ""),
        ("http://127.0.0.1:8899", ""),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_the_region_comes_from_the_endpoint_host(endpoint: str, expected: str) -> None:
    assert tracking.region(endpoint) == expected


def test_a_product_page_carries_the_tag_and_the_product_browse(tagged: Shop) -> None:
    html = page(product_url(tagged))
    assert data(html, "dotsync-tag") == {"src": f"https://r3.ddlnk.net/{PROFILE}/ddgtag.js"}
    assert html.index('id="dotsync-tag"') < html.index("</head>")  # before any event uses window.ddg
    browse = data(html, "dotsync-product-browse")
    shirt = tagged.products["shirt"]
    assert browse["productId"] == str(shirt.pk)
    assert browse["name"] == "Oxford Shirt"
    assert browse["url"] == f"http://testserver/catalogue/{shirt.slug}_{shirt.pk}/"
    assert browse["price"] == 25.0 and browse["salePrice"] == 25.0
    assert browse["stock"] == "In stock" and browse["status"] == "Enabled"
    assert browse["categories"] == ["Shirts"]
    assert browse["sku"] == shirt.stockrecords.get().partner_sku
    assert browse["extraData"] == {"type": "standalone"}
    assert html.index('id="dotsync-product-browse"') > html.index('id="dotsync-tag"')


def test_the_region_follows_the_base_url_when_no_endpoint_is_stored(shop: Shop) -> None:
    configure(shop, tracking_profile_id=PROFILE, api_base_url="https://r2-api.dotdigital.com")
    assert data(page(product_url(shop)), "dotsync-tag") == {
        "src": f"https://r2.ddlnk.net/{PROFILE}/ddgtag.js"
    }


@pytest.mark.parametrize(
    "settings",
    [
        {},  # no profile id: no tag
        {"tracking_profile_id": PROFILE, "api_endpoint": "http://127.0.0.1:8899"},  # a sandbox: no region
        {"tracking_profile_id": 'DM 1"><script>', "api_endpoint": ENDPOINT},  # refused by the schema
    ],
    ids=["no-profile", "unknown-region", "bad-profile-id"],
)
def test_without_a_usable_tag_the_pages_render_without_tracking(shop: Shop, settings: dict[str, str]) -> None:
    configure(shop, **settings)
    html = page(product_url(shop))
    assert "dotsync-" not in html and "ddlnk" not in html
    assert "Oxford Shirt" in html


def test_a_shop_without_websites_renders_its_pages(shop: Shop) -> None:
    WebsiteConfig.objects.all().delete()
    shop.scope.main.delete()
    shop.scope.outlet.delete()
    html = page(product_url(shop))
    assert "Oxford Shirt" in html and "dotsync-" not in html


def test_a_search_sends_the_searched_term_escaped(tagged: Shop) -> None:
    assert data(page("/search/?q=shirt"), "dotsync-search") == {"Term": "shirt"}
    hostile = '</script><script>alert("x")</script>'
    html = page("/search/?" + "q=" + hostile.replace("<", "%3C").replace(">", "%3E").replace('"', "%22"))
    assert data(html, "dotsync-search") == {"Term": hostile}
    assert '<script>alert("x")' not in html


def test_an_empty_search_sends_no_event(tagged: Shop) -> None:
    html = page("/search/?q=")
    assert data(html, "dotsync-search") is None and data(html, "dotsync-tag") is not None


def thank_you(order: Any) -> str:
    """Oscar's thank-you page as the customer who placed ``order`` sees it (the order id in the session)."""
    client = Client()
    client.force_login(order.user)  # Oscar's checkout views need a customer unless anonymous checkout is on
    session = client.session
    session["checkout_order_id"] = order.pk
    session.save()
    first = page("/checkout/thank-you/", client)
    again = page("/checkout/thank-you/", client)
    assert data(again, "dotsync-roi") is None  # the first load only: a reload never counts the order twice
    return first


def test_the_thank_you_page_tracks_roi_once(shop: Shop) -> None:
    configure(shop, enabled=True, api_endpoint=ENDPOINT)
    order = shop.orders["alice_en"]
    roi = data(thank_you(order), "dotsync-roi")
    assert roi["src"] == "https://r3.ddlnk.net/_dmmpt.js"
    assert sorted(roi["products"]) == ["Coffee Mug", "Oxford Shirt"]
    assert roi["amount"] == tracking.roi_amount(order.total_incl_tax)


@pytest.mark.parametrize(
    "settings",
    [{"enabled": True, "roi_enabled": False}, {"enabled": False}, {"enabled": True, "api_endpoint": ""}],
    ids=["roi-off", "api-off", "no-region"],
)
def test_roi_needs_the_api_roi_enabled_and_a_region(shop: Shop, settings: dict[str, Any]) -> None:
    configure(shop, **{"api_endpoint": ENDPOINT, "api_base_url": "http://127.0.0.1:8899", **settings})
    assert data(thank_you(shop.orders["alice_en"]), "dotsync-roi") is None


def test_roi_amounts_and_names_are_formatted_as_the_reference_sends_them(shop: Shop) -> None:
    assert tracking.roi_amount(Decimal("1234.5")) == "1,234.50"
    assert tracking.roi_amount(Decimal("1234567")) == "1,234,567.00"
    mug = make_product('The "Big" Mug', "12.00")
    order = place_order("guest@example.com", [mug], shop.scope.main_en)
    found = tracking.Tracking("main", PROFILE, "r1", True, True, False, ())
    assert tracking.roi(order, found)["products"] == ["The  Big  Mug"]


def test_the_capture_script_renders_with_its_settings(shop: Shop) -> None:
    configure(shop, email_capture_enabled=True, email_capture_selectors=["#id_username", "input.newsletter"])
    html = page(product_url(shop))
    config = data(html, "dotsync-capture")
    assert config["selectors"] == ["#id_username", "input.newsletter"]
    assert config["post"] is True and config["identify"] is False
    assert config["url"] == "/dotsync/capture/email/" and config["csrf"]
    assert "/static/dotsync/capture.js" in html
    assert data(html, "dotsync-tag") is None


def test_with_the_tag_only_the_capture_script_identifies_without_posting(tagged: Shop) -> None:
    config = data(page(product_url(tagged)), "dotsync-capture")
    assert config["post"] is False and config["identify"] is True and config["url"] == ""


def test_the_context_processor_offers_the_settings_lazily(tagged: Shop) -> None:
    request = RequestFactory().get("/")
    context = tracking.context(request)
    template = engines["django"].from_string(
        "{% load dotsync_tracking %}{{ dotsync_tracking.profile_id }}|{{ dotsync_tracking.tag_on }}|"
        "{% dotsync_tag %}"
    )
    html = template.render({**context, "request": request})
    assert html.startswith(f"{PROFILE}|True|")
    assert data(html, "dotsync-tag") == {"src": f"https://r3.ddlnk.net/{PROFILE}/ddgtag.js"}


def test_a_template_without_a_request_renders_no_tracking(tagged: Shop) -> None:
    template = engines["django"].from_string(
        "{% load dotsync_tracking %}[{% dotsync_tag %}{% dotsync_search 'q' %}]"
    )
    assert template.render({}) == "[]"


def test_the_settings_cost_a_fixed_few_queries_once_per_request(
    tagged: Shop, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/")
    tracking.site_id(request)  # Django caches the current Site per process after its first request
    with django_assert_num_queries(3):  # the Site's store, the website, its settings row
        found = tracking.for_request(request)
    assert found is not None and found.tag_on
    with django_assert_num_queries(0):
        assert tracking.for_request(request) is found
