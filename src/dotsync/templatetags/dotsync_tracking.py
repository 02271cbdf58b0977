"""``{% load dotsync_tracking %}``: dotdigital tracking in Oscar's (or any) templates (issue 12 §4).

- ``{% dotsync_tag %}``: the Dotdigital Tag (in ``<head>``, before the other tags);
- ``{% dotsync_product_browse product %}``: ``ddg.productBrowse`` on a product page;
- ``{% dotsync_search query %}``: ``ddg.event("Searched term", {"Term": query})`` on search results;
- ``{% dotsync_roi order %}``: ROI tracking on the thank-you page;
- ``{% dotsync_email_capture %}``: the easy email capture script with its settings.

Each renders nothing unless the request's website has it configured (:mod:`dotsync.storefront.tracking`),
and nothing when the template has no ``request`` in its context or the settings cannot be read. Data goes
to the page as JSON (``json_script``), never inside script text.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from dotsync.storefront import tracking

register = template.Library()

CAPTURE_PATH = "/dotsync/capture/email/"
"""The capture endpoint when the project does not route :mod:`dotsync.storefront.urls` by name."""


def _tracking(context: template.Context) -> tracking.Tracking | None:
    found = context.get("dotsync_tracking")
    if callable(found):  # the context processor's lazy value
        found = found()
    if isinstance(found, tracking.Tracking):
        return found
    return tracking.for_request(context.get("request"))


def _render(name: str, data: dict[str, Any]) -> SafeString:
    return mark_safe(render_to_string(f"dotsync/tracking/{name}.html", data))  # the template escapes its data


@register.simple_tag(takes_context=True)
def dotsync_tag(context: template.Context) -> str:
    """The Dotdigital Tag: a ``window.ddg`` that queues calls, and the tag's script for the website."""
    found = _tracking(context)
    if found is None or not found.tag_on:
        return ""
    return _render("tag", {"config": {"src": found.tag_src}})


@register.simple_tag(takes_context=True)
def dotsync_product_browse(context: template.Context, product: Any) -> str:
    """``ddg.productBrowse({...})`` for ``product`` (with the tag only)."""
    found = _tracking(context)
    if found is None or not found.tag_on or product is None or getattr(product, "pk", None) is None:
        return ""
    try:
        data = tracking.product_browse(product, context.get("request"))
    except Exception:
        tracking.log.exception("product browse data could not be built; the page renders without it")
        return ""
    return _render("product_browse", {"data": data})


@register.simple_tag(takes_context=True)
def dotsync_search(context: template.Context, query: Any) -> str:
    """``ddg.event("Searched term", {"Term": query})`` (with the tag only, for a non-empty query)."""
    found = _tracking(context)
    term = str(query or "").strip()
    if found is None or not found.tag_on or not term:
        return ""
    return _render("search", {"data": {"Term": term}})


@register.simple_tag(takes_context=True)
def dotsync_roi(context: template.Context, order: Any) -> str:
    """ROI tracking of ``order`` (API enabled, ``roi_enabled`` and a known region)."""
    found = _tracking(context)
    if found is None or not found.roi_on or order is None or getattr(order, "pk", None) is None:
        return ""
    return _render("roi", {"data": tracking.roi(order, found)})


def capture_url() -> str:
    """The capture endpoint's path (``dotsync-capture-email``), or :data:`CAPTURE_PATH`."""
    try:
        return reverse("dotsync-capture-email")
    except NoReverseMatch:
        return CAPTURE_PATH


@register.simple_tag(takes_context=True)
def dotsync_email_capture(context: template.Context) -> str:
    """The capture script and its settings: selectors, endpoint and CSRF token, whether to post, identify."""
    found = _tracking(context)
    request = context.get("request")
    if found is None or not found.capture_on or request is None:
        return ""
    config = {
        "selectors": list(found.selectors),
        "post": found.capture_enabled,
        "identify": found.tag_on,
        "url": capture_url() if found.capture_enabled else "",
        "csrf": get_token(request) if found.capture_enabled else "",
    }
    return _render("capture", {"config": config})
