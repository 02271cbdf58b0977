"""``email_sms_order_queue``: SMS order-status messages, one row per (order, status, message slot)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SmsStatus(models.TextChoices):
    """Where an ``email_sms_order_queue`` row is.

    ``sending`` rows are claimed: the claim is committed before the send call and the outcome is
    recorded in one transaction after it. The platform keeps no report of single SMS sends, so a row
    found ``sending`` by a later run (its run stopped between the claim and the outcome) cannot be
    checked: it goes to ``review`` and is never sent again automatically (an operator decides, from the
    admin grid). ``skipped`` rows were never sent on purpose (no opt-in, the message switched off).
    """

    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"
    SKIPPED = "skipped", "skipped"
    REVIEW = "review", "review"


class SmsFailReason(models.TextChoices):
    """Why a row failed, was skipped or awaits review; the platform's own text is in ``message``."""

    NONE = "", "none"
    ORDER_GONE = "order_gone", "the order no longer exists in the shop"
    SWITCHED_OFF = "switched_off", "SMS or this message was switched off before it was sent"
    NOT_OPTED_IN = "not_opted_in", "the customer has not opted in"
    NO_NUMBER = "no_number", "the order has no phone number"
    INVALID_NUMBER = "invalid_number", "the phone number is not a valid number for its country"
    NOT_MOBILE = "not_mobile", "the phone number is not a mobile number"
    PLATFORM_INVALID_NUMBER = "platform_invalid_number", "the platform refused the number"
    NOT_PERMITTED = "not_permitted", "the platform did not permit the send (SMS credits, permissions)"
    REFUSED = "refused", "the platform refused the send"
    UNCONFIRMED = "unconfirmed", "the send may or may not have gone out (interrupted run)"
    CANCELLED = "cancelled", "cancelled in dotsync"


class SmsOrderQueue(models.Model):
    """``email_sms_order_queue``: one SMS order-status message (reference §7, issue 12 §6).

    The Oscar observer queues a ``pending`` row when an order reaches the status of an enabled message
    slot (``sms_<n>_status``) of its store; a unique key on (order, status, slot) makes a second row
    impossible, so an order is texted once per status and slot whatever happens to it later. The
    ``sms`` job (:mod:`dotsync.jobs.sms`) sends the rows: ``telephone`` (E.164) and ``text`` are written
    with the claim and are exactly what was sent.
    """

    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey("dotsync.Store", on_delete=models.CASCADE, related_name="+")
    order_id = models.IntegerField(help_text="the shop's order id")
    order_number = models.CharField(max_length=128, blank=True, default="")
    order_status = models.CharField(max_length=128, help_text="the status the order reached")
    slot = models.PositiveSmallIntegerField(help_text="the message slot (sms_1..sms_4)")
    send_status = models.CharField(max_length=16, choices=SmsStatus.choices, default=SmsStatus.PENDING)
    fail_reason = models.CharField(
        max_length=32, choices=SmsFailReason.choices, blank=True, default=SmsFailReason.NONE
    )
    message = models.CharField(
        max_length=255, blank=True, default="", help_text="the platform's answer, when it refused"
    )
    telephone = models.CharField(max_length=32, blank=True, default="", help_text="E.164, as sent")
    text = models.TextField(blank=True, default="", help_text="the message as sent")
    truncated = models.BooleanField(default=False, help_text="the text was cut to the platform's limit")
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="when a run claimed the row to send it"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_sms_order_queue"
        constraints = [
            models.UniqueConstraint(
                fields=["order_id", "order_status", "slot"], name="email_sms_order_queue_once"
            )
        ]
        indexes = [models.Index(fields=["website", "send_status"], name="email_sms_order_queue_sel")]

    def __str__(self) -> str:
        return f"SMS {self.slot} for order {self.order_number} ({self.order_status}): {self.send_status}"
