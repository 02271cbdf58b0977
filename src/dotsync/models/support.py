"""Supporting tables: consent records, EDC lock-outs and install progress."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ContactConsent(models.Model):
    """``email_contact_consent``: a GDPR consent record to push with the contact."""

    email_contact = models.ForeignKey("dotsync.Contact", on_delete=models.CASCADE, related_name="consents")
    consent_url = models.TextField(blank=True, default="")
    consent_datetime = models.DateTimeField(null=True, blank=True)
    consent_ip = models.CharField(max_length=255, blank=True, default="")
    consent_user_agent = models.TextField(blank=True, default="")
    consent_text = models.TextField(blank=True, default="")
    consent_imported = models.BooleanField(default=False)

    class Meta:
        db_table = "email_contact_consent"


class FailedAuth(models.Model):
    """``email_failed_auth``: failed external-dynamic-content passcode attempts per client IP.

    The storefront's lockout (:mod:`dotsync.storefront.lockout`); the reference counted them per store.
    """

    failures_num = models.IntegerField(default=0)
    first_attempt_date = models.DateTimeField(null=True, blank=True)
    last_attempt_date = models.DateTimeField(null=True, blank=True)
    url = models.TextField(blank=True, default="")
    store = models.ForeignKey(
        "dotsync.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    client_ip = models.GenericIPAddressField(
        null=True,
        blank=True,
        unique=True,
        help_text="the client the failures came from (the lockout is per client)",
    )

    class Meta:
        db_table = "email_failed_auth"


class InstallProgress(models.Model):
    """``dotsync_install_progress``: the resume pointer of each table's history backfill."""

    table = models.CharField(max_length=64, unique=True)
    last_id = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    done = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "dotsync_install_progress"
