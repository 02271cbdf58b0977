"""``email_importer``: the import work queue that the importer job drains."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ImportStatus(models.IntegerChoices):
    """Importer row statuses (the Magento connector's numbering)."""

    PENDING = 0, "pending"
    IMPORTING = 1, "importing"
    IMPORTED = 2, "imported"
    FAILED = 3, "failed"


class ImportMode(models.TextChoices):
    """How the importer sends a row's data."""

    BULK = "Bulk", "Bulk"
    BULK_JSON = "Bulk_JSON", "Bulk JSON"
    SINGLE = "Single", "Single"
    SINGLE_DELETE = "Single_Delete", "Single delete"
    CONTACT_DELETE = "Contact_Delete", "Contact delete"
    CONTACT_UPDATE = "Contact_Update", "Contact update"
    CONTACT_EMAIL_UPDATE = "Contact_Email_Update", "Contact email update"
    SUBSCRIBER_UNSUBSCRIBE = "Subscriber_Unsubscribe", "Subscriber unsubscribe"
    SUBSCRIBER_UPDATE = "Subscriber_Update", "Subscriber update"
    SUBSCRIBER_RESUBSCRIBED = "Subscriber_Resubscribed", "Subscriber resubscribed"


class WaitReason(models.TextChoices):
    """Why a ``PENDING`` row waits for ``next_attempt_at`` (empty: it does not wait)."""

    NONE = "", "-"
    BUSY = "busy", "the account runs its maximum of imports"
    THROTTLED = "throttled", "the platform rate-limited the account"
    CREDENTIALS = "credentials", "the platform refused the API credentials"
    UNREACHABLE = "unreachable", "the platform could not be reached (circuit breaker open)"
    PLATFORM_ERROR = "platform_error", "the platform failed the call (5xx or timeout); backing off"
    IMPORT_FAILED = "import_failed", "the platform failed the import; a new one starts later"


class Importer(models.Model):
    """One unit of work for the platform: a bulk import or a single-record call."""

    Status = ImportStatus
    Mode = ImportMode
    Wait = WaitReason

    import_type = models.CharField(max_length=255)
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    import_status = models.SmallIntegerField(choices=ImportStatus.choices, default=ImportStatus.PENDING)
    retry_count = models.SmallIntegerField(default=0)
    import_id = models.CharField(max_length=255, blank=True, default="")
    import_data = models.TextField(blank=True, default="")
    import_mode = models.CharField(max_length=64, choices=ImportMode.choices, default=ImportMode.BULK)
    import_file = models.TextField(blank=True, default="")
    message = models.TextField(blank=True, default="")
    record_count = models.IntegerField(default=0)
    payload_bytes = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    wait_reason = models.CharField(
        max_length=32,
        choices=WaitReason.choices,
        blank=True,
        default=WaitReason.NONE,
        help_text="why the row waits for next_attempt_at; a transient reason never fails the row",
    )
    import_failures = models.SmallIntegerField(
        default=0, help_text="imports of this row the platform failed (e.g. RejectedByWatchdog)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    import_started = models.DateTimeField(null=True, blank=True)
    import_finished = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="host:pid of the run that claimed the row; a claim of a dead process is taken over at once",
    )

    class Meta:
        db_table = "email_importer"
        indexes = [
            models.Index(fields=["import_status", "website", "id"], name="email_importer_queue"),
            models.Index(fields=["import_type"], name="email_importer_type"),
            models.Index(fields=["import_id"], name="email_importer_import_id"),
        ]

    def __str__(self) -> str:
        return f"{self.import_type}/{self.import_mode} #{self.pk}"
