"""Automation enrolments, campaign sends and abandoned carts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Automation(models.Model):
    """``email_automation``: a request to enrol a contact in a dotdigital program."""

    automation_type = models.CharField(max_length=255)
    store_name = models.CharField(max_length=255, blank=True, default="")
    enrolment_status = models.CharField(max_length=64, default="pending")
    email = models.CharField(max_length=255)
    type_id = models.CharField(max_length=255, blank=True, default="")
    program_id = models.CharField(max_length=255, blank=True, default="")
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_automation"
        indexes = [
            models.Index(
                fields=["enrolment_status", "website", "automation_type"], name="email_automation_sel"
            )
        ]


class Campaign(models.Model):
    """``email_campaign``: a queued single-campaign send."""

    campaign_id = models.BigIntegerField()
    email = models.CharField(max_length=255)
    customer_id = models.IntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    order_increment_id = models.CharField(max_length=50, blank=True, default="")
    quote_id = models.IntegerField(null=True, blank=True)
    message = models.CharField(max_length=255, blank=True, default="")
    checkout_method = models.CharField(max_length=255, blank=True, default="")
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_name = models.CharField(max_length=255, blank=True, default="")
    send_id = models.CharField(max_length=255, blank=True, default="")
    send_status = models.SmallIntegerField(default=0, help_text="0 pending, 1 processing, 2 sent, 3 failed")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_campaign"
        indexes = [models.Index(fields=["send_status", "website", "id"], name="email_campaign_sel")]


class AbandonedCart(models.Model):
    """``email_abandoned_cart``: the abandoned-cart series state of one quote."""

    quote_id = models.IntegerField(null=True, blank=True, db_index=True)
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer_id = models.IntegerField(null=True, blank=True)
    email = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=255, blank=True, default="")
    is_active = models.BooleanField(default=True)
    quote_updated_at = models.DateTimeField(null=True, blank=True)
    abandoned_cart_number = models.SmallIntegerField(default=0)
    items_count = models.SmallIntegerField(default=0)
    items_ids = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_abandoned_cart"
