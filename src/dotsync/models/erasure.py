"""``email_erasure``: the audit line ``dotsync erase`` leaves, with no personal data."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ErasureOutcome(models.TextChoices):
    """Whether everything of the person is gone."""

    COMPLETE = "complete", "complete"
    INCOMPLETE = "incomplete", "incomplete: see the platform status and in-flight count"


class PlatformErasure(models.TextChoices):
    """What the platform did with the person's contact (the worst over the accounts asked)."""

    DELETED = "deleted", "contact deleted"
    ABSENT = "absent", "no contact on the platform"
    SUPPRESSED = "suppressed", "suppressed contact kept by the platform (it cannot be deleted)"
    SHARED = "shared", "contact kept: another website of the same account still holds the person"
    FAILED = "failed", "the platform could not be asked or refused; erase again later"
    NOT_CONFIGURED = "not_configured", "a website had no valid platform settings"


class Erasure(models.Model):
    """One ``dotsync erase``: who (as a keyed hash), where, what went, when.

    ``subject_hash`` is an HMAC-SHA256 of the lower-cased email under a key derived from dotsync's
    encryption key: the same person erased twice gives the same hash (to answer "was X erased?"
    with the email in hand), and the table alone reveals no address.
    """

    subject_hash = models.CharField(max_length=64, db_index=True)
    website = models.ForeignKey(
        "dotsync.Website", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=ErasureOutcome.choices)
    platform_status = models.CharField(max_length=16, choices=PlatformErasure.choices)
    counts = models.JSONField(default=dict, blank=True, help_text="rows deleted per table; no personal data")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_erasure"

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.outcome}) at {self.created_at:%Y-%m-%d %H:%M:%S}"
