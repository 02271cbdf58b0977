"""The one access rule of every dynamic-content view: :func:`edc_view`.

In order, for ``/dotsync/edc/<website>/...?code=<passcode>``:

1. A client (``REMOTE_ADDR``) locked by :mod:`.lockout` gets 429 at once: its passcode is not checked.
2. A client outside the website's ``edc_allowed_ips`` (when the list is not empty) gets 401.
3. The ``code`` parameter is compared with the website's ``edc_passcode`` in constant time
   (:func:`hmac.compare_digest`); a website without a passcode refuses every request (safe by default).
   A wrong passcode counts one failure for the client and answers 401.

Then the view runs with an :class:`EdcContext`. Its fragment is answered as HTML, or 204 when it is empty.
Nothing personal is logged: only the website code, the view and the outcome.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from dotsync.config import WebsiteSettings
from dotsync.models import Website
from dotsync.store.oscar.scope import StoreMap, one_snapshot
from dotsync.storefront import lockout, sites

log = logging.getLogger("dotsync.storefront")

UNAUTHORIZED = "<h1>401 Unauthorized</h1>"
LOCKED = "<h1>429 Too Many Requests</h1>"


@dataclass(frozen=True)
class EdcContext:
    """What a dynamic-content view needs: the website, its settings and the shop's absolute base URL."""

    website: Website
    cfg: WebsiteSettings
    domain: str
    """The domain of the website's default store's Site (empty when unknown)."""
    stores: StoreMap | None = None
    """The scope rule's store map, as the website's snapshot (:mod:`.sites`) holds it."""

    @property
    def base_url(self) -> str:
        """``https://<domain>`` (empty when the domain is unknown)."""
        return f"https://{self.domain}" if self.domain else ""

    def absolute(self, url: str) -> str:
        """``url`` made absolute on the shop's domain (kept when it already is)."""
        if not url or url.startswith(("http://", "https://")):
            return url
        return self.base_url + (url if url.startswith("/") else "/" + url)


Fragment = Callable[..., str]
"""A view body: ``(request, ctx, **url_kwargs) -> html`` (empty html answers 204)."""


def client_ip(request: HttpRequest) -> str:
    """The client's address (``REMOTE_ADDR``: put a proxy's real-IP middleware in front if there is one)."""
    return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")


def _allowed(ip: str, networks: tuple[str, ...]) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def check(request: HttpRequest, website_code: str) -> HttpResponse | EdcContext:
    """Apply the access rule; an :class:`EdcContext` when the request may see content, else the refusal."""
    ip = client_ip(request)
    if lockout.is_locked(ip):
        log.warning("edc refused: client locked (website %s)", website_code)
        return HttpResponse(
            LOCKED, status=429, headers={"Retry-After": str(int(lockout.LOCK_TIME.total_seconds()))}
        )
    snapshot = sites.site(website_code)
    website = snapshot.website if snapshot is not None else None
    cfg = snapshot.cfg if snapshot is not None else None
    if cfg is not None and not _allowed(ip, cfg.edc_allowed_ips):
        log.warning("edc refused: client not in the allow-list (website %s)", website_code)
        return HttpResponse(UNAUTHORIZED, status=401)
    sent = request.GET.get("code", "")
    expected = cfg.edc_passcode if cfg is not None else ""
    # compared even when nothing is expected, so an unknown website takes as long as a wrong passcode
    good = hmac.compare_digest(sent.encode(), (expected or "\x00no passcode\x00").encode())
    if website is None or cfg is None or not expected or not good:
        failures = lockout.record_failure(ip)
        log.warning("edc refused: wrong passcode (website %s, failure %d)", website_code, failures)
        return HttpResponse(UNAUTHORIZED, status=401)
    assert snapshot is not None
    return EdcContext(website=website, cfg=cfg, domain=snapshot.domain, stores=snapshot.fresh_stores())


def edc_view(body: Fragment) -> Callable[..., HttpResponse]:
    """Wrap a fragment body in the access rule; answer its HTML, or 204 when it renders nothing."""

    @functools.wraps(body)
    def view(request: HttpRequest, website: str, **kwargs: Any) -> HttpResponse:
        outcome = check(request, website)
        if isinstance(outcome, HttpResponse):
            return outcome
        with one_snapshot(outcome.stores):  # the scope rule answers from one store map per request
            html = body(request, outcome, **kwargs)
        if len(html.strip()) < 10:  # the reference's rule: shorter output is no content
            return HttpResponse(status=204)
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "private, no-store"
        return response

    return view
