"""``newsletter_subscriber``: the store's newsletter table, which Oscar lacks, supplied by dotsync."""

from __future__ import annotations

from django.db import models


class SubscriberStatus(models.IntegerChoices):
    """Newsletter subscription statuses (the Magento numbering)."""

    SUBSCRIBED = 1, "Subscribed"
    NOT_ACTIVE = 2, "Not Active"
    UNSUBSCRIBED = 3, "Unsubscribed"
    UNCONFIRMED = 4, "Unconfirmed"


class NewsletterSubscriber(models.Model):
    """A newsletter subscription of one email in one store."""

    Status = SubscriberStatus

    subscriber_id = models.AutoField(primary_key=True)
    store = models.ForeignKey("dotsync.Store", on_delete=models.CASCADE, related_name="+")
    customer_id = models.IntegerField(null=True, blank=True)
    subscriber_email = models.CharField(max_length=255)
    subscriber_status = models.SmallIntegerField(
        choices=SubscriberStatus.choices, default=SubscriberStatus.SUBSCRIBED
    )
    change_status_at = models.DateTimeField(null=True, blank=True)
    subscriber_confirm_code = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        db_table = "newsletter_subscriber"
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber_email", "store"], name="newsletter_subscriber_email_store_uniq"
            )
        ]
        indexes = [models.Index(fields=["customer_id"], name="newsletter_subscriber_customer")]

    def __str__(self) -> str:
        return f"{self.subscriber_email} ({self.get_subscriber_status_display()})"
