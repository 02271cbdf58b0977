"""The demo's storefront links: per website, working URLs for one demo customer, for ``dotsync serve``.

Each website gets a fresh random dynamic-content passcode (stored encrypted, like the admin stores it),
and the links use it: the demo's passcode is printed inside its URLs because opening them is the point
of the demo; a real shop's passcode is only ever typed into the admin and the email templates.

For each website the demo customer is the first customer (by id) of that website with an open,
non-empty basket, one with a wishlist when there is one; their latest order, wishlist and a few recorded
product views fill the other fragments. A website with no manual product push or fallback products
gets a few public products for both, as a merchant would set them in the admin.

The cart-restore link is for a guest basket of the website when one exists (it restores
straight into the browser's session), else for the customer's basket (through the login page).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from oscar.core.loading import get_model

from dotsync import links
from dotsync.models import ProductView, Store, Website, WebsiteConfig
from dotsync.store.oscar.scope import StoreMap

SERVE_URL = "http://127.0.0.1:8000"
"""Where ``dotsync serve`` answers by default."""

CANDIDATES = 2000
"""Open baskets looked at per website to find the demo customer (a fixed bound, not the whole table)."""

VIEWS = 4
"""Product views recorded for the demo customer, so "recently viewed" and "most viewed" have content."""


def demo_links(base_url: str = SERVE_URL) -> dict[str, dict[str, Any]]:
    """Set each enabled website's passcode and return its links (website code -> name -> URL).

    Keys per website: ``customer`` (the demo customer's id), ``edc`` (name -> URL), ``restore`` and
    ``subscribe`` (a URL, or None when the shop has nothing to show there).
    """
    stores = StoreMap.load()
    out: dict[str, dict[str, Any]] = {}
    for website in Website.objects.order_by("id"):
        row, _ = WebsiteConfig.objects.get_or_create(website=website)
        passcode = secrets.token_urlsafe(12)
        row.set_edc_passcode(passcode)
        extra = dict(row.extra or {})
        for key in ("edc_push_product_ids", "edc_fallback_product_ids"):
            extra.setdefault(key, _public_products())
        row.extra = extra
        row.save(update_fields=["edc_passcode_encrypted", "extra"])
        out[website.code] = _website_links(website, stores, passcode, base_url.rstrip("/"))
    return out


def _website_links(website: Website, stores: StoreMap, passcode: str, base: str) -> dict[str, Any]:
    basket_model = get_model("basket", "Basket")
    line_model = get_model("basket", "Line")
    order_model = get_model("order", "Order")
    wishlist_model = get_model("wishlists", "WishList")
    open_baskets = (
        basket_model._default_manager.filter(status=basket_model.OPEN)
        .filter(Exists(line_model._default_manager.filter(basket_id=OuterRef("pk"))))
        .order_by("id")
    )
    owned = list(open_baskets.filter(owner__isnull=False).values_list("id", "owner_id")[:CANDIDATES])
    places = stores.customer_stores([owner for _, owner in owned]) if owned else {}
    mine = [(b, owner) for b, owner in owned if stores.website_of(places[owner]) == website.pk]
    wishers = set(
        wishlist_model._default_manager.filter(
            owner_id__in=[o for _, o in mine], lines__isnull=False
        ).values_list("owner_id", flat=True)
    )
    customer_basket = next((m for m in mine if m[1] in wishers), mine[0] if mine else None)
    guest_basket = None
    if stores.website_of(stores.default_store_id) == website.pk:
        guest_basket = open_baskets.filter(owner__isnull=True).values_list("id", flat=True).first()
    links_out: dict[str, Any] = {"customer": None, "edc": {}, "restore": None, "subscribe": _subscribe(base)}
    code = website.code

    def edc(name: str, query: str = "", **kwargs: Any) -> str:
        path = reverse(f"dotsync-edc-{name}", kwargs={"website": code, **kwargs})
        return f"{base}{path}?code={passcode}{query}"

    links_out["edc"]["bestsellers"] = edc("bestsellers", "&period=M")
    links_out["edc"]["mostviewed"] = edc("mostviewed", "&period=M")
    links_out["edc"]["push"] = edc("push")
    if customer_basket is not None:
        basket_id, customer = customer_basket
        links_out["customer"] = customer
        _record_views(customer, basket_id, places[customer])
        links_out["edc"]["basket"] = edc("basket", basket_id=basket_id)
        links_out["edc"]["wishlist"] = edc("wishlist", customer_id=customer)
        links_out["edc"]["recentlyviewed"] = edc("recentlyviewed", customer_id=customer)
        links_out["edc"]["crosssell_basket"] = edc(
            "recommended", kind="crosssell", source="basket", source_id=basket_id
        )
        order = order_model._default_manager.filter(user_id=customer).order_by("-id").values("id").first()
        if order is not None:
            links_out["edc"]["review"] = edc("review", order_id=order["id"])
            links_out["edc"]["related_order"] = edc(
                "recommended", kind="related", source="order", source_id=order["id"]
            )
            links_out["edc"]["upsell_order"] = edc(
                "recommended", kind="upsell", source="order", source_id=order["id"]
            )
        offer = _voucher_offer()
        email = get_user_model()._default_manager.filter(pk=customer).values_list("email", flat=True).first()
        if offer is not None and email:  # a unique code for the customer, from the demo's voucher offer
            query = "&" + urlencode({"code_email": email, "code_expires_after": 7})
            links_out["edc"]["coupon"] = edc("coupon", query, offer_id=offer)
        if wishlist_model._default_manager.filter(owner_id=customer).exists():
            links_out["edc"]["related_wishlist"] = edc(
                "recommended", kind="related", source="wishlist", source_id=customer
            )
    restore = guest_basket if guest_basket is not None else (customer_basket or (None,))[0]
    if restore is not None:
        links_out["restore"] = (
            base + links.restore_path(restore, code) + "?utm_source=dotdigital&utm_medium=email"
        )
    return links_out


def _voucher_offer() -> int | None:
    """The first voucher-type offer (the demo's ``WELCOME10``), whose unique codes the coupon view makes."""
    offers = get_model("offer", "ConditionalOffer")
    return (
        offers._default_manager.filter(offer_type=offers.VOUCHER)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def _public_products() -> list[int]:
    """A few public products, for the manual product push and the recommendations' fallback."""
    product_model = get_model("catalogue", "Product")
    return list(
        product_model._default_manager.filter(is_public=True, structure=product_model.STANDALONE)
        .order_by("id")
        .values_list("id", flat=True)[:VIEWS]
    )


def _record_views(customer: int, basket_id: int, store_id: int | None) -> None:
    """A few time-stamped product views by the customer (the products of their basket), as a shop records."""
    line_model = get_model("basket", "Line")
    site_id = None
    if store_id is not None:
        site_id = Store.objects.filter(pk=store_id).values_list("site_id", flat=True).first()
    products = list(
        line_model._default_manager.filter(basket_id=basket_id).values_list("product_id", flat=True)[:VIEWS]
    )
    now = timezone.now()
    ProductView.objects.bulk_create(
        ProductView(product_id=p, user_id=customer, site_id=site_id, viewed_at=now)
        for p in products
        if p is not None
    )


def _subscribe(base: str) -> str | None:
    """The subscription form's URL, when the newsletter pages are installed."""
    try:
        return base + reverse("dotsync-newsletter-subscribe")
    except NoReverseMatch:
        return None
