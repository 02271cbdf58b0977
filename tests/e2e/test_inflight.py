"""End to end: a change made while a record's first import is still in flight reaches the platform.

Issue 8, defect 1. Each case creates a record in the shop after a first full sync, runs ``sync all``
only as far as starting the imports (``max_rounds=0``: batch and start, no poll), so the import that
creates the record on the platform is in flight, then makes the change that calls for a retire step
(unsubscribe, cancel, empty, unapprove, unpublish, delete) through Oscar's own flows, and drains.
The platform must then hold the store's final state, not the state the first import carried.

The sandbox's ``import_polls`` knob keeps every import started in the first run unfinished until it
has been polled, so the race is reproduced deterministically, without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from oscar.core.loading import get_model

from dotsync.jobs.runner import sync_all
from dotsync.models import Catalog, Contact, Order, Quote, Review, SyncStatus, Wishlist
from dotsync.models.newsletter import SubscriberStatus
from dotsync.testing.shop import (
    make_basket,
    make_customer,
    make_product,
    make_review,
    make_wishlist,
    place_order,
    set_order_status,
    subscribe,
)
from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import AccountView, view

pytestmark = pytest.mark.django_db(transaction=False)

NEW_SUB = "nina@example.com"
NEW_CUSTOMER = "oscar.new@example.com"


@dataclass
class Case:
    """One retire kind: create the record, change it while its import is in flight, check the platform."""

    create: Callable[[Any], Any]
    sync_row: Callable[[Any], Any]
    change: Callable[[Any, Any], None]
    gone: Callable[[AccountView, Any], bool]


def _unsubscribe_create(shop: Any) -> Any:
    return subscribe(NEW_SUB, shop.scope.main_en)


def _unsubscribe_change(shop: Any, sub: Any) -> None:
    subscribe(NEW_SUB, shop.scope.main_en, SubscriberStatus.UNSUBSCRIBED)


def _unsubscribed(acc: AccountView, sub: Any) -> bool:
    # dotsync unsubscribes as the Magento connector does: out of the subscribers address book
    return NEW_SUB in acc.contacts and NEW_SUB not in acc.books["subscribers"]


def _order(shop: Any) -> Any:
    return place_order(shop.customers["carol"], [(shop.products["shirt"], 1)], shop.scope.main_en)


def _basket(shop: Any) -> Any:
    return make_basket(shop.customers["carol"], [(shop.products["mug"], 1)], shop.scope.main_en)


def _empty_basket(shop: Any, basket: Any) -> None:
    for line in basket.lines.all():
        line.delete()


def _wishlist(shop: Any) -> Any:
    return make_wishlist(shop.customers["carol"], [shop.products["mug"]], name="Later")


def _empty_wishlist(shop: Any, wishlist: Any) -> None:
    for line in wishlist.lines.all():
        line.delete()


def _review(shop: Any) -> Any:
    return make_review(shop.products["shirt"], shop.customers["carol"], 4, store=shop.scope.main_en)


def _unapprove(shop: Any, review: Any) -> None:
    review.status = get_model("reviews", "ProductReview").REJECTED
    review.save()


def _product(shop: Any) -> Any:
    return make_product("Tote bag", "12.00", sku="TOTE-1")


def _hide(shop: Any, product: Any) -> None:
    product.is_public = False
    product.save()


def _customer(shop: Any) -> Any:
    return make_customer(NEW_CUSTOMER, "Oscar", "New")


CASES: dict[str, Case] = {
    "unsubscribed": Case(
        _unsubscribe_create,
        lambda sub: Contact.objects.get(email=NEW_SUB, website__code="main"),
        _unsubscribe_change,
        _unsubscribed,
    ),
    "order_cancelled": Case(
        _order,
        lambda order: Order.objects.get(order_id=order.pk),
        lambda shop, order: set_order_status(order, "cancelled"),
        lambda acc, order: str(order.number) not in acc.keys("Orders"),
    ),
    "basket_emptied": Case(
        _basket,
        lambda basket: Quote.objects.get(quote_id=basket.pk),
        _empty_basket,
        lambda acc, basket: str(basket.pk) not in acc.keys("Quote"),
    ),
    "wishlist_emptied": Case(
        _wishlist,
        lambda wishlist: Wishlist.objects.get(wishlist_id=wishlist.pk),
        _empty_wishlist,
        lambda acc, wishlist: str(wishlist.pk) not in acc.keys("Wishlist"),
    ),
    "review_unapproved": Case(
        _review,
        lambda review: Review.objects.get(review_id=review.pk),
        _unapprove,
        lambda acc, review: str(review.pk) not in acc.keys("Reviews"),
    ),
    "product_made_private": Case(
        _product,
        lambda product: Catalog.objects.get(product_id=product.pk),
        _hide,
        lambda acc, product: str(product.pk) not in acc.keys("Catalog_Default"),
    ),
    # the observers' own path: the store record is deleted, the observer queues the platform delete
    "customer_deleted": Case(
        _customer,
        lambda user: Contact.objects.get(email=NEW_CUSTOMER, website__code="main"),
        lambda shop, user: user.delete(),
        lambda acc, user: NEW_CUSTOMER not in acc.contacts,
    ),
    "wishlist_deleted": Case(
        _wishlist,
        lambda wishlist: Wishlist.objects.get(wishlist_id=wishlist.pk),
        lambda shop, wishlist: wishlist.delete(),
        lambda acc, wishlist: str(wishlist.pk) not in acc.keys("Wishlist"),
    ),
}


def _in_flight(sandbox: Any) -> None:
    """Run ``sync all`` so that the imports it starts are still unfinished when it returns."""
    sandbox.set_faults(import_delay=0, import_polls=3)
    summary = sync_all(max_rounds=0)
    assert not summary["drained"], summary
    sandbox.set_faults(reset=True)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_retire_step_made_while_the_first_import_is_in_flight_reaches_the_platform(
    kind, shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    case = CASES[kind]
    run_sync()
    with django_capture_on_commit_callbacks(execute=True):
        record = case.create(shop)
    _in_flight(sandbox)
    row = case.sync_row(record)
    stream = "subscriber_" if kind == "unsubscribed" else ""
    assert getattr(row, f"{stream}sync_status") == SyncStatus.IMPORTING, kind
    assert getattr(row, f"{stream}last_imported_at") is None, "the record's first import is in flight"

    with django_capture_on_commit_callbacks(execute=True):
        case.change(shop, record)
    run_sync()

    assert case.gone(view(sandbox, accounts["main"]), record), kind
    # and it stays so: another run sends nothing that brings the old state back
    run_sync()
    assert case.gone(view(sandbox, accounts["main"]), record), kind
