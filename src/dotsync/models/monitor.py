"""``email_monitor_alert``: what the ``monitor`` job found in one window for one website, and who was told."""

from __future__ import annotations

from django.db import models


class NotifyStatus(models.TextChoices):
    """Whether the alert email of a monitor run was sent, and if not, why."""

    NOTHING = "nothing", "nothing to report"
    OFF = "off", "alert emails are off"
    NO_RECIPIENTS = "no_recipients", "no active staff recipient with an email address"
    THROTTLED = "throttled", "an alert email was already sent in this window"
    SENT = "sent", "sent"
    FAILED = "failed", "sending failed"


class MonitorAlert(models.Model):
    """One run of the ``monitor`` job for one website: the window it covered and what it found.

    Attributes:
        website: the website the run covered.
        window_start: the start of what was looked at: the previous run's ``window_end``, or
            ``window_end`` minus the alert window for the first run.
        window_end: when the run looked (the next run starts there).
        window_minutes: the website's alert window (``alert_window``) at the time.
        failed_imports: ``email_importer`` rows that failed in the window.
        job_errors: ``email_job_run`` rows of the website (or of its account) that ended ``failed``.
        details: ids only (never personal data): ``{"imports": [{"id", "type", "mode"}],
            "job_runs": [{"id", "job", "scope"}]}``, at most :data:`dotsync.jobs.monitor.DETAIL_LIMIT` each.
        notify_status: whether the alert email went out (:class:`NotifyStatus`).
        notified_at: when the email covering this row was sent (None: not sent).
        recipients: the staff user ids the email was sent to.
        notify_error: the exception class and message of a failed send (no recipient address).
    """

    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    window_minutes = models.PositiveIntegerField()
    failed_imports = models.PositiveIntegerField(default=0)
    job_errors = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)
    notify_status = models.CharField(
        max_length=16, choices=NotifyStatus.choices, default=NotifyStatus.NOTHING
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    notify_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "email_monitor_alert"
        indexes = [models.Index(fields=["website", "window_end"], name="email_monitor_alert_window")]

    def __str__(self) -> str:
        return (
            f"{self.window_end:%Y-%m-%d %H:%M} website #{self.website_id}: "
            f"{self.failed_imports} failed import(s), {self.job_errors} job error(s)"
        )

    @property
    def found(self) -> int:
        """Failed imports plus job errors."""
        return self.failed_imports + self.job_errors
