"""``dotsync run --once`` end to end: the e2e shop, the sandbox over loopback, the real CLI command.

Each due job runs once per unit and is recorded in ``email_job_run``; the platform receives the
shop's records; a second ``--once`` right after finds nothing due; once the frequency has passed
(time-machine), the jobs are due again and the importer settles what the first pass started.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from django.utils import timezone

from dotsync.cli.main import main
from dotsync.jobs.registry import JOBS
from dotsync.models import Contact, JobLease, JobRun, SyncStatus
from dotsync.runtime.runs import from_time
from dotsync.testing.platform_setup import SandboxAccount
from tests.e2e.platform_view import view

pytestmark = pytest.mark.django_db


def run_once() -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["run", "--once", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["runs"]


def jobs_json() -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["jobs", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["jobs"]


def test_run_once_reaches_the_sandbox_and_is_recorded(
    sandbox: Any, accounts: dict[str, SandboxAccount]
) -> None:
    with time_machine.travel(timezone.now(), tick=True) as clock:
        runs = run_once()
        assert {r["job"] for r in runs} == set(JOBS)
        assert all(r["outcome"] == "success" for r in runs), [(r["job"], r["error"]) for r in runs]
        per_website = [r for r in runs if r["job"] == "orders"]
        assert sorted(r["scope"] for r in per_website) == sorted(accounts)
        assert JobRun.objects.count() == len(runs) and not JobLease.objects.exists()  # locks released

        listed = jobs_json()
        assert all(r["outcome"] == "success" and r["last_run"] for r in listed)
        assert all(r["next_run"] > r["last_run"] for r in listed)

        assert run_once() == []  # nothing due yet

        clock.shift(timedelta(minutes=16))
        again = run_once()
        due = {job.id for job in JOBS.values() if job.default_frequency <= 16}  # not the hourly monitor
        assert {r["job"] for r in again} == due
        assert all(r["outcome"] == "success" for r in again), [(r["job"], r["error"]) for r in again]

    # the platform holds the shop's contacts: the importer's second pass settled the first's imports
    for code, account in accounts.items():
        assert view(sandbox, account).contacts, f"{code}: nothing reached the sandbox"
    assert Contact.objects.filter(sync_status=SyncStatus.IMPORTED).exists()
    last_ok = JobRun.objects.filter(job_id="orders", scope="main").latest("started_at")
    assert from_time("orders", "main") == last_ok.finished_at
