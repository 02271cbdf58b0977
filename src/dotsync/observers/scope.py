"""Which dotsync store an event belongs to.

Only orders carry a site in Oscar; for everything else the observers use, in order: the store of
the current request's Site, the store of the customer's last order, the default store. These are
the rules of :mod:`dotsync.store.oscar.scope` (which the history backfill follows), plus the
request, which only an observer sees.
"""

from __future__ import annotations

from dotsync.models import Store, Website
from dotsync.observers.rows import StoreRef


def store_for_site(site_id: int | None) -> StoreRef | None:
    """The store bound to a Django Site id (one query), or None."""
    if site_id is None:
        return None
    row = Store.objects.filter(site_id=site_id).values_list("id", "website_id").first()
    return StoreRef(*row) if row else None


def default_store() -> StoreRef | None:
    """The default website's (lowest id) default store, else its lowest-id store (the adapter's rule)."""
    website = Website.objects.order_by("id").values_list("id", "default_store_id").first()
    if website is None:
        return None
    website_id, store_id = website
    if store_id is None:
        stores = Store.objects.filter(website_id=website_id).order_by("id")
        store_id = stores.values_list("id", flat=True).first()
    return StoreRef(store_id, website_id) if store_id is not None else None
