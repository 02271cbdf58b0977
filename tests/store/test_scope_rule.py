"""One scope rule: "which website and store a record belongs to", the same through every path.

The rule is written once in Python (:func:`dotsync.models.scope.fallback_store`, used by the adapter's
``StoreMap`` and the observers' ``resolve_store``), and repeated in the history SQL (a ``COALESCE`` over
the last order's store). This test runs one table of cases through all three: the history SELECT (on
SQLite here, on PostgreSQL in the CI lane), ``StoreMap`` (entity reads), and the observers' rule.
Observers run muted: only the history may write the rows compared here.
"""

from __future__ import annotations

import pytest
from django.contrib.sites.models import Site

from dotsync.models import Contact, Order, Website, Wishlist
from dotsync.models.scope import fallback_store
from dotsync.store.oscar.observers import muted
from dotsync.store.oscar.scope import StoreMap, default_store, resolve_store, store_for_site
from dotsync.testing.contract import apply_history
from dotsync.testing.shop import make_customer, make_product, make_wishlist, place_order

CUSTOMERS = {
    # name: the stores (or "unbound" / "siteless") of the customer's orders, oldest first
    "nobody": [],
    "fr": ["main_fr"],
    "moved": ["main_fr", "outlet_en"],
    "unbound": ["unbound"],
    "siteless": ["siteless"],
}


def test_fallback_store_is_the_default_store_else_the_lowest_id_store():
    assert fallback_store(7, [3, 1, 2]) == 7
    assert fallback_store(None, [3, 1, 2]) == 1
    assert fallback_store(None, []) is None


@pytest.mark.parametrize("default", ["main_fr", None], ids=["default-store-set", "no-default-store"])
def test_history_store_map_and_observers_place_every_case_alike(scope, oscar_adapter, default):
    stores = {s.code: s for s in scope.stores}
    Website.objects.filter(pk=scope.main.pk).update(default_store=stores[default] if default else None)
    expected_default = stores[default] if default else scope.main_en  # main_en: main's lowest-id store
    unbound = Site.objects.create(domain="unbound.example.com", name="No store")
    product = make_product("Scope Tee")
    users, orders = {}, {}
    with muted():
        for name, placed in CUSTOMERS.items():
            user = users[name] = make_customer(f"{name}@example.com")
            make_wishlist(user, [product])
            for n, where in enumerate(placed):
                site = unbound if where == "unbound" else None
                order = place_order(user, [product], stores.get(where), site=site)
                if where == "siteless":
                    type(order)._default_manager.filter(pk=order.pk).update(site=None)
                orders[(name, n)] = (order.pk, where)
    for table in ("email_contact", "email_order", "email_wishlist"):
        apply_history(oscar_adapter, table)
    store_map = StoreMap.load()

    def placed(store_code: str) -> tuple[int, int]:
        store = stores.get(store_code, expected_default)
        return store.website_id, store.pk

    for name, user in users.items():
        want = placed(CUSTOMERS[name][-1] if CUSTOMERS[name] else "")
        history = Contact.objects.filter(customer_id=user.pk).values_list("website_id", "store_id").get()
        wishlist = Wishlist.objects.filter(customer_id=user.pk).values_list("website_id", "store_id").get()
        mapped = store_map.customer_stores([user.pk])[user.pk]
        observed = resolve_store(None, user.pk)
        assert observed is not None, name
        assert history == wishlist == want, name
        assert (store_map.website_of(mapped), mapped) == want, name
        assert (observed.website_id, observed.store_id) == want, name

    for (name, _), (order_id, where) in orders.items():
        want = placed(where)
        site_id = stores[where].site_id if where in stores else unbound.pk if where == "unbound" else None
        history = Order.objects.filter(order_id=order_id).values_list("website_id", "store_id").get()
        mapped = store_map.order_store(site_id)
        observed = store_for_site(site_id) or default_store()
        assert observed is not None, (name, where)
        assert history == want, (name, where)
        assert (store_map.website_of(mapped), mapped) == want, (name, where)
        assert (observed.website_id, observed.store_id) == want, (name, where)
