"""The storefront's own table: time-stamped product views (``email_product_view``).

Oscar keeps only lifetime counters; the most-viewed and recently-viewed dynamic content needs each view's
time. :mod:`dotsync.storefront.views_log` writes a row on commit from Oscar's ``product_viewed`` signal.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ProductView(models.Model):
    """``email_product_view``: one product page view (product, who when known, when)."""

    product_id = models.IntegerField(help_text="Oscar product id")
    user_id = models.IntegerField(null=True, blank=True, help_text="the logged-in customer, if any")
    site_id = models.IntegerField(null=True, blank=True, help_text="the Django Site the page was served on")
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_product_view"
        indexes = [
            models.Index(fields=["viewed_at", "product_id"], name="email_product_view_when"),
            models.Index(fields=["user_id", "viewed_at"], name="email_product_view_user"),
        ]
