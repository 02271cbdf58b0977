"""Runtime tables: job runs (``email_job_run``) and the lease rows that lock them (``email_job_lease``)."""

from __future__ import annotations

from django.db import models


class RunOutcome(models.TextChoices):
    """How a job run ended (``running`` while it runs; a run that died keeps ``running``)."""

    RUNNING = "running", "running"
    SUCCESS = "success", "success"
    FAILED = "failed", "failed"
    LOCKED = "locked", "locked (another run held the lock)"
    SKIPPED = "skipped", "skipped (nothing enabled)"


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
