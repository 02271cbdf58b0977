"""The ``monitor`` job (reference §2.11): failed imports and job errors per website over a window, recorded in
``email_monitor_alert``, shown on the dashboard, and emailed to the chosen staff at most once per window.

Failed imports are real: the sandbox fails the import (``RejectedByWatchdog``) and the importer fails the row.
Job errors are real ``email_job_run`` rows written by :func:`dotsync.runtime.runs.run_job`; the job that fails
is a stand-in (``execute=``), because the sandbox cannot make a job raise. Mail goes to Django's locmem
backend (pytest-django's ``mailoutbox``); the clock moves with time-machine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from dotsync.accounts import RunContext
from dotsync.config import get_config
from dotsync.jobs import importer, monitor
from dotsync.jobs.base import JobResult
from dotsync.jobs.registry import JOBS, batching_jobs, sync_order
from dotsync.models import Importer, JobRun, MonitorAlert, NotifyStatus, RunOutcome, WebsiteConfig
from dotsync.models.importer import ImportStatus
from dotsync.runtime.runs import Unit, run_job, units
from dotsync.runtime.scheduler import plan
from dotsync.testing.platform_setup import configure_websites
from tests.jobs.importer_helpers import contact_batch, contacts, no_import_retries

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


def _staff(username: str, email: str, **fields: Any) -> Any:
    fields.setdefault("is_staff", True)
    return get_user_model().objects.create_user(username, email, "pw-for-tests", **fields)


def _alerts_on(website: Any, recipients: str, **fields: Any) -> None:
    rows = WebsiteConfig.objects.filter(website=website)
    rows.update(alert_emails=True, alert_recipients=recipients, **fields)


def _failed_import(website: Any, emails: list[str]) -> Importer:
    """A contact import the sandbox fails (``RejectedByWatchdog``) and the importer marks failed."""
    batch = contact_batch(website, contacts(website, emails))
    importer.run()  # started
    importer.run()  # polled: the platform failed it, no retry left
    batch.refresh_from_db()
    assert batch.import_status == ImportStatus.FAILED
    return batch


def _boom(unit: Unit) -> JobResult:
    raise RuntimeError("the job fell over for ann@example.com")


def _failed_run(job_id: str, label: str) -> JobRun:
    """A run of ``job_id`` for the unit ``label`` that raised (recorded by the real runtime)."""
    (unit,) = [u for u in units(JOBS[job_id], RunContext.resolve()) if u.label == label]
    run = run_job(unit, execute=_boom)
    assert run.outcome == RunOutcome.FAILED
    return run


@pytest.fixture
def on_sandbox(scope: Any, sandbox: Any, monkeypatch: Any) -> Any:
    configure_websites(sandbox, [scope.main, scope.outlet])
    sandbox.set_faults(import_outcome="RejectedByWatchdog", import_delay=0)
    no_import_retries(monkeypatch)
    return scope


def test_failed_imports_and_job_errors_are_recorded_and_emailed_to_staff_at_most_once_per_window(
    on_sandbox: Any, mailoutbox: list[Any]
) -> None:
    scope = on_sandbox
    ops = _staff("ops", "Ops@Example.com")
    lead = _staff("lead", "lead@example.com")
    _staff("shopper", "shopper@example.com", is_staff=False)  # named, but not staff: never emailed
    _staff("gone", "gone@example.com", is_active=False)  # named, but inactive
    _alerts_on(scope.main, f"{lead.pk}, ops@example.com, shopper@example.com, gone@example.com")

    with time_machine.travel(START, tick=False) as clock:
        failed = _failed_import(scope.main, ["ann@example.com"])
        outlet_import = _failed_import(scope.outlet, ["zed@example.com"])
        own = _failed_run("orders", "main")
        account = _failed_run("importer", RunContext.resolve().account_of(scope.main.pk).label)
        _failed_run("orders", "outlet")  # another website's job: not main's
        ok = run_job(units(JOBS["catalog"], RunContext.resolve())[0])
        assert ok.outcome == RunOutcome.SUCCESS  # a run that succeeded is no error

        clock.shift(timedelta(minutes=1))
        result = monitor.run("main")

        alert = MonitorAlert.objects.get(website=scope.main)
        assert (alert.failed_imports, alert.job_errors) == (1, 2)
        assert alert.window_end == timezone.now()
        assert alert.window_start == timezone.now() - timedelta(minutes=60)
        assert alert.details == {
            "imports": [{"id": failed.pk, "type": "Customer", "mode": "Bulk"}],
            "job_runs": [
                {"id": own.pk, "job": "orders", "scope": "main"},
                {"id": account.pk, "job": "importer", "scope": account.scope},
            ],
        }
        assert alert.notify_status == NotifyStatus.SENT and alert.notified_at == timezone.now()
        assert sorted(alert.recipients) == sorted([ops.pk, lead.pk])
        assert result.counts["main"] == {"failed_imports": 1, "job_errors": 2, "emails_sent": 1}
        assert not result.errors and outlet_import.pk not in [d["id"] for d in alert.details["imports"]]

        assert sorted(m.to[0] for m in mailoutbox) == ["Ops@example.com", "lead@example.com"]  # as stored
        assert all(len(m.to) == 1 for m in mailoutbox)  # one message each: staff do not see each other
        mail = mailoutbox[0]
        assert mail.subject == "[dotsync] website main: 1 failed import(s), 2 job error(s)"
        assert f"email_importer #{failed.pk} Customer (Bulk)" in mail.body
        assert f"email_job_run #{own.pk} orders [main]" in mail.body
        assert "/admin/dotsync/dashboard/#alerts" in mail.body
        # counts and ids only: no contact address, no platform message, no job error text
        assert "ann@example.com" not in mail.body and "RejectedByWatchdog" not in mail.body
        assert "fell over" not in mail.body

        # 10 minutes later (e.g. `dotsync sync monitor` by hand): a new failure is recorded, not emailed
        clock.shift(timedelta(minutes=10))
        second = _failed_run("orders", "main")
        monitor.run("main")
        throttled = MonitorAlert.objects.filter(website=scope.main).latest("pk")
        assert throttled.window_start == alert.window_end  # the window starts where the last one ended
        assert (throttled.failed_imports, throttled.job_errors) == (0, 1)
        assert throttled.details["job_runs"] == [{"id": second.pk, "job": "orders", "scope": "main"}]
        assert throttled.notify_status == NotifyStatus.THROTTLED and throttled.notified_at is None
        assert len(mailoutbox) == 2

        # a window after the email: nothing new, but the throttled findings go out now
        clock.shift(timedelta(minutes=55))
        monitor.run("main")
        later = MonitorAlert.objects.filter(website=scope.main).latest("pk")
        assert later.found == 0 and later.notify_status == NotifyStatus.SENT
        throttled.refresh_from_db()
        assert throttled.notify_status == NotifyStatus.SENT and throttled.notified_at == later.notified_at
        assert len(mailoutbox) == 4
        earlier = "Earlier windows not emailed yet: 1 (0 failed import(s), 1 job error(s))"
        assert earlier in mailoutbox[-1].body
        assert mailoutbox[-1].subject == "[dotsync] website main: 0 failed import(s), 1 job error(s)"

        # and a quiet window sends nothing
        clock.shift(timedelta(minutes=60))
        monitor.run("main")
        quiet = MonitorAlert.objects.filter(website=scope.main).latest("pk")
        assert quiet.notify_status == NotifyStatus.NOTHING and len(mailoutbox) == 4


def test_without_alert_emails_or_staff_recipients_the_alert_is_recorded_and_nobody_is_emailed(
    on_sandbox: Any, mailoutbox: list[Any]
) -> None:
    scope = on_sandbox
    _staff("shopper", "shopper@example.com", is_staff=False)
    with time_machine.travel(START, tick=False) as clock:
        _failed_import(scope.main, ["ann@example.com"])
        _failed_import(scope.outlet, ["zed@example.com"])
        _alerts_on(scope.outlet, "shopper@example.com, 999")  # neither is an active staff user
        clock.shift(timedelta(minutes=1))
        result = monitor.run()  # every enabled website
    by_site = {a.website_id: a for a in MonitorAlert.objects.all()}
    assert by_site[scope.main.pk].notify_status == NotifyStatus.OFF  # alert emails are off by default
    assert by_site[scope.outlet.pk].notify_status == NotifyStatus.NO_RECIPIENTS
    assert all(a.failed_imports == 1 for a in by_site.values())
    assert result.total("failed_imports") == 2 and result.total("emails_sent") == 0
    assert mailoutbox == []


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message (the locmem backend cannot fail)."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("[Errno 111] Connection refused by smtp for ops@example.com")


def test_a_failed_send_is_a_job_error_and_the_next_window_tries_again(
    on_sandbox: Any, settings: Any, mailoutbox: list[Any]
) -> None:
    scope = on_sandbox
    _staff("ops", "ops@example.com")
    _alerts_on(scope.main, "ops@example.com")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with time_machine.travel(START, tick=False) as clock:
        _failed_import(scope.main, ["ann@example.com"])
        clock.shift(timedelta(minutes=1))
        (unit,) = units(JOBS["monitor"], RunContext.resolve("main"))
        run = run_job(unit)  # as the scheduler runs it: the failed send makes the run fail
        alert = MonitorAlert.objects.get()
        assert alert.notify_status == NotifyStatus.FAILED and alert.notified_at is None
        assert alert.notify_error.startswith("ConnectionRefusedError")
        assert "ops@example.com" not in alert.notify_error  # the address is masked
        assert run.outcome == RunOutcome.FAILED and "alert email could not be sent" in run.error

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(timedelta(minutes=60))
        monitor.run("main")
    alert.refresh_from_db()
    assert alert.notify_status == NotifyStatus.SENT
    (mail,) = mailoutbox
    assert "Earlier windows not emailed yet: 1 (1 failed import(s), 0 job error(s))" in mail.body


def test_the_window_is_the_frequency_and_sync_all_runs_the_monitor_last(scope: Any) -> None:
    from tests.jobs.batch_helpers import enable

    enable(scope.main, alert_window=120)
    enable(scope.outlet, job_frequencies={"monitor": "disabled"})
    job = JOBS["monitor"]
    assert job.frequency(get_config(scope.main)) == 120
    assert job.frequency(get_config(scope.outlet)) == 0  # switched off
    minutes = {e.label: e.minutes for e in plan() if e.job_id == "monitor"}
    assert minutes == {"main": 120, "outlet": 0}
    assert "monitor" not in {j.id for j in batching_jobs()}  # not before the importer: last of all
    assert sync_order()[-1] is job


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("alert_recipients", "ops@example.com, not an address", "must hold staff user ids or email"),
        ("alert_recipients", "0", "must hold staff user ids or email"),
        ("alert_window", 2, "must be a whole number between 5 and 4320"),
        ("alert_emails", None, None),
    ],
)
def test_alert_settings_are_validated(scope: Any, field: str, value: Any, problem: str | None) -> None:
    WebsiteConfig.objects.filter(website=scope.main).update(**{field: value})
    problems = get_config(scope.main).problems()
    if problem is None:
        assert not problems
    else:
        assert any(problem in p and field in p for p in problems), problems


def test_alert_recipients_are_ids_and_addresses_kept_once(scope: Any) -> None:
    WebsiteConfig.objects.filter(website=scope.main).update(
        alert_recipients="12, Ops@Example.com, ops@example.com ,12", alert_emails=True
    )
    cfg = get_config(scope.main)
    assert cfg.alert_recipients == ("12", "ops@example.com") and cfg.alert_emails is True
    assert cfg.alert_window == 60  # the default


def test_the_dashboard_and_the_admin_grid_show_the_alerts(on_sandbox: Any, admin_client: Any) -> None:
    scope = on_sandbox
    with time_machine.travel(START, tick=False) as clock:
        failed = _failed_import(scope.main, ["ann@example.com"])
        clock.shift(timedelta(minutes=1))
        monitor.run()
        clock.shift(timedelta(minutes=60))
        monitor.run()  # a quiet window: not listed on the dashboard
    found = MonitorAlert.objects.get(website=scope.main, failed_imports=1)
    page = admin_client.get("/admin/dotsync/dashboard/")
    assert page.status_code == 200
    assert [a.pk for a in page.context["alerts"]] == [found.pk]
    html = page.content.decode()
    assert f'<tr data-alert="{found.pk}" data-website="main">' in html
    assert f"email_importer #{failed.pk}" in html and 'data-notify="off"' in html
    grid = admin_client.get("/admin/dotsync/monitoralert/")
    assert grid.status_code == 200 and grid.context["cl"].result_count == MonitorAlert.objects.count() == 4


def test_dotsync_config_set_writes_the_alert_settings_the_monitor_reads(scope: Any) -> None:
    from click.testing import CliRunner

    from dotsync.cli import main

    for key, value in (
        ("alert_recipients", "ops@example.com, 7"),
        ("alert_window", "90"),
        ("alert_emails", "yes"),
    ):
        result = CliRunner().invoke(main, ["config", "set", "--website", "main", key, value])
        assert result.exit_code == 0, result.output
    row = WebsiteConfig.objects.get(website=scope.main)
    assert (row.alert_recipients, row.alert_window, row.alert_emails) == ("ops@example.com, 7", 90, True)
    cfg = get_config(scope.main)
    assert cfg.alert_recipients == ("ops@example.com", "7") and not cfg.problems()
    assert JOBS["monitor"].frequency(cfg) == 90
    bad = CliRunner().invoke(main, ["config", "set", "--website", "main", "alert_recipients", "nobody"])
    assert bad.exit_code != 0 and "must hold staff user ids or email addresses" in bad.output


def test_the_cleaner_deletes_monitor_alerts_past_the_retention(on_sandbox: Any) -> None:
    from dotsync.jobs.automation import cleaner

    scope = on_sandbox
    with time_machine.travel(START, tick=False) as clock:
        _failed_import(scope.main, ["ann@example.com"])
        monitor.run("main")
        old = MonitorAlert.objects.get()
        clock.shift(timedelta(days=31))
        monitor.run("main")
        result = cleaner.run("main")  # the default retention: 30 days
    assert result.counts["main"]["email_monitor_alert"] == 1
    (kept,) = MonitorAlert.objects.all()
    assert kept.pk != old.pk and kept.window_start == old.window_end  # the windows still chain
