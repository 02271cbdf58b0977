"""Which website a basket, a customer or an order belongs to: a website's passcode opens only its own.

The rule is the sync's (:class:`~dotsync.store.oscar.scope.StoreMap`): an order belongs to the store of
its site (the default store when the site has none); a customer to the store of their last order, else
the default store; a basket to its owner's store (a guest basket to the default store). A fragment for
a record of another website is empty (204), so one website's passcode never reads another's customers.
Each check is a fixed handful of queries.
"""

from __future__ import annotations

from oscar.core.loading import get_model

from dotsync.store.oscar.scope import StoreMap
from dotsync.storefront.passcode import EdcContext


def customer_in_website(ctx: EdcContext, customer_id: int) -> bool:
    """Whether the customer belongs to the request's website."""
    stores = StoreMap.load()
    store = stores.customer_stores([customer_id])[customer_id]
    return stores.website_of(store) == ctx.website.pk


def order_in_website(ctx: EdcContext, order_id: int) -> bool:
    """Whether the order exists and belongs to the request's website."""
    order = get_model("order", "Order")
    found = order._default_manager.filter(pk=order_id).values_list("site_id", flat=True)
    if not found:
        return False
    stores = StoreMap.load()
    return stores.website_of(stores.order_store(found[0])) == ctx.website.pk


def basket_in_website(ctx: EdcContext, basket_id: int) -> bool:
    """Whether the basket exists and its owner (a guest basket: the default store) is the website's."""
    basket = get_model("basket", "Basket")
    found = basket._default_manager.filter(pk=basket_id).values_list("owner_id", flat=True)
    if not found:
        return False
    owner = found[0]
    if owner is not None:
        return customer_in_website(ctx, owner)
    stores = StoreMap.load()
    return stores.website_of(stores.default_store_id) == ctx.website.pk
