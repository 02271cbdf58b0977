"""Product and stock-record observers."""

from __future__ import annotations

import json
from decimal import Decimal

from oscar.core.loading import get_model
from oscar.test import factories

from dotsync.models import Catalog, Importer, SyncStatus, WebsiteConfig

Product = get_model("catalogue", "Product")


def test_product_saved_creates_then_modifies_its_catalog_row(scope, committed):
    with committed():
        product = factories.create_product(price=Decimal("9.99"), num_in_stock=3)
    assert Catalog.objects.get(product_id=product.pk).sync_status == SyncStatus.NEW
    Catalog.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        product.title = "Renamed"
        product.save()
    assert Catalog.objects.get().sync_status == SyncStatus.MODIFIED


def test_stock_record_change_marks_the_product_and_its_parent(scope, committed):
    with committed():
        parent = factories.ProductFactory(structure=Product.PARENT, stockrecords=[])
        child = factories.ProductFactory(
            structure=Product.CHILD, parent=parent, product_class=None, stockrecords=[]
        )
        record = factories.create_stockrecord(child, price=Decimal("5.00"), num_in_stock=1)
    Catalog.objects.update(sync_status=SyncStatus.IMPORTED)
    with committed():
        record.price = Decimal("4.00")
        record.save()
    statuses = dict(Catalog.objects.values_list("product_id", "sync_status"))
    assert statuses == {parent.pk: SyncStatus.MODIFIED, child.pk: SyncStatus.MODIFIED}
    with committed():
        record.delete()
    assert Catalog.objects.filter(product_id=child.pk, sync_status=SyncStatus.MODIFIED).exists()


def test_deleting_a_sent_product_queues_a_delete_per_catalog(scope, committed):
    WebsiteConfig.objects.filter(website=scope.outlet).update(extra={"catalog_level": "store"})
    with committed():
        product = factories.create_product()
    Catalog.objects.update(sync_status=SyncStatus.IMPORTED)
    product_id = product.pk
    with committed():
        product.delete()
    assert not Catalog.objects.exists()
    jobs = sorted(
        (j.website_id, j.import_type, j.import_mode, json.loads(j.import_data)["payload"]["key"])
        for j in Importer.objects.all()
    )
    assert jobs == [
        (scope.main.pk, "Catalog_Default", "Single_Delete", str(product_id)),
        (scope.outlet.pk, "Catalog_outlet_outlet_en", "Single_Delete", str(product_id)),
    ]


def test_deleting_an_unsent_product_just_drops_its_row(scope, committed):
    with committed():
        product = factories.create_product()
    with committed():
        product.delete()
    assert not Catalog.objects.exists() and not Importer.objects.exists()
