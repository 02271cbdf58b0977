"""End to end: changes made in the Oscar shop after a first sync reach the platform on the next one.

A customer renamed, a wishlist line removed, a review withdrawn from publication and a product
unpublished: the observers mark the rows on commit, ``sync all`` updates or deletes the records.
"""

from __future__ import annotations

import pytest
from oscar.core.loading import get_model

from tests.e2e.conftest import run_sync
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db(transaction=False)


def test_store_changes_update_and_delete_platform_records(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    run_sync()
    alice, wishlist, review = (
        shop.customers["alice"],
        shop.wishlists["alice"],
        shop.reviews["alice_shirt"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice.last_name = "Armstrong"
        alice.save()
        wishlist.lines.filter(product=shop.products["mug"]).delete()
        review.status = get_model("reviews", "ProductReview").REJECTED
        review.save()
        mug = shop.products["mug"]
        mug.is_public = False
        mug.save()
    summary = run_sync()
    assert summary["api_calls"] > 0

    main, outlet = view(sandbox, accounts["main"]), view(sandbox, accounts["outlet"])
    assert main.contacts["alice@example.com"]["data_fields"]["LASTNAME"] == "Armstrong"
    items = main.insight["Wishlist"][str(wishlist.pk)]["json"]["items"]
    assert [i["name"] for i in items] == ["Hoodie (M)"]
    assert str(review.pk) not in main.keys("Reviews")
    for acc in (main, outlet):
        assert str(mug.pk) not in acc.keys("Catalog_Default")
        assert str(shop.products["shirt"].pk) in acc.keys("Catalog_Default")
    assert outlet.contacts["bob@example.com"]["data_fields"]["LASTNAME"] == "Baker"  # untouched


def test_store_deletes_remove_the_platform_records(
    shop, sandbox, accounts, django_capture_on_commit_callbacks
):
    run_sync()
    review, wishlist, basket = shop.reviews["bob_mug"], shop.wishlists["carol"], shop.baskets["carol_open"]
    keys = {"review": str(review.pk), "wishlist": str(wishlist.pk), "basket": str(basket.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        review.delete()
        wishlist.delete()
        basket.delete()
        shop.customers["dave"].delete()
    run_sync()

    main, outlet = view(sandbox, accounts["main"]), view(sandbox, accounts["outlet"])
    assert keys["wishlist"] not in main.keys("Wishlist")
    assert keys["basket"] not in main.keys("Quote")
    assert "dave@example.com" not in main.contacts
    assert "alice@example.com" in main.contacts and "bob@example.com" in outlet.contacts
    assert keys["review"] not in outlet.keys("Reviews")
