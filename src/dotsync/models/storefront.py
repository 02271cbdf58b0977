"""The storefront's own tables: time-stamped product views (``email_product_view``) and generated vouchers.

Oscar keeps only lifetime counters; the most-viewed and recently-viewed dynamic content needs each view's
time. :mod:`dotsync.storefront.views_log` writes a row on commit from Oscar's ``product_viewed`` signal.
The coupon dynamic content records each voucher code it generates in ``email_coupon_attribute``.
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


class EmailCouponAttribute(models.Model):
    """``email_coupon_attribute``: a voucher code the coupon dynamic content generated, and whose it is.

    One row per generated code (reference §5.1): the website whose passcode asked, the Oscar offer the
    voucher is tied to, the Oscar voucher and its code, the email (empty for an anonymous code), when the
    code expires (``None``: with the offer) and when it was made. The shop's ids are plain integers, as in
    ``email_product_view``: dotsync's migration does not depend on the shop's apps.

    At most one row per (website, offer, email) is current (``replaced_at`` empty): a regenerated code
    replaces the one before it, and the partial unique constraint makes two simultaneous requests for
    the same email settle on one code (:mod:`dotsync.storefront.vouchers`).
    """

    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    offer_id = models.IntegerField(help_text="Oscar ConditionalOffer id (a voucher-type offer)")
    voucher_id = models.IntegerField(unique=True, help_text="the generated Oscar Voucher's id")
    code = models.CharField(max_length=128, help_text="the voucher code (Oscar stores codes upper case)")
    email = models.CharField(max_length=255, blank=True, default="", help_text="lower case; empty: anonymous")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="the voucher's end; empty: the offer's"
    )
    created_at = models.DateTimeField(default=timezone.now)
    replaced_at = models.DateTimeField(
        null=True, blank=True, help_text="when a newer code for the same email replaced this one"
    )

    class Meta:
        db_table = "email_coupon_attribute"
        indexes = [models.Index(fields=["website", "offer_id", "email"], name="email_coupon_attr_owner")]
        constraints = [
            models.UniqueConstraint(
                fields=["website", "offer_id", "email"],
                condition=models.Q(replaced_at__isnull=True) & ~models.Q(email=""),
                name="email_coupon_attr_one_current",
            )
        ]

    def __str__(self) -> str:
        return self.code
