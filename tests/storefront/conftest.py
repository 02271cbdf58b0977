"""Storefront fixtures: the shared Oscar shop with a dynamic-content passcode on the main website."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from dotsync.models import WebsiteConfig
from dotsync.storefront import sites
from dotsync.testing.shop import Shop

PASSCODE = "edc-passcode-Zq81"


def configure(shop: Shop, **settings: Any) -> None:
    """Set storefront settings (``extra``) on the main website, keeping its passcode."""
    row, _ = WebsiteConfig.objects.get_or_create(website=shop.scope.main)
    row.extra = {**(row.extra or {}), **settings}
    row.save()


@pytest.fixture
def edc_shop(shop: Shop) -> Iterator[Shop]:
    """The shop, its main website's EDC passcode set (encrypted, as the admin stores it).

    Django's cache and the website snapshots (:mod:`dotsync.storefront.sites`) are emptied around each
    test: the cache keeps the rankings (bestsellers, most viewed) of
    another test's shop, whose website ids may be the same.
    """
    row, _ = WebsiteConfig.objects.get_or_create(website=shop.scope.main)
    row.set_edc_passcode(PASSCODE)
    row.save()
    cache.clear()
    sites.forget()
    yield shop
    cache.clear()
    sites.forget()


def edc(path: str, code: str = PASSCODE, website: str = "main", **params: str) -> str:
    """An EDC URL of the main website with the passcode (and query parameters)."""
    query = "&".join([f"code={code}", *(f"{k}={v}" for k, v in params.items())])
    return f"/dotsync/edc/{website}/{path}?{query}"
