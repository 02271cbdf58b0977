"""Automation enrolments, campaign sends and abandoned carts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AutomationType(models.TextChoices):
    """``email_automation.automation_type`` (reference §2.6).

    Order-status types are ``order_automation_<status>`` (:data:`ORDER_STATUS_PREFIX`).
    """

    CUSTOMER = "customer_automation", "customer registration"
    SUBSCRIBER = "subscriber_automation", "new subscriber"
    ORDER = "order_automation", "customer order"
    GUEST_ORDER = "guest_order_automation", "guest order"
    FIRST_ORDER = "first_order_automation", "first order"
    REVIEW = "review_automation", "approved review"
    WISHLIST = "wishlist_automation", "first wishlist item"
    ABANDONED_CART = "abandoned_cart_automation", "abandoned cart"


ORDER_STATUS_PREFIX = "order_automation_"
"""``automation_type`` of an order reaching a configured status: this prefix and the status."""


def is_order_type(automation_type: str) -> bool:
    """Whether rows of the type carry an order number (``type_id``) whose order is sent first."""
    return automation_type in (
        AutomationType.ORDER,
        AutomationType.GUEST_ORDER,
        AutomationType.FIRST_ORDER,
    ) or automation_type.startswith(ORDER_STATUS_PREFIX)


def programme_setting(automation_type: str) -> str:
    """The store-scope setting that holds the programme id of ``automation_type`` (reference §4.5)."""
    if automation_type == AutomationType.ABANDONED_CART:
        return "ac_program_id"
    if automation_type.startswith(ORDER_STATUS_PREFIX) and automation_type != AutomationType.ORDER:
        return "programme_order_status_id"
    return f"programme_{automation_type.removesuffix('_automation')}_id"


class AutomationStatus(models.TextChoices):
    """``email_automation.enrolment_status``: the reference's values, plus ``Processing`` and ``Review``.

    ``pending`` and ``Confirmed`` rows are waiting to be enrolled. ``Processing`` rows are claimed: with
    an empty ``enrolment_id`` the enrolment call may have been made by a run that stopped before
    recording it, and the next run looks the enrolment up before anything else. ``Review`` is for a row
    whose enrolment the platform cannot confirm or deny after such a stop: it is never enrolled again
    automatically (an operator decides, from the admin grid).
    """

    PENDING = "pending", "pending"
    PENDING_OPT_IN = "PendingOptIn", "PendingOptIn"
    CONFIRMED = "Confirmed", "Confirmed"
    PROCESSING = "Processing", "Processing"
    ACTIVE = "Active", "Active"
    FAILED = "Failed", "Failed"
    DEACTIVATED = "Deactivated", "Deactivated"
    EXPIRED = "Expired", "Expired"
    CANCELLED = "Cancelled", "Cancelled"
    REVIEW = "Review", "Review"

    @classmethod
    def waiting(cls) -> tuple[str, str]:
        """The statuses of rows the ``automation`` job enrols (the reference's pending and Confirmed)."""
        return (cls.PENDING.value, cls.CONFIRMED.value)


class AutomationFailReason(models.TextChoices):
    """Why an ``email_automation`` row failed (or awaits review); the platform's text is in ``message``."""

    NONE = "", "none"
    NO_PROGRAMME = "no_programme", "no programme id set for the type"
    NO_CONTACT = "no_contact", "no email_contact row for the email"
    NOT_SUBSCRIBED = "not_subscribed", "contact not subscribed"
    SUPPRESSED = "suppressed", "contact suppressed"
    CONTACT_ERROR = "contact_error", "contact could not be created"
    ENROL_REFUSED = "enrol_refused", "the platform refused the enrolment"
    NO_ENROLMENT_ID = "no_enrolment_id", "no enrolment id returned"
    EMPTY_BASKET = "empty_basket", "the basket has no items"
    UNCONFIRMED = "unconfirmed", "enrolment not confirmable after an interrupted run"
    CANCELLED = "cancelled", "cancelled in dotsync"


class Automation(models.Model):
    """``email_automation``: a request to enrol a contact in a dotdigital program.

    One row per (website, ``automation_type``, ``type_id``): an entity (customer, subscriber, order,
    review, wishlist, basket) is enrolled at most once per type. ``claimed_at`` and
    ``platform_contact_id`` are written, with ``enrolment_status=Processing``, in their own committed
    transaction before the enrolment call; ``enrolment_id`` is recorded in the transaction that stores
    the call's result (the ``automation`` job, :mod:`dotsync.jobs.automation.enrolment`).
    """

    automation_type = models.CharField(max_length=255)
    store_name = models.CharField(max_length=255, blank=True, default="")
    enrolment_status = models.CharField(
        max_length=64, choices=AutomationStatus.choices, default=AutomationStatus.PENDING
    )
    email = models.CharField(max_length=255)
    type_id = models.CharField(max_length=255, blank=True, default="")
    program_id = models.CharField(max_length=255, blank=True, default="")
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(max_length=255, blank=True, default="")
    fail_reason = models.CharField(
        max_length=32, choices=AutomationFailReason.choices, blank=True, default=AutomationFailReason.NONE
    )
    enrolment_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="the platform's enrolment id (recorded with the result)",
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="when a run claimed the row to enrol it"
    )
    platform_contact_id = models.BigIntegerField(
        null=True, blank=True, help_text="the dotdigital contact id the enrolment went (or goes) to"
    )
    faults_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="when the enrolment's report-faults was read (null: not yet)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_automation"
        indexes = [
            models.Index(
                fields=["enrolment_status", "website", "automation_type"], name="email_automation_sel"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["website", "automation_type", "type_id"],
                condition=~models.Q(type_id=""),
                name="email_automation_entity_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.automation_type} {self.type_id} ({self.enrolment_status})"


class CampaignSendStatus(models.IntegerChoices):
    """Where an ``email_campaign`` row is (the reference's 0..3, plus ``REVIEW``).

    ``PROCESSING`` rows are claimed: with an empty ``send_id`` the send call may have been made by a
    run that crashed before recording it, and the next run looks the send up before anything else.
    ``REVIEW`` is for a row whose send the platform cannot confirm or deny after such a crash: it is
    never sent again automatically (an operator decides, from the admin grid).
    """

    PENDING = 0, "pending"
    PROCESSING = 1, "processing"
    SENT = 2, "sent"
    FAILED = 3, "failed"
    REVIEW = 4, "review"


class CampaignFailReason(models.TextChoices):
    """Why an ``email_campaign`` row failed (or awaits review); the platform's text is in ``message``."""

    NONE = "", "none"
    MISSING_DATA = "missing_data", "no campaign id or email"
    SUPPRESSED = "suppressed", "contact suppressed"
    CONTACT_ERROR = "contact_error", "contact could not be created"
    SEND_REFUSED = "send_refused", "the platform refused the send"
    SEND_CANCELLED = "send_cancelled", "the send was cancelled on the platform"
    NO_SEND_ID = "no_send_id", "no send id returned"
    CANCELLED = "cancelled", "cancelled in dotsync"
    UNCONFIRMED = "unconfirmed", "send not confirmable after an interrupted run"
    STALE = "stale", "still processing after 2 hours"


class Campaign(models.Model):
    """``email_campaign``: a queued single-campaign send.

    ``claimed_at`` and ``platform_contact_id`` are written, with ``send_status=PROCESSING``, in their own
    committed transaction before the send call; ``send_id`` is recorded in the transaction that stores
    the call's result (the ``campaigns`` job, :mod:`dotsync.jobs.automation.campaigns`).
    """

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
    send_status = models.SmallIntegerField(
        choices=CampaignSendStatus.choices, default=CampaignSendStatus.PENDING
    )
    fail_reason = models.CharField(
        max_length=32, choices=CampaignFailReason.choices, blank=True, default=CampaignFailReason.NONE
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="when a run claimed the row to send it"
    )
    platform_contact_id = models.BigIntegerField(
        null=True, blank=True, help_text="the dotdigital contact id the send went (or goes) to"
    )
    step = models.SmallIntegerField(
        null=True, blank=True, help_text="abandoned-cart series step (1, 2 or 3) of a Lost Basket row"
    )
    series = models.SmallIntegerField(
        default=1, help_text="which series of the basket (a basket whose items changed starts a new one)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_campaign"
        indexes = [
            models.Index(fields=["send_status", "website", "id"], name="email_campaign_sel"),
            models.Index(fields=["email", "event_name", "send_status"], name="email_campaign_email"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["quote_id", "series", "step"],
                condition=models.Q(event_name="Lost Basket"),
                name="email_campaign_cart_step_uniq",
            ),
            models.UniqueConstraint(
                fields=["website", "order_increment_id"],
                condition=models.Q(event_name="Order Review"),
                name="email_campaign_review_uniq",
            ),
        ]


class CampaignEvent(models.TextChoices):
    """``email_campaign.event_name``: what queued the send (the reference's names)."""

    LOST_BASKET = "Lost Basket", "Lost Basket"
    ORDER_REVIEW = "Order Review", "Order Review"


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
    series = models.SmallIntegerField(
        default=1, help_text="the basket's series: a new one starts when its items change after a send"
    )
    next_due_at = models.DateTimeField(
        null=True, blank=True, help_text="when the next step of the series is due (null: none is)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_abandoned_cart"
        constraints = [models.UniqueConstraint(fields=["quote_id"], name="email_abandoned_cart_quote_uniq")]
        indexes = [
            models.Index(fields=["store", "status", "next_due_at"], name="email_abandoned_cart_due"),
        ]


class CartStatus(models.TextChoices):
    """``email_abandoned_cart.status`` (the reference's values)."""

    SENT = "Sent", "Sent"
    PENDING_OPT_IN = "PendingOptIn", "PendingOptIn"
    CONFIRMED = "Confirmed", "Confirmed"
    EXPIRED = "Expired", "Expired"


class AutomationWindow(models.Model):
    """``email_automation_window``: where the last successful pass of an automation job's window ended.

    One row per (job, store, key) (``key`` names the pass, e.g. ``series1:customers``). The next pass
    starts exactly there, so stacked or late runs neither repeat nor skip a record. The row is moved
    in the same transaction as the rows the pass queued.
    """

    job_id = models.CharField(max_length=64)
    store = models.ForeignKey("dotsync.Store", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    window_end = models.DateTimeField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_automation_window"
        constraints = [
            models.UniqueConstraint(fields=["job_id", "store", "key"], name="email_automation_window_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}[{self.key}] store {self.store_id} up to {self.window_end:%Y-%m-%d %H:%M:%S}"
