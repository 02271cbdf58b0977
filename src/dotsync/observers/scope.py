"""Which dotsync store an event belongs to.

Only orders carry a site in Oscar; for everything else the observers use, in order: the store of
the current request's Site, the store of the customer's last order, the default store (the one
bound to ``settings.SITE_ID``, else the first website's default store).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from dotsync.models import Store, Website
from dotsync.observers.rows import StoreRef


def store_for_site(site_id: int | None) -> StoreRef | None:
    """The store bound to a Django Site id (one query), or None."""
    if site_id is None:
        return None
    row = Store.objects.filter(site_id=site_id).values_list("id", "website_id").first()
    return StoreRef(*row) if row else None


def store_for_request(request: Any) -> StoreRef | None:
    """The store of the request's current Site (host-based when ``SITE_ID`` is unset), or None."""
    if request is None:
        return None
    from django.contrib.sites.shortcuts import get_current_site

    site = get_current_site(request)
    return store_for_site(getattr(site, "pk", None))


def default_store() -> StoreRef | None:
    """The store bound to ``settings.SITE_ID``, else the first website's default store, else any store."""
    ref = store_for_site(getattr(settings, "SITE_ID", None))
    if ref:
        return ref
    website = (
        Website.objects.filter(default_store__isnull=False)
        .order_by("id")
        .values_list("default_store_id", "id")
        .first()
    )
    if website:
        return StoreRef(website[0], website[1])
    row = Store.objects.order_by("id").values_list("id", "website_id").first()
    return StoreRef(*row) if row else None
