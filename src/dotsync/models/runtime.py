"""Runtime tables: job runs (``email_job_run``) and the lease rows that lock them (``email_job_lease``)."""

from __future__ import annotations

from django.db import models


class RunOutcome(models.TextChoices):
    """How a job run ended (``running`` while it runs).

    A run whose process died keeps ``running`` until the next run of its unit takes the lock, which
    proves it dead: that run marks it ``interrupted`` (:func:`dotsync.runtime.runs.run_job`).
    """

    RUNNING = "running", "running"
    SUCCESS = "success", "success"
    FAILED = "failed", "failed"
    LOCKED = "locked", "locked (another run held the lock)"
    SKIPPED = "skipped", "skipped (nothing enabled)"
    INTERRUPTED = "interrupted", "interrupted (its process died; its queued work stayed queued)"


class JobRun(models.Model):
    """``email_job_run``: one run of one job for one unit of its scope.

    Attributes:
        job_id: the job's id (:data:`dotsync.jobs.registry.JOBS` key).
        scope: the unit it ran for: a website code, an account's label, or "" for the whole job.
        counts: the job's counters per website (:attr:`dotsync.jobs.base.JobResult.counts`).
        error: what went wrong, with email addresses masked (never personal data).
    """

    job_id = models.CharField(max_length=64)
    scope = models.CharField(max_length=255, blank=True, default="")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "email_job_run"
        indexes = [models.Index(fields=["job_id", "scope", "started_at"], name="email_job_run_job_scope")]

    def __str__(self) -> str:
        return f"{self.job_id}[{self.scope}] {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class JobLease(models.Model):
    """``email_job_lease``: who holds a job's lock, until when (taken over once ``expires_at`` passed)."""

    key = models.CharField(max_length=255, unique=True)
    owner = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "email_job_lease"

    def __str__(self) -> str:
        return f"{self.key} held by {self.owner} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class JobNudge(models.Model):
    """``email_job_nudge``: a committed store change asks for a job to run soon for one website.

    The fast path: the store's observers write one row per (job, website) after their commit (a
    second change before the row is taken keeps the first row and its time, so a burst is one
    nudge); the scheduler of ``dotsync run`` reads the table every half second, takes the rows whose
    debounce window has passed (deleting them, so one scheduler runs each) and brings the job and the
    website's importer forward. Any process can write a nudge: the shop is not ``dotsync run``.

    Attributes:
        job_id: the job's id (:data:`dotsync.jobs.registry.JOBS` key).
        website: the website whose unit should run.
        nudged_at: the first change not yet taken (the debounce window starts here).
    """

    job_id = models.CharField(max_length=64)
    website = models.ForeignKey("dotsync.Website", on_delete=models.CASCADE, related_name="+")
    nudged_at = models.DateTimeField()

    class Meta:
        db_table = "email_job_nudge"
        constraints = [
            models.UniqueConstraint(fields=["job_id", "website"], name="email_job_nudge_job_website")
        ]

    def __str__(self) -> str:
        return f"nudge {self.job_id}[{self.website_id}] at {self.nudged_at:%H:%M:%S}"  # type: ignore[attr-defined]
