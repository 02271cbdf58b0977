"""What a dynamic-content request needs to know of its website, read once per process for a few seconds.

Every EDC request starts with the same reads: the website by its code, its settings (with the passcode
and the IP allow-list), the shop's domain and the store map of the scope rule. They change when a
merchant edits the configuration, not per request, yet they were four to five of a request's ten to
fifteen queries. :func:`site` keeps them per process for :data:`SITE_TTL` seconds.

* **In this process a change applies at once:** saving or deleting a website, a store or their
  configuration rows (the admin, ``dotsync config set``), or Django's ``setting_changed`` (tests'
  ``override_settings``), empties the memo.
* **In another process** (a ``dotsync serve`` worker while the admin runs elsewhere) it applies within
  :data:`SITE_TTL` seconds: a rotated passcode opens nothing after that.
* The memo lives in the process's memory, never in Django's cache: the settings hold the decrypted
  passcode and API password, which must not be written to a shared cache such as Redis.
* The per-client lockout is not part of it: it is read on every request (:mod:`.lockout`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.sites.models import Site as DjangoSite
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save

from dotsync.config import WebsiteSettings, get_config
from dotsync.models import Store, StoreConfig, Website, WebsiteConfig
from dotsync.store.oscar.scope import StoreMap

SITE_TTL = 10.0
"""Seconds a process keeps a website's access snapshot (a change made in another process applies after it)."""

_lock = threading.Lock()
_memo: dict[str, tuple[float, Site]] = {}


@dataclass(frozen=True)
class Site:
    """A website's access snapshot: the website, its settings, the shop's domain and the store map."""

    website: Website
    cfg: WebsiteSettings
    domain: str
    """The domain of the website's default store's Site (empty when unknown)."""
    stores: StoreMap

    def fresh_stores(self) -> StoreMap:
        """The store map for one request (its customer answers are the request's own)."""
        return replace(self.stores, known_customers={})


def site(code: str) -> Site | None:
    """The snapshot of the website with this code (None when there is no such website).

    Read from the database at most once per :data:`SITE_TTL` seconds per process and website; an
    unknown code is not kept (it costs its queries, and the caller counts the failure).
    """
    now = time.time()
    kept = _memo.get(code)
    if kept is not None and now < kept[0] <= now + SITE_TTL:  # a clock set back does not stretch it
        return kept[1]
    if not code:
        return None
    website = Website.objects.select_related("default_store__site").filter(code=code).first()
    if website is None:
        return None
    found = Site(website=website, cfg=get_config(website), domain=_domain(website), stores=StoreMap.load())
    with _lock:
        _memo[code] = (now + SITE_TTL, found)
    return found


def forget(**_: Any) -> None:
    """Drop every kept snapshot (connected to the configuration's save and delete signals)."""
    with _lock:
        _memo.clear()


def _domain(website: Website) -> str:
    store = website.default_store
    if store is None or store.site is None:
        store = Store.objects.filter(website=website, site__isnull=False).select_related("site").first()
    return store.site.domain if store is not None and store.site is not None else ""


def connect() -> None:
    """Empty the memo whenever a website, a store, their configuration or a Django Site changes here."""
    for model in (Website, Store, WebsiteConfig, StoreConfig, DjangoSite):
        post_save.connect(forget, sender=model, dispatch_uid=f"dotsync.sites.save.{model.__name__}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"dotsync.sites.delete.{model.__name__}")
    setting_changed.connect(forget, dispatch_uid="dotsync.sites.setting_changed")
