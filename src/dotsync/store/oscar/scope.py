"""Which dotsync store and website an Oscar entity belongs to.

Oscar links only orders to a site (``Order.site``). The rules, shared by entity reads and the
history SQL (:mod:`dotsync.store.oscar.history`):

* **default website** is the website with the lowest id; **default store** is its
  ``default_store``, else its lowest-id store.
* **order** -> the store bound to ``Order.site`` (``dotsync_store.site_id``); an order with no
  site, or on a site no store is bound to, falls back to the default store.
* **customer** -> the store of their last order (highest order id), else the default store.
  Observers also keep a customer's row in every website they ordered in or registered on with a
  request; a row made by the default-store fallback goes when the customer first orders elsewhere,
  while it is still unsent and holds nothing (:func:`dotsync.jobs.events.customer_moved`).
* **guest** -> one per (email, website) over orders with no user; the store of their last such
  order in the website.
* **subscriber** -> the ``newsletter_subscriber`` row's own store and its website.
* **basket, wishlist, review** -> the store of the owner's last order, else the default store
  (anonymous reviews: the default store). Observers capture the store from the request at event
  time (:func:`resolve_store`); these rules apply to history and to entity reads.

The default store is :func:`dotsync.models.scope.fallback_store`; :func:`store_for_site`,
:func:`default_store` and :func:`resolve_store` are the same rules for one event (the observers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db.models import Max, Q, Subquery

from dotsync.models import Store, Website
from dotsync.models.scope import fallback_store
from dotsync.store.events import StoreRef
from dotsync.store.oscar.models import oscar_models

_SNAPSHOT: ContextVar[list[StoreMap] | None] = ContextVar("dotsync_store_snapshot", default=None)


@contextmanager
def one_snapshot(stores: StoreMap | None = None) -> Iterator[None]:
    """Within this block :meth:`StoreMap.load` reads the stores once, and each customer's store once.

    For one short unit of work that asks the scope rule several times (a dynamic-content request:
    its access check, then the adapter's read of the same basket), so it answers with one reading of
    the stores instead of one per question. ``stores``: the map to answer with (read when first asked
    otherwise). Jobs load a fresh map per page and do not use it.
    """
    token = _SNAPSHOT.set([stores] if stores is not None else [])
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


@dataclass(frozen=True)
class StoreMap:
    """A snapshot of dotsync's websites and stores (a handful of rows, loaded per batch)."""

    site_to_store: dict[int, int]
    store_website: dict[int, int]
    default_website_id: int | None
    default_store_id: int | None
    known_customers: dict[int, int | None] = field(default_factory=dict, compare=False, repr=False)
    """Customers' stores already read through this map (kept only under :func:`one_snapshot`)."""

    @classmethod
    def load(cls) -> StoreMap:
        """Read the stores and websites (two small queries; none again under :func:`one_snapshot`)."""
        snapshot = _SNAPSHOT.get()
        if snapshot:
            return snapshot[0]
        loaded = cls._read()
        if snapshot is not None:
            snapshot.append(loaded)
        return loaded

    @classmethod
    def _read(cls) -> StoreMap:
        stores = list(Store.objects.order_by("id").values_list("id", "website_id", "site_id"))
        website = Website.objects.order_by("id").values_list("id", "default_store_id").first()
        default_website_id = default_store_id = None
        if website is not None:
            default_website_id, default = website
            default_store_id = fallback_store(default, (s for s, w, _ in stores if w == default_website_id))
        return cls(
            site_to_store={site: store for store, _, site in stores if site is not None},
            store_website={store: web for store, web, _ in stores},
            default_website_id=default_website_id,
            default_store_id=default_store_id,
        )

    def store_for_site(self, site_id: int | None) -> int | None:
        """The store bound to a site, without fallback."""
        return self.site_to_store.get(site_id) if site_id is not None else None

    def order_store(self, site_id: int | None) -> int | None:
        """The store of an order placed on ``site_id`` (default store as fallback)."""
        store = self.store_for_site(site_id)
        return store if store is not None else self.default_store_id

    def website_of(self, store_id: int | None) -> int | None:
        """The website of a store."""
        return self.store_website.get(store_id) if store_id is not None else None

    def order_filter(self, store_ids: Sequence[int], prefix: str = "") -> Q:
        """A ``Q`` on orders (or ``<prefix>`` related orders) that belong to one of ``store_ids``.

        Includes orders without a bound site when the default store is among ``store_ids``.
        """
        wanted = set(store_ids)
        sites = [site for site, store in self.site_to_store.items() if store in wanted]
        q = Q(**{f"{prefix}site_id__in": sites})
        if self.default_store_id in wanted:
            q |= Q(**{f"{prefix}site_id__isnull": True}) | ~Q(
                **{f"{prefix}site_id__in": list(self.site_to_store)}
            )
        return q

    def customer_stores(self, user_ids: Iterable[int]) -> dict[int, int | None]:
        """Each customer's store: their last order's store, else the default store (two queries).

        Under :func:`one_snapshot` a customer already answered is not read again.
        """
        remember = _SNAPSHOT.get() is not None
        ids = list(user_ids)
        known = {uid: self.known_customers[uid] for uid in ids if uid in self.known_customers}
        if len(known) == len(ids):
            return known
        ids = [uid for uid in ids if uid not in known]
        Order = oscar_models().Order
        last = (
            Order._default_manager.filter(user_id__in=ids)
            .values("user_id")
            .annotate(last=Max("id"))
            .values("last")
        )
        found = dict(Order._default_manager.filter(id__in=last).values_list("user_id", "site_id"))
        read = {uid: self.order_store(found[uid]) if uid in found else self.default_store_id for uid in ids}
        if remember:
            self.known_customers.update(read)
        return {**known, **read}


def store_for_site(site_id: int | None) -> StoreRef | None:
    """The store bound to a Django Site id (one query), or None."""
    if site_id is None:
        return None
    row = Store.objects.filter(site_id=site_id).values_list("id", "website_id").first()
    return StoreRef(*row) if row else None


def default_store() -> StoreRef | None:
    """The default website's (lowest id) :func:`~dotsync.models.scope.fallback_store`."""
    website = Website.objects.order_by("id").values_list("id", "default_store_id").first()
    if website is None:
        return None
    website_id, store_id = website
    if store_id is None:
        store_id = fallback_store(
            None, Store.objects.filter(website_id=website_id).values_list("id", flat=True)
        )
    return StoreRef(store_id, website_id) if store_id is not None else None


def last_order_store(user_id: int | None) -> StoreRef | None:
    """The store of the customer's last order (highest id; one query), or None."""
    if user_id is None:
        return None
    last_site = (
        oscar_models().Order._default_manager.filter(user_id=user_id).order_by("-id").values("site_id")[:1]
    )
    row = Store.objects.filter(site_id=Subquery(last_site)).values_list("id", "website_id").first()
    return StoreRef(*row) if row else None


def resolve_store(site_id: int | None, user_id: int | None) -> StoreRef | None:
    """An event's store: the request's store, else the customer's last order store, else the default store."""
    return store_for_site(site_id) or last_order_store(user_id) or default_store()
