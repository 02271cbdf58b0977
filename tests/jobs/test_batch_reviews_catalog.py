"""The ``reviews_and_wishlists`` and ``catalog`` jobs on a real Oscar shop."""

from __future__ import annotations

from dotsync.jobs import catalog, reviews_and_wishlists
from dotsync.models import Catalog, SyncStatus, Wishlist
from dotsync.testing.shop import make_review
from tests.jobs.batch_helpers import (
    batches,
    contact,
    enable,
    imported_contact,
    review_row,
    settle_all,
    wishlist_row,
)


def test_approved_reviews_go_to_reviews_and_pending_ones_are_skipped(shop):
    scope, r = shop.scope, shop.reviews
    enable(scope.main, sync_wishlists=False)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    alice = review_row(r["alice_shirt"], scope.main_en)
    pending = review_row(r["carol_pending"], scope.main_en)
    anon = review_row(r["anon_shirt"], scope.main_en)  # anon@example.com is no contact: it never will be
    guest_review = make_review(shop.products["mug"], None, 4, email="guest@example.com", name="G")
    contact(scope.main_en, "guest@example.com", guest=True)  # a guest, not imported yet: the review waits
    waiting = review_row(guest_review, scope.main_en)

    result = reviews_and_wishlists.run()

    [(row, env)] = batches("Reviews")
    assert row.import_mode == "Bulk_JSON" and env.payload["collection"] == "Reviews"
    [rec] = env.payload["records"]
    assert rec["key"] == str(r["alice_shirt"].pk)
    assert rec["json"]["rating"] == 5 and rec["json"]["productName"] == "Oxford Shirt"
    assert rec["contactIdentity"]["value"] == "alice@example.com"
    assert env.rows[0][0] == alice.pk
    pending.refresh_from_db()
    anon.refresh_from_db()
    assert (pending.sync_status, pending.sync_message) == (SyncStatus.SKIPPED, "the review is not approved")
    assert anon.sync_status == SyncStatus.SKIPPED and anon.sync_message.startswith("anonymous review: ")
    waiting.refresh_from_db()
    assert waiting.sync_status == SyncStatus.NEW and waiting.sync_message == "waiting for contact import"
    assert result.counts["main"]["waiting"] == 1


def test_wishlists_go_and_an_emptied_wishlist_is_deleted(shop):
    scope, w = shop.scope, shop.wishlists
    enable(scope.main, sync_reviews=False)
    imported_contact(scope.main_en, "alice@example.com", customer=shop.customers["alice"])
    row = wishlist_row(w["alice"], scope.main_en)

    reviews_and_wishlists.run()

    [(_, env)] = batches("Wishlist")
    assert env.payload["type"] == "wishList"
    body = env.payload["records"][0]["json"]
    assert body["itemCount"] == 2 and {i["name"] for i in body["items"]} == {"Coffee Mug", "Hoodie (M)"}
    settle_all()

    w["alice"].lines.all().delete()
    Wishlist.objects.filter(pk=row.pk).update(sync_status=SyncStatus.MODIFIED, item_count=0)
    result = reviews_and_wishlists.run()

    deletes = batches("Wishlist", import_mode="Single_Delete")
    assert [e.payload for _, e in deletes] == [
        {
            "collection": "Wishlist",
            "scope": "contact",
            "key": str(w["alice"].pk),
            "email": "alice@example.com",
        }
    ]
    assert result.counts["main"]["deletes"] == 1


def test_never_imported_empty_wishlist_is_skipped(shop):
    scope, w = shop.scope, shop.wishlists
    enable(scope.main)
    imported_contact(scope.main_en, "carol@example.com", customer=shop.customers["carol"])
    w["carol"].lines.all().delete()
    row = wishlist_row(w["carol"], scope.main_en)

    reviews_and_wishlists.run()

    row.refresh_from_db()
    assert (row.sync_status, row.sync_message) == (SyncStatus.SKIPPED, "the wishlist is empty")
    assert batches() == []


def _catalog_rows(shop):
    return {name: Catalog.objects.create(product_id=p.pk) for name, p in shop.products.items()}


def test_catalog_default_goes_to_every_account_once(shop):
    scope = shop.scope
    enable(scope.main)
    enable(scope.outlet)
    rows = _catalog_rows(shop)

    result = catalog.run()

    found = batches()
    assert [(r.import_type, r.website_id) for r, _ in found] == [
        ("Catalog_Default", scope.main.pk),
        ("Catalog_Default", scope.outlet.pk),
    ]
    env = found[0][1]
    assert env.payload["scope"] == "account" and env.payload["type"] == "catalog"
    keys = [rec["key"] for rec in env.payload["records"]]
    assert str(shop.products["poster"].pk) not in keys  # not public
    shirt = next(rec for rec in env.payload["records"] if rec["key"] == str(shop.products["shirt"].pk))
    assert "contactIdentity" not in shirt
    assert shirt["json"]["price"] == 25.0 and shirt["json"]["categories"] == ["Shirts"]
    assert shirt["json"]["url"].startswith("https://main.example.com/")
    outlet_shirt = next(r for r in found[1][1].payload["records"] if r["key"] == shirt["key"])
    assert outlet_shirt["json"]["url"].startswith("https://outlet.example.com/")
    rows["poster"].refresh_from_db()
    assert rows["poster"].sync_status == SyncStatus.SKIPPED
    assert Catalog.objects.get(pk=rows["shirt"].pk).sync_status == SyncStatus.IMPORTING
    assert result.total("records") == 2 * (len(rows) - 1)


def test_catalog_websites_sharing_an_account_send_once(shop):
    scope = shop.scope
    enable(scope.main, api_user="shared@apiconnector.com")
    enable(scope.outlet, api_user="shared@apiconnector.com")
    _catalog_rows(shop)

    catalog.run()

    assert [(r.import_type, r.website_id) for r, _ in batches()] == [("Catalog_Default", scope.main.pk)]


def test_catalog_store_level_has_one_collection_per_store(shop):
    scope = shop.scope
    enable(scope.main, extra={"catalog_level": "store"})
    enable(scope.outlet, sync_catalog=False)
    _catalog_rows(shop)

    catalog.run()

    assert [r.import_type for r, _ in batches()] == ["Catalog_main_main_en", "Catalog_main_main_fr"]
    fr = batches("Catalog_main_main_fr")[0][1]
    assert all(rec["json"]["url"].startswith("https://fr.main.example.com/") for rec in fr.payload["records"])


def test_catalog_unchanged_is_skipped_and_hidden_product_deleted(shop):
    scope = shop.scope
    enable(scope.main)
    rows = _catalog_rows(shop)
    catalog.run()
    settle_all()
    before = len(batches())
    mug = shop.products["mug"]
    mug.is_public = False
    mug.save()
    Catalog.objects.filter(pk__in=[rows["mug"].pk, rows["shirt"].pk]).update(sync_status=SyncStatus.MODIFIED)

    result = catalog.run()

    new = batches()[before:]
    assert [(r.import_mode, e.payload["key"]) for r, e in new] == [("Single_Delete", str(mug.pk))]
    assert result.counts["main"]["unchanged"] == 1


def test_catalog_disabled_or_toggle_off_sends_nothing(shop):
    scope = shop.scope
    enable(scope.main, sync_catalog=False)
    _catalog_rows(shop)

    catalog.run()

    assert batches() == []
    assert set(Catalog.objects.values_list("sync_status", flat=True)) == {SyncStatus.NEW}
