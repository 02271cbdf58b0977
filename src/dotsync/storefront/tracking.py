"""Page and ROI tracking on the shop's pages (issue 12 §4, reference §6): what each page sends to dotdigital.

:func:`for_request` resolves the request's website (its Site's store, else the default store, as the
observers place a request) and that website's tracking settings once per request; the template tags of
:mod:`dotsync.templatetags.dotsync_tracking` render from it, and :func:`context` (a context processor)
offers it to templates as ``dotsync_tracking``.

- **The Dotdigital Tag** renders when the website has a ``tracking_profile_id`` and the region is known
  from the account's API endpoint (``https://r1-api.dotdigital.com`` -> ``r1``); it loads
  ``https://<region>.ddlnk.net/<profile id>/ddgtag.js`` behind a ``window.ddg`` that queues calls until then.
- **Product browse** (:func:`product_browse`), **search** (``ddg.event("Searched term", {"Term": q})``) and
  **identify** on email capture go through ``window.ddg``, so they render only with the tag.
- **ROI** on the thank-you page renders when the API is enabled, ``roi_enabled`` is on and the region is
  known: ``_dmTrack("product", name)`` per top-level line, ``_dmTrack("CheckOutAmount", "1,234.50")`` and
  ``_dmCallHandler()`` once ``<region>.ddlnk.net/_dmmpt.js`` has loaded (:func:`roi`).

An unknown website, unreadable settings or an unknown endpoint render nothing: a page never breaks because of
tracking. Every value reaches the page as JSON data (``json_script``); nothing personal is sent beyond what
the reference sends (the search term, and the email a shopper typed, to ``ddg.identify``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.html import strip_tags

from dotsync.config import get_config
from dotsync.models import Website
from dotsync.store.oscar import mapping
from dotsync.store.oscar.scope import resolve_store
from dotsync.storefront import products

log = logging.getLogger("dotsync.storefront")

TAG_HOST = "ddlnk.net"
"""Where the Dotdigital Tag and the ROI script are served from (reference §4.9 ``tracking/host``)."""
DESCRIPTION_LIMIT = 500
"""Characters of a product's description sent with a product browse."""
_REGION_RE = re.compile(r"^(r[0-9]+)(?:-api[^.]*\.(?:dotdigital|dotmailer)\.com|\.apiconnector\.com)$")
_CACHE_ATTR = "_dotsync_tracking"


def region(endpoint: str) -> str:
    """The region of an API endpoint (``https://r2-api.dotdigital.com`` -> ``r2``); empty when unknown.

    A loopback sandbox, an endpoint without a region or text that is no URL has no region: no tag renders.
    """
    try:
        host = (urlsplit(endpoint).hostname or "").lower()
    except ValueError:
        return ""
    found = _REGION_RE.match(host)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class Tracking:
    """A website's tracking settings, as the pages of one request use them."""

    website_code: str
    profile_id: str
    """The Dotdigital Tag id (empty: no tag)."""
    region: str
    """``r1``, ``r2``...: from the account's API endpoint (empty: unknown, nothing renders)."""
    api_enabled: bool
    roi_enabled: bool
    capture_enabled: bool
    """Typed emails are posted to the capture endpoint (easy email capture)."""
    selectors: tuple[str, ...]
    """CSS selectors of the email fields the capture script watches."""

    @property
    def tag_on(self) -> bool:
        """The Dotdigital Tag renders (and with it product browse, search and identify)."""
        return bool(self.profile_id and self.region)

    @property
    def roi_on(self) -> bool:
        """ROI tracking renders on the thank-you page."""
        return bool(self.api_enabled and self.roi_enabled and self.region)

    @property
    def capture_on(self) -> bool:
        """The capture script renders: it posts typed emails, or identifies them to the tag, or both."""
        return bool(self.selectors and (self.capture_enabled or self.tag_on))

    @property
    def tag_src(self) -> str:
        """The tag's script: ``https://<region>.ddlnk.net/<profile id>/ddgtag.js``."""
        return f"https://{self.region}.{TAG_HOST}/{self.profile_id}/ddgtag.js"

    @property
    def roi_src(self) -> str:
        """The ROI script: ``https://<region>.ddlnk.net/_dmmpt.js``."""
        return f"https://{self.region}.{TAG_HOST}/_dmmpt.js"


def site_id(request: HttpRequest) -> int | None:
    """The request's Django Site id, or None (no sites framework, or a host with no Site)."""
    from django.contrib.sites.shortcuts import get_current_site

    try:
        return getattr(get_current_site(request), "pk", None)
    except Exception:  # an unknown host: fall back to the default store
        return None


def _resolve(request: HttpRequest) -> Tracking | None:
    store = resolve_store(site_id(request), None)
    if store is None:
        return None
    website = Website.objects.filter(pk=store.website_id).first()
    if website is None:
        return None
    cfg = get_config(website)
    return Tracking(
        website_code=website.code,
        profile_id=cfg.tracking_profile_id,
        region=region(cfg.api_endpoint or cfg.api_base_url),
        api_enabled=cfg.enabled,
        roi_enabled=cfg.roi_enabled,
        capture_enabled=cfg.email_capture_enabled,
        selectors=cfg.email_capture_selectors,
    )


def for_request(request: HttpRequest | None) -> Tracking | None:
    """The request's website's tracking settings (resolved once per request); None when there are none.

    Never raises: a failure to resolve them is logged (without the request's data) and renders nothing.
    """
    if request is None:
        return None
    if hasattr(request, _CACHE_ATTR):
        cached: Tracking | None = getattr(request, _CACHE_ATTR)
        return cached
    try:
        found = _resolve(request)
    except Exception:
        log.exception("tracking settings could not be resolved; the page renders without tracking")
        found = None
    setattr(request, _CACHE_ATTR, found)
    return found


def context(request: HttpRequest) -> dict[str, Callable[[], Tracking | None]]:
    """Context processor (``dotsync.storefront.tracking.context``): ``dotsync_tracking``.

    The value is resolved when a template first reads it (``{{ dotsync_tracking.tag_on }}``), so pages that
    show no tracking cost nothing.
    """
    return {"dotsync_tracking": lambda: for_request(request)}


def _absolute(request: HttpRequest | None, url: str) -> str:
    if not url or url.startswith(("http://", "https://")) or request is None:
        return url
    return request.build_absolute_uri(url)


def _money(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def product_browse(product: Any, request: HttpRequest | None) -> dict[str, Any]:
    """The ``ddg.productBrowse`` data of an Oscar product (reference ``TrackingProductAggregation``).

    Oscar has no separate sale price: ``salePrice`` is the price the shopper pays. ``brand`` is the
    product's ``brand`` (else ``manufacturer``) attribute when it has one.
    """
    strategy = getattr(request, "strategy", None) or products.strategy()
    price = mapping.pricing(strategy, product)
    in_stock = price.price is not None and (price.stock is None or price.stock > 0)
    attributes = mapping.attributes(product)
    return {
        "productId": str(product.pk),
        "name": product.get_title(),
        "url": _absolute(request, mapping.product_url(product)),
        "stock": "In stock" if in_stock else "Out of stock",
        "currency": price.currency,
        "status": "Enabled" if product.is_public else "Disabled",
        "price": _money(price.price),
        "priceInclTax": _money(price.price_incl_tax),
        "sku": mapping.sku(product),
        "brand": attributes.get("brand") or attributes.get("manufacturer") or "",
        "categories": list(mapping.category_names(product)),
        "imageUrl": _absolute(request, mapping.image_url(product)),
        "description": strip_tags(product.description or "").strip()[:DESCRIPTION_LIMIT],
        "extraData": {"type": product.structure},
        "salePrice": _money(price.price),
        "salePriceInclTax": _money(price.price_incl_tax),
    }


def roi_amount(total: Decimal) -> str:
    """The checkout amount as the reference sends it: 2 decimals, thousands separated by commas."""
    return f"{total:,.2f}"


def roi(order: Any, tracking: Tracking) -> dict[str, Any]:
    """The ROI data of an Oscar order: its top-level line titles (double quotes as spaces) and total."""
    names = [str(line.title).replace('"', " ") for line in order.lines.all()]
    return {"src": tracking.roi_src, "products": names, "amount": roi_amount(order.total_incl_tax)}
