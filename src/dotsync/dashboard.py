"""The admin dashboard: dotsync's state at a glance (``/admin/dotsync/dashboard/``).

One page, a fixed number of aggregate queries whatever the data:

* **Rows per stream** per website: :func:`dotsync.reporting.sync_summary`, what ``dotsync status``
  prints (each stream's declared status line, the importer queue by status and its live split).
* **Queue**: importer rows pending and importing, and the age of the oldest pending row.
* **Jobs**: each registered job's units (:func:`dotsync.runtime.scheduler.plan`) with the last run
  (``email_job_run``, one query for all) and the next run (:func:`~dotsync.runtime.scheduler.next_after`).
* **API usage**: calls and rate limits (HTTP 429) per hour over the last 24 hours, as inline SVG
  bars, from ``email_api_usage`` (written by :mod:`dotsync.usage`).
* **Alerts**: the latest runs of the ``monitor`` job that found failed imports or job errors
  (``email_monitor_alert``, one query), with whether staff were emailed.
* **Failed rows**: failed importer rows and sync rows with their reasons, each with a retry button,
  and one for all. Retrying reuses :func:`~dotsync.jobs.importer.state.reset_to_pending`,
  :func:`~dotsync.jobs.resync.resync` and :func:`~dotsync.jobs.resume.resume` (``dotsync retry --failed``).

:func:`install` adds the page and its retry endpoint to an admin site (staff only, CSRF-protected POST).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Model, OuterRef, Q, Subquery, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dotsync.jobs import streams
from dotsync.jobs.importer.state import reset_to_pending
from dotsync.jobs.resume import resume
from dotsync.jobs.resync import SYNC_MODELS, resync
from dotsync.models import ApiUsage, Importer, JobRun, MonitorAlert, RunOutcome, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.reporting import summary_rows, sync_summary
from dotsync.runtime.scheduler import next_after, plan

__all__ = [
    "ALERT_LIMIT",
    "FAILED_LIMIT",
    "HOURS",
    "alerts",
    "api_usage",
    "context",
    "failed_rows",
    "install",
    "job_rows",
    "queue",
]

FAILED_LIMIT = 50
"""Failed rows listed per table (the counts above give the totals)."""
ALERT_LIMIT = 20
"""Monitor alerts listed (the latest that found something; the ``email_monitor_alert`` grid has them all)."""
HOURS = 24
"""Hours of API usage charted."""
CHART_HEIGHT = 60
"""Height of a chart's bars area, in SVG units."""
BAR_WIDTH = 12


def queue(now: datetime | None = None) -> dict[str, Any]:
    """Importer queue depth: rows pending and importing, and the oldest pending row's age (one query)."""
    now = now or timezone.now()
    agg = Importer.objects.filter(import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING]).aggregate(
        pending=Count("pk", filter=Q(import_status=ImportStatus.PENDING)),
        importing=Count("pk", filter=Q(import_status=ImportStatus.IMPORTING)),
        oldest=Min("created_at", filter=Q(import_status=ImportStatus.PENDING)),
    )
    oldest = agg["oldest"]
    return {
        "pending": agg["pending"],
        "importing": agg["importing"],
        "depth": agg["pending"] + agg["importing"],
        "oldest_pending_at": oldest,
        "oldest_pending_age": (now - oldest) if oldest else None,
    }


def _last_runs() -> dict[tuple[str, str], JobRun]:
    """The latest started run of every job and unit (as :func:`dotsync.runtime.runs.last_run`), one query."""
    runs = JobRun.objects.exclude(outcome=RunOutcome.LOCKED)
    latest = runs.filter(job_id=OuterRef("job_id"), scope=OuterRef("scope")).order_by("-started_at", "-id")
    return {(r.job_id, r.scope): r for r in runs.filter(pk=Subquery(latest.values("pk")[:1]))}


def job_rows(now: datetime | None = None) -> list[dict[str, Any]]:
    """Each job's units: frequency, last run (started, outcome, error) and next run; "never run" as None."""
    now = now or timezone.now()
    last = _last_runs()
    rows = []
    for entry in plan():
        run = last.get((entry.job_id, entry.label))
        rows.append(
            {
                "job": entry.job_id,
                "scope": entry.label,
                "minutes": entry.minutes,
                "last": run,
                "next_run": next_after(entry, run, now),
            }
        )
    return rows


@dataclass
class Bar:
    """One hour of a chart."""

    hour: datetime
    value: int
    x: int
    y: int
    height: int


def _bars(hours: list[datetime], values: dict[datetime, int]) -> list[Bar]:
    top = max([values.get(h, 0) for h in hours] + [1])
    out = []
    for i, hour in enumerate(hours):
        value = values.get(hour, 0)
        height = round(CHART_HEIGHT * value / top) if value else 0
        out.append(Bar(hour, value, i * (BAR_WIDTH + 2), CHART_HEIGHT - height, height))
    return out


def api_usage(now: datetime | None = None) -> dict[str, Any]:
    """API calls and 429s per hour over the last :data:`HOURS` hours, and per operation (two queries)."""
    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]
    recent = ApiUsage.objects.filter(hour__gte=hours[0])
    hourly = recent.values("hour").annotate(c=Sum("calls"), t=Sum("throttled")).order_by()
    per_hour = {row["hour"]: row for row in hourly}
    calls = {h: row["c"] for h, row in per_hour.items()}
    throttled = {h: row["t"] for h, row in per_hour.items()}
    by_operation = list(
        recent.values("operation", "status_class")
        .annotate(calls=Sum("calls"), throttled=Sum("throttled"))
        .order_by("-calls", "operation", "status_class")
    )
    return {
        "calls": _bars(hours, calls),
        "throttled": _bars(hours, throttled),
        "total_calls": sum(calls.values()),
        "total_throttled": sum(throttled.values()),
        "by_operation": by_operation,
        "width": HOURS * (BAR_WIDTH + 2),
        "height": CHART_HEIGHT,
    }


def _status_columns(model: type[Model]) -> list[str]:
    return list(dict.fromkeys(s.columns.status for s in streams.ALL if s.model is model))


def _has_website(model: type[Model]) -> bool:
    return any(f.name == "website" for f in model._meta.get_fields())


def failed_rows() -> list[dict[str, Any]]:
    """Failed importer rows and sync rows with their reasons, at most :data:`FAILED_LIMIT` per table.

    One query per table: ``{"table", "pk", "website", "what", "reason", "updated"}`` dicts.
    """
    out: list[dict[str, Any]] = []
    imports = Importer.objects.filter(import_status=ImportStatus.FAILED).order_by("-updated_at")
    for row in imports.values("pk", "website__code", "import_type", "import_mode", "message", "updated_at")[
        :FAILED_LIMIT
    ]:
        out.append(
            {
                "table": Importer._meta.db_table,
                "pk": row["pk"],
                "website": row["website__code"],
                "what": f"{row['import_type']} ({row['import_mode']})",
                "reason": row["message"],
                "updated": row["updated_at"],
            }
        )
    for model in SYNC_MODELS:
        failed = Q()
        for column in _status_columns(model):
            failed |= Q(**{column: SyncStatus.FAILED})
        fields = ["pk", "sync_message", "updated_at", *(["website__code"] if _has_website(model) else [])]
        records: Any = model._default_manager.filter(failed).order_by("-pk").values(*fields)
        for row in records[:FAILED_LIMIT]:
            out.append(
                {
                    "table": model._meta.db_table,
                    "pk": row["pk"],
                    "website": row.get("website__code", "*"),
                    "what": model._meta.verbose_name,
                    "reason": row["sync_message"],
                    "updated": row["updated_at"],
                }
            )
    return out


def alerts() -> list[MonitorAlert]:
    """The latest :data:`ALERT_LIMIT` monitor alerts that found something, newest first (one query)."""
    found = MonitorAlert.objects.filter(Q(failed_imports__gt=0) | Q(job_errors__gt=0))
    return list(found.select_related("website").order_by("-window_end", "-pk")[:ALERT_LIMIT])


def context(now: datetime | None = None) -> dict[str, Any]:
    """Everything the page shows (also what tests compare with ``dotsync status --json``)."""
    now = now or timezone.now()
    summary = sync_summary(emails=False)
    columns, rows = summary_rows(summary)
    return {
        "summary": summary,
        "columns": columns,
        "rows": rows,
        "queue": queue(now),
        "jobs": job_rows(now),
        "usage": api_usage(now),
        "failed": failed_rows(),
        "alerts": alerts(),
        "now": now,
    }


# --- views ----------------------------------------------------------------------------------------------

_RETRYABLE: list[type[Model]] = [Importer, *SYNC_MODELS]
_TABLES: dict[str, type[Model]] = {m._meta.db_table: m for m in _RETRYABLE}


def _may_change(request: HttpRequest, model: type[Model]) -> bool:
    opts = model._meta
    return bool(request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))  # type: ignore[union-attr]


def dashboard_view(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    """The page, in ``site``'s frame."""

    def view(request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/dotsync/dashboard.html",
            {**site.each_context(request), "title": "dotsync dashboard", **context()},
        )

    return view


@require_POST
def retry_view(request: HttpRequest) -> HttpResponse:
    """Queue failed rows again: ``row=<table>:<pk>`` one row, ``row=all`` every failed row.

    Needs the table's change permission (``all``: the importer's), as the grids' retry actions do.
    """
    target = request.POST.get("row", "")
    if target == "all":
        if not _may_change(request, Importer):
            raise PermissionDenied
        done = resume(failed=True)
        messages.success(
            request,
            f"{done.failed_imports} failed import(s) and {done.failed_records} failed record(s) "
            "queued again; the next sync sends them.",
        )
    else:
        table, _, pk = target.partition(":")
        model = _TABLES.get(table)
        if model is None or not pk.isdigit():
            messages.error(request, f"Nothing to retry: unknown row {target!r}.")
        elif not _may_change(request, model):
            raise PermissionDenied
        else:
            rows = model._default_manager.filter(pk=int(pk))
            if model is Importer:
                n = reset_to_pending(Importer.objects.filter(pk=int(pk), import_status=ImportStatus.FAILED))
            else:
                n = resync(rows, only_failed=True)
            if n:
                messages.success(request, f"{table} #{pk} queued again; the next sync sends it.")
            else:
                messages.warning(request, f"{table} #{pk} is no longer failed: nothing to retry.")
    return HttpResponseRedirect(reverse("admin:dotsync_dashboard"))


def install(site: admin.AdminSite = admin.site) -> None:
    """Add the dashboard and its retry endpoint to ``site``'s URLs (staff only), and link it on the index."""
    if getattr(site, "_dotsync_dashboard", False):
        return
    original = site.get_urls

    def get_urls() -> list[URLPattern | URLResolver]:
        mine = [
            path("dotsync/dashboard/", site.admin_view(dashboard_view(site)), name="dotsync_dashboard"),
            path("dotsync/dashboard/retry/", site.admin_view(retry_view), name="dotsync_dashboard_retry"),
        ]
        return [*mine, *original()]

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.index_template = site.index_template or "admin/dotsync/index.html"
    site._dotsync_dashboard = True  # type: ignore[attr-defined]
