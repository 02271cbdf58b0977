"""The ``monitor`` job: failed imports and job errors per website, shown in the admin and emailed to staff.

Reference §2.11 "Monitor": over a window of ``alert_window`` minutes (the job runs once per window),
for each enabled website it collects

* the ``email_importer`` rows of the website that failed (``import_status`` failed, ``updated_at`` in
  the window), and
* the ``email_job_run`` rows that ended ``failed`` (``finished_at`` in the window) for the website's
  unit or for its account's unit (jobs run per account, such as the importer),

since the end of the previous monitor run of the website (its last :class:`~dotsync.models.MonitorAlert`),
or over the last window for the first run. Each run records one ``email_monitor_alert`` row: the window,
the counts and the ids found (never a message text or an address), which the admin dashboard and the
``email_monitor_alert`` grid show.

When ``alert_emails`` is on and the run found something, the active staff named by ``alert_recipients``
(user ids or email addresses of staff users) are emailed through Django's mail (``django.core.mail``,
``DEFAULT_FROM_EMAIL``), at most once per window per website: a run whose window already had an email
records ``throttled``, and the next email (a window later) also counts what throttled or failed runs
found. The email holds counts, ids and the dashboard's path only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from dotsync.accounts import RunContext, WebsiteContext
from dotsync.config import WebsiteSettings
from dotsync.jobs.base import Job, JobResult, JobScope
from dotsync.models import Importer, JobRun, MonitorAlert, NotifyStatus, RunOutcome
from dotsync.models.importer import ImportStatus

logger = logging.getLogger(__name__)

DETAIL_LIMIT = 100
"""Ids kept (and emailed) per kind of finding; the counts are always complete."""

DASHBOARD_PATH = "/admin/dotsync/dashboard/#alerts"
"""Where the email sends the reader (the standalone admin's path)."""

PENDING = (NotifyStatus.THROTTLED, NotifyStatus.FAILED)
"""Alerts whose findings the next email also counts (they found something that was not emailed)."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@dataclass(frozen=True)
class MonitorJob(Job):
    """The monitor: one unit per website, run once per ``alert_window``."""

    def frequency(self, cfg: WebsiteSettings) -> int:
        """The website's ``alert_window`` (the window is the frequency); 0 if ``job_frequencies`` says off."""
        if cfg.job_frequencies.get(self.id, self.default_frequency) == 0:
            return 0
        return cfg.alert_window

    def run(self, ctx: RunContext) -> JobResult:
        """Check every valid website of the context once (see the module docstring)."""
        result = JobResult(self.id)
        result.errors.extend(ctx.problems)
        now = timezone.now()
        for site in ctx.websites:
            alert = check(site, now=now)
            code = site.website.code
            result.add(code, "failed_imports", alert.failed_imports)
            result.add(code, "job_errors", alert.job_errors)
            result.add(code, "emails_sent", int(alert.notify_status == NotifyStatus.SENT))
            if alert.notify_status == NotifyStatus.FAILED:
                result.errors.append(
                    f"website {code}: the alert email could not be sent: {alert.notify_error}"
                )
        return result


def _scopes(site: WebsiteContext) -> list[str]:
    """The ``email_job_run.scope`` values that concern a website: its code and its account's label."""
    out = [site.website.code]
    if site.account is not None:
        out.append(site.account.label)
    return out


def collect(site: WebsiteContext, start: datetime, end: datetime) -> tuple[int, int, dict[str, Any]]:
    """Failed imports and job errors of a website in ``(start, end]``: counts and ids (four queries)."""
    imports = Importer.objects.filter(
        website=site.website, import_status=ImportStatus.FAILED, updated_at__gt=start, updated_at__lte=end
    )
    runs = JobRun.objects.filter(
        outcome=RunOutcome.FAILED, finished_at__gt=start, finished_at__lte=end, scope__in=_scopes(site)
    )
    details = {
        "imports": [
            {"id": r["pk"], "type": r["import_type"], "mode": r["import_mode"]}
            for r in imports.order_by("pk").values("pk", "import_type", "import_mode")[:DETAIL_LIMIT]
        ],
        "job_runs": [
            {"id": r["pk"], "job": r["job_id"], "scope": r["scope"]}
            for r in runs.order_by("pk").values("pk", "job_id", "scope")[:DETAIL_LIMIT]
        ],
    }
    return imports.count(), runs.count(), details


def check(site: WebsiteContext, *, now: datetime | None = None) -> MonitorAlert:
    """Look at one website since its previous check, record the :class:`MonitorAlert`, email if due."""
    now = now or timezone.now()
    cfg = site.cfg
    window = timedelta(minutes=cfg.alert_window)
    previous = MonitorAlert.objects.filter(website=site.website).order_by("-window_end", "-pk").first()
    start = previous.window_end if previous is not None else now - window
    start = min(start, now)
    failed_imports, job_errors, details = collect(site, start, now)
    alert = MonitorAlert.objects.create(
        website=site.website,
        window_start=start,
        window_end=now,
        window_minutes=cfg.alert_window,
        failed_imports=failed_imports,
        job_errors=job_errors,
        details=details,
    )
    pending = list(
        MonitorAlert.objects.filter(
            website=site.website, notify_status__in=PENDING, notified_at__isnull=True
        ).exclude(pk=alert.pk)
    )
    alert.notify_status = _notify(site, alert, pending, now, window)
    alert.save(update_fields=["notify_status", "notified_at", "recipients", "notify_error"])
    return alert


def _notify(
    site: WebsiteContext, alert: MonitorAlert, pending: list[MonitorAlert], now: datetime, window: timedelta
) -> NotifyStatus:
    """Email what ``alert`` (and the not yet emailed ``pending`` alerts) found, if due; the outcome."""
    cfg = site.cfg
    if not alert.found and not pending:
        return NotifyStatus.NOTHING
    if not cfg.alert_emails:
        return NotifyStatus.OFF
    if MonitorAlert.objects.filter(website=site.website, notified_at__gt=now - window).exists():
        return NotifyStatus.THROTTLED
    staff = recipients(cfg.alert_recipients)
    if not staff:
        return NotifyStatus.NO_RECIPIENTS
    subject, body = message(site, alert, pending)
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    try:
        connection = get_connection()
        connection.send_messages([EmailMessage(subject, body, sender, [email]) for _, email in staff])
    except Exception as exc:  # recorded on the alert and in the run's errors; the next window tries again
        logger.exception("monitor: the alert email of website %s could not be sent", site.website.code)
        alert.notify_error = _EMAIL.sub("<email>", f"{type(exc).__name__}: {exc}")[:1000]
        return NotifyStatus.FAILED
    alert.notified_at = now
    alert.recipients = [pk for pk, _ in staff]
    MonitorAlert.objects.filter(pk__in=[p.pk for p in pending]).update(
        notify_status=NotifyStatus.SENT, notified_at=now, recipients=alert.recipients
    )
    return NotifyStatus.SENT


def recipients(entries: tuple[str, ...]) -> list[tuple[int, str]]:
    """Active staff users with an email address named by ``entries`` (user ids or addresses): (id, email)."""
    ids = [int(e) for e in entries if e.isdigit()]
    emails = [e.lower() for e in entries if "@" in e]
    if not ids and not emails:
        return []
    users = (
        get_user_model()
        ._default_manager.annotate(email_lower=Lower("email"))
        .filter(Q(pk__in=ids) | Q(email_lower__in=emails), is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    return [(int(u.pk), str(u.email)) for u in users]


def message(site: WebsiteContext, alert: MonitorAlert, pending: list[MonitorAlert]) -> tuple[str, str]:
    """The alert email's subject and plain-text body: counts, ids and the dashboard's path only."""
    code = site.website.code
    imports = alert.failed_imports + sum(p.failed_imports for p in pending)
    errors = alert.job_errors + sum(p.job_errors for p in pending)
    subject = f"[dotsync] website {code}: {imports} failed import(s), {errors} job error(s)"
    lines = [
        f"dotsync monitor, website {code}",
        f"Window: {alert.window_start:%Y-%m-%d %H:%M} to {alert.window_end:%Y-%m-%d %H:%M} UTC "
        f"({alert.window_minutes} minutes per window)",
        "",
        f"Failed imports: {alert.failed_imports}",
        *(f"  email_importer #{d['id']} {d['type']} ({d['mode']})" for d in alert.details.get("imports", [])),
        f"Job errors: {alert.job_errors}",
        *(f"  email_job_run #{d['id']} {d['job']} [{d['scope']}]" for d in alert.details.get("job_runs", [])),
    ]
    if pending:
        lines += [
            "",
            f"Earlier windows not emailed yet: {len(pending)} "
            f"({sum(p.failed_imports for p in pending)} failed import(s), "
            f"{sum(p.job_errors for p in pending)} job error(s))",
        ]
    lines += ["", f"Details and retry buttons: the dotsync dashboard in the admin, {DASHBOARD_PATH}", ""]
    return subject, "\n".join(lines)


JOB = MonitorJob(
    "monitor",
    "monitor",
    "Records failed imports and job errors per website each window, and emails the chosen staff.",
    JobScope.WEBSITE,
    default_frequency=60,
    after=("importer", "campaigns", "automation", "cleaner"),  # watches what the others did
)


def run(website_code: str | None = None) -> JobResult:
    """Run the monitor once for every enabled website (or ``website_code``)."""
    return JOB(website_code)
