"""The cart-restore view: a signed link (:mod:`dotsync.links`) brings a basket back into the session.

- A customer's basket: when that customer is logged in, it is merged into the session's basket (or is
  already it); otherwise the shopper goes through the login page and back to this link.
- A guest basket: it becomes the session's basket (Oscar's signed basket cookie), or is merged into the
  session's basket when the shopper already has one with items, or is logged in.
- Query parameters (UTM, ``dm_i``, any tracking) are carried through to the basket page.
- A tampered or expired token, or a basket no longer open, lands on the shopper's own basket page with a
  message: never on someone else's basket.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.signing import Signer
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from oscar.core.loading import get_model

from dotsync import links
from dotsync.config import get_config
from dotsync.models import Store, Website
from dotsync.store.oscar.scope import StoreMap

log = logging.getLogger("dotsync.storefront")

BASKET_PATH = "/basket/"
"""Oscar's basket page when the project does not route Oscar's URLs."""
REFUSED = "This basket link is invalid or has expired."
OPEN = "Open"


def restore_url(basket: Any, params: dict[str, str] | None = None) -> str:
    """The signed restore link of an Oscar ``basket``, on its store's domain.

    The store is the owner's (their last order's store, as the sync places customers), else the default
    store; ``params`` (UTM, tracking) are appended. Jobs that already know the website and domain call
    :func:`dotsync.links.restore_url` directly.

    Raises:
        ValueError: no store is configured, so no website can sign the link.
    """
    stores = StoreMap.load()
    store_id = (
        stores.customer_stores([basket.owner_id])[basket.owner_id]
        if basket.owner_id
        else stores.default_store_id
    )
    store = Store.objects.select_related("website", "site").filter(pk=store_id).first() if store_id else None
    if store is None:
        raise ValueError("no store is configured: a restore link needs a website")
    domain = store.site.domain if store.site is not None else None
    return links.restore_url(basket.pk, store.website.code, domain, params)


def basket_page() -> str:
    """Oscar's basket page (``basket:summary``), or :data:`BASKET_PATH`."""
    try:
        return reverse("basket:summary")
    except NoReverseMatch:
        return BASKET_PATH


def _to_basket(request: HttpRequest) -> HttpResponseRedirect:
    params = request.GET.urlencode()
    return HttpResponseRedirect(basket_page() + (f"?{params}" if params else ""))


def _refuse(request: HttpRequest, why: str) -> HttpResponse:
    log.info("cart restore refused: %s", why)  # no basket id, no token: nothing personal
    messages.warning(request, REFUSED)
    return _to_basket(request)


def _merge(request: HttpRequest, basket: Any) -> None:
    """Merge ``basket`` into the session's basket (Oscar's merge: lines not already there are added)."""
    current = request.basket  # type: ignore[attr-defined]  # Oscar's BasketMiddleware
    if current.id == basket.pk:
        return
    if current.id is None:
        current.save()
    current.merge(basket, add_quantities=False)


def restore(request: HttpRequest, website: str, token: str) -> HttpResponse:
    """``dotsync/cart/<website>/<token>/``: restore the signed basket, then show the basket page."""
    site = Website.objects.filter(code=website).first()
    if site is None:
        return _refuse(request, "unknown website")
    max_age = get_config(site).cart_restore_max_age * 3600
    basket_id = links.read_token(token, max_age)
    if basket_id is None:
        return _refuse(request, "bad or expired token")
    basket_model = get_model("basket", "Basket")
    basket = basket_model._default_manager.filter(pk=basket_id, status=OPEN).first()
    if basket is None:
        return _refuse(request, "basket no longer open")
    user = request.user
    if basket.owner_id is not None:
        if not user.is_authenticated or user.pk != basket.owner_id:
            return redirect_to_login(request.get_full_path(), str(settings.LOGIN_URL))
        _merge(request, basket)
        return _to_basket(request)
    if user.is_authenticated:
        _merge(request, basket)
        return _to_basket(request)
    cookie = str(getattr(settings, "OSCAR_BASKET_COOKIE_OPEN", "oscar_open_basket"))
    if cookie in request.COOKIES:
        current = request.basket  # type: ignore[attr-defined]
        if current.id is not None and current.id != basket.pk and not current.is_empty:
            _merge(request, basket)
            return _to_basket(request)
    response = _to_basket(request)
    response.set_cookie(
        cookie,
        Signer().sign(basket.pk),
        max_age=getattr(settings, "OSCAR_BASKET_COOKIE_LIFETIME", None),
        secure=bool(getattr(settings, "OSCAR_BASKET_COOKIE_SECURE", False)),
        httponly=True,
    )
    return response
