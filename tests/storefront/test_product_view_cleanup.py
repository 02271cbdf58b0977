"""The cleaner deletes a website's product views older than its retention (``email_product_view``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dotsync.jobs.automation import cleaner
from dotsync.models import ProductView
from dotsync.testing.scope import Scope

pytestmark = pytest.mark.django_db


def test_old_views_of_the_website_go_and_the_rest_stay(scope: Scope) -> None:
    now = timezone.now()
    main_site, outlet_site = scope.main_en.site_id, scope.outlet_en.site_id
    old, new = now - timedelta(days=40), now - timedelta(days=5)
    ProductView.objects.bulk_create(
        [
            ProductView(product_id=1, site_id=main_site, viewed_at=old),
            ProductView(product_id=1, site_id=None, viewed_at=old),  # no site: the default store's (main)
            ProductView(product_id=2, site_id=main_site, viewed_at=new),
            ProductView(product_id=3, site_id=outlet_site, viewed_at=old),
        ]
    )
    counts = cleaner.clean_website(scope.main.pk, "main", now - timedelta(days=30))
    assert counts["email_product_view"] == 2
    left = sorted(ProductView.objects.values_list("product_id", "site_id"))
    assert left == [(2, main_site), (3, outlet_site)]
