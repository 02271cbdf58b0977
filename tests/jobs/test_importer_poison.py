"""A batch the platform rejects as a whole is bisected until the poison record is alone."""

from __future__ import annotations

import pytest

from dotsync.models import Catalog, Importer, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import catalog_batch, drain, products, records

pytestmark = pytest.mark.django_db


def test_oversized_record_is_quarantined_and_the_rest_goes_through(scope, sandbox):
    accounts = configure_websites(sandbox, [scope.main])
    sandbox.set_faults(insight_max_bytes=4000)  # a whole batch of 9 is over it, and so is product 7 alone
    rows = products(list(range(1, 10)))
    original = catalog_batch(
        scope.main,
        rows,
        json_for=lambda r: {"blob": "x" * 5000} if r.product_id == 7 else {"n": r.product_id},
    )
    drain()

    by_product = {r.product_id: r for r in Catalog.objects.all()}
    poison = by_product.pop(7)
    assert poison.sync_status == SyncStatus.FAILED
    assert "PayloadTooLarge" in poison.sync_message
    assert {r.sync_status for r in by_product.values()} == {SyncStatus.IMPORTED}
    assert set(records(sandbox, accounts["main"].username, "Catalog_Default")) == {str(i) for i in by_product}

    rows = Importer.objects.order_by("pk")
    failed = rows.filter(import_status=ImportStatus.FAILED)
    assert failed.count() == 1 and failed.get().record_count == 1
    assert rows.filter(import_status=ImportStatus.IMPORTED).count() == rows.count() - 1
    assert sum(r.record_count for r in rows) == 9  # every record is in exactly one row
    assert rows.first().pk == original.pk  # the first half kept the original row's place
    assert rows.first().record_count < 9
