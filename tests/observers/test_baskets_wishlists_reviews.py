"""Basket, wishlist and review observers through Oscar's basket, wishlist and review APIs and views."""

from __future__ import annotations

import json

import pytest
from oscar.core.loading import get_model
from oscar.test import factories

from dotsync.models import Contact, Importer, Quote, Review, SyncStatus, Wishlist

from .conftest import new_basket

ProductReview = get_model("reviews", "ProductReview")


def test_basket_lines_upsert_the_quote_with_item_count(scope, customer, product, committed):
    other = factories.create_product(price=3, num_in_stock=5)
    with committed():
        basket = new_basket(customer)
        basket.add_product(product, 2)
        basket.add_product(other)
    row = Quote.objects.get(quote_id=basket.pk)
    assert (row.item_count, row.customer_id, row.email, row.is_active) == (
        2,
        customer.pk,
        "ada@example.com",
        True,
    )
    assert (row.website_id, row.store_id, row.sync_status) == (
        scope.main.pk,
        scope.main_en.pk,
        SyncStatus.NEW,
    )
    first_update = row.quote_updated_at
    Quote.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        basket.all_lines()[0].delete()
    row = Quote.objects.get()
    assert (row.item_count, row.sync_status) == (1, SyncStatus.MODIFIED)
    assert row.quote_updated_at > first_update


def test_empty_and_anonymous_baskets_get_no_quote_row(scope, customer, product, committed):
    with committed():
        new_basket(customer)
        new_basket().add_product(product)
    assert not Quote.objects.exists()


def test_placing_the_order_makes_the_quote_inactive(scope, customer, product, committed):
    with committed():
        basket = new_basket(customer)
        basket.add_product(product)
    with committed():
        factories.create_order(user=customer, basket=basket)
    assert Quote.objects.get(quote_id=basket.pk).is_active is False


@pytest.mark.urls("tests.observers.urls")
def test_basket_add_view_captures_the_requests_store(scope, customer, client, product, committed, settings):
    settings.SITE_ID = None  # host-based sites: the request's host picks the store
    client.force_login(customer)
    with committed():
        response = client.post(f"/basket/add/{product.pk}/", {"quantity": 1}, HTTP_HOST="outlet.example.com")
    assert response.status_code == 302
    row = Quote.objects.get()
    assert (row.website_id, row.store_id, row.item_count) == (scope.outlet.pk, scope.outlet_en.pk, 1)


def test_wishlist_lines_added_and_removed(scope, customer, product, committed):
    other = factories.create_product()
    with committed():
        wishlist = factories.WishListFactory(owner=customer)
        wishlist.add(product)
        wishlist.add(other)
    row = Wishlist.objects.get(wishlist_id=wishlist.pk)
    assert (row.item_count, row.customer_id, row.website_id) == (2, customer.pk, scope.main.pk)
    Wishlist.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        wishlist.lines.get(product=other).delete()
    row = Wishlist.objects.get()
    assert (row.item_count, row.sync_status) == (1, SyncStatus.MODIFIED)


def test_wishlist_deleted_queues_a_single_delete(scope, customer, product, committed):
    with committed():
        wishlist = factories.WishListFactory(owner=customer)
        wishlist.add(product)
    Wishlist.objects.update(sync_status=SyncStatus.IMPORTED)
    wishlist_id = wishlist.pk
    with committed():
        wishlist.delete()
    assert not Wishlist.objects.exists()
    job = Importer.objects.get()
    assert (job.import_type, job.import_mode) == ("Wishlist", "Single_Delete")
    payload = json.loads(job.import_data)["payload"]
    assert payload == {
        "collection": "Wishlist",
        "scope": "contact",
        "key": str(wishlist_id),
        "email": customer.email,
    }


def test_approved_review_gets_a_row_and_marks_the_author_modified(scope, customer, product, committed):
    with committed():
        customer.save()
    Contact.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        review = factories.ProductReviewFactory(product=product, user=customer)
    assert review.status == ProductReview.APPROVED
    row = Review.objects.get(review_id=review.pk)
    assert (row.customer_id, row.website_id, row.sync_status) == (customer.pk, scope.main.pk, SyncStatus.NEW)
    assert Contact.objects.get().sync_status == SyncStatus.MODIFIED


def test_reviews_awaiting_moderation_get_no_row_until_approved(scope, customer, product, committed):
    with committed():
        review = factories.ProductReviewFactory(
            product=product, user=customer, status=ProductReview.FOR_MODERATION
        )
    assert not Review.objects.exists()
    with committed():
        review.status = ProductReview.APPROVED
        review.save()
    assert Review.objects.filter(review_id=review.pk).exists()


@pytest.mark.urls("tests.observers.urls")
def test_review_added_through_oscars_review_view(scope, customer, product, client, committed, settings):
    settings.SITE_ID = None
    client.force_login(customer)
    url = f"/catalogue/{product.slug}_{product.pk}/reviews/add/"
    with committed():
        response = client.post(
            url, {"score": 4, "title": "Good", "body": "Works well"}, HTTP_HOST="fr.main.example.com"
        )
    assert response.status_code == 302, response.content[:300]
    row = Review.objects.get()
    assert (row.customer_id, row.store_id) == (customer.pk, scope.main_fr.pk)
