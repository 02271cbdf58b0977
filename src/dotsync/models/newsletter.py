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


class ContactBook(models.Model):
    """A customer's choice on the newsletter preferences page: in or out of one address book.

    One row per (website, email, address book) the customer was offered (``newsletter_books``) and
    changed; the page reads it back, and each change queues the platform call that applies it
    (:mod:`dotsync.storefront.newsletter.service`).
    """

    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=255)
    address_book_id = models.BigIntegerField()
    member = models.BooleanField()
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "email_contact_book"
        constraints = [
            models.UniqueConstraint(
                fields=["website", "email", "address_book_id"], name="email_contact_book_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"book {self.address_book_id}: {'in' if self.member else 'out'}"
