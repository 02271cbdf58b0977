"""``/metrics``: Prometheus metrics, named ``dotsync_*``.

Two sources:

* :class:`DatabaseCollector` reads the database at scrape time with a few grouped queries: rows per
  sync table, website and state (the tables ``dotsync status`` reports, :data:`dotsync.reporting.REPORTS`),
  the importer queue's depth and the age of its oldest pending row, and, from ``email_job_run``, job runs
  by outcome, each job's last duration and last successful finish, and, from ``email_api_usage`` when
  it is installed, the API calls of every dotsync process in the last 24 hours. Every process (and every
  uvicorn worker) reports the same numbers.
* :class:`ApiCallCounters` counts this process's dotdigital calls by operation and status, retries and
  rate-limit waits. The platform transport reports them through
  :mod:`dotsync.platform.dotdigital.transport.observers`; they are process-local (per uvicorn worker),
  so they show the calls made by the process that serves ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import DatabaseError
from django.db.models import Count, Max, Min, Model, OuterRef, Q, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dotsync.models import Importer, JobRun, RunOutcome, Website
from dotsync.models.importer import ImportStatus
from dotsync.platform.dotdigital.transport import observers
from dotsync.reporting import REPORTS
from dotsync.web.access import TOKEN_ENV, may_scrape

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=False)
"""dotsync's own registry: what ``/metrics`` exposes (not prometheus-client's global one)."""


def _usage_model() -> type[Model] | None:
    """The ``ApiUsage`` model of the dashboard's usage record, or None while it is not installed."""
    try:
        return apps.get_model("dotsync", "ApiUsage")
    except LookupError:
        return None


class DatabaseCollector(Collector):
    """Metrics read from the database at scrape time (cheap aggregate queries, nothing per row)."""

    def collect(self) -> Iterable[Metric]:
        """Every database metric; a database error yields ``dotsync_database_up 0`` instead."""
        up = GaugeMetricFamily("dotsync_database_up", "1 when the database answered the scrape's queries.")
        try:
            families = [*self._rows(), *self._queue(), *self._job_runs(), *self._usage()]
        except DatabaseError as exc:
            logger.warning("metrics: the database does not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    @staticmethod
    def _rows() -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "dotsync_rows",
            "Rows of each sync table (as dotsync status names them) per website and state.",
            labels=["table", "website", "state"],
        )
        websites = dict(Website.objects.order_by("id").values_list("id", "code"))
        for report in REPORTS:
            for website, counts in report.counts(websites).items():
                for state, n in counts.items():
                    if state != "total":
                        rows.add_metric([report.name, website, state], n)
        yield rows

    @staticmethod
    def _queue() -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "dotsync_queue_depth", "Live importer rows (pending or importing).", labels=["website"]
        )
        age = GaugeMetricFamily(
            "dotsync_queue_oldest_pending_age_seconds",
            "Age of the oldest pending importer row (0 when none is pending).",
            labels=["website"],
        )
        pending = Q(import_status=ImportStatus.PENDING)
        per_site = (
            Importer.objects.filter(import_status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING])
            .values("website__code")
            .annotate(n=Count("pk"), oldest=Min("created_at", filter=pending))
            .order_by()
        )
        found: dict[str, tuple[int, dt.datetime | None]] = {
            row["website__code"]: (row["n"], row["oldest"]) for row in per_site
        }
        now = timezone.now()
        for code in Website.objects.order_by("id").values_list("code", flat=True):
            n, oldest = found.get(code, (0, None))
            depth.add_metric([code], n)
            age.add_metric([code], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield depth
        yield age

    @staticmethod
    def _job_runs() -> Iterator[Metric]:
        manager = JobRun.objects
        runs = CounterMetricFamily(
            "dotsync_job_runs", "Recorded job runs by job and outcome.", labels=["job", "outcome"]
        )
        for job, outcome, n in manager.values_list("job_id", "outcome").annotate(n=Count("pk")).order_by():
            runs.add_metric([job, outcome], n)
        yield runs
        last_success = GaugeMetricFamily(
            "dotsync_job_last_success_timestamp_seconds",
            "Unix time of each job's last successful finish, per scope (its next 'from time').",
            labels=["job", "scope"],
        )
        successes = (
            manager.filter(outcome=RunOutcome.SUCCESS, finished_at__isnull=False)
            .values_list("job_id", "scope")
            .annotate(last=Max("finished_at"))
            .order_by()
        )
        for job, scope, last in successes:
            last_success.add_metric([job, scope], last.timestamp())
        yield last_success
        duration = GaugeMetricFamily(
            "dotsync_job_last_duration_seconds",
            "Duration of each job's last finished run, per scope.",
            labels=["job", "scope", "outcome"],
        )
        latest = (
            manager.filter(job_id=OuterRef("job_id"), scope=OuterRef("scope"), finished_at__isnull=False)
            .order_by("-started_at")
            .values("pk")[:1]
        )
        last_runs = manager.filter(finished_at__isnull=False, pk=Subquery(latest)).values_list(
            "job_id", "scope", "outcome", "started_at", "finished_at"
        )
        for job, scope, outcome, started, finished in last_runs:
            assert finished is not None  # filtered above
            duration.add_metric([job, scope, outcome], max(0.0, (finished - started).total_seconds()))
        yield duration

    @staticmethod
    def _usage() -> Iterator[Metric]:
        usage = _usage_model()
        if usage is None:
            return
        calls = GaugeMetricFamily(
            "dotsync_api_calls_last_24h",
            "dotdigital API requests of every dotsync process in the last 24 hours (whole hours, from "
            "email_api_usage), by account, operation and status class.",
            labels=["account", "operation", "status_class"],
        )
        throttled = GaugeMetricFamily(
            "dotsync_api_throttled_last_24h",
            "Rate-limit answers (HTTP 429) in the last 24 hours, by account.",
            labels=["account"],
        )
        since = timezone.now() - dt.timedelta(hours=24)
        try:
            rows = list(
                usage._default_manager.filter(hour__gte=since)
                .values_list("account", "operation", "status_class")
                .annotate(n=Sum("calls"), limited=Sum("throttled"))
                .order_by()
            )
        except FieldError:  # the usage table changed shape: the other metrics still answer
            logger.exception("metrics: email_api_usage has not the expected columns")
            return
        per_account: dict[str, int] = {}
        for account, operation, status, n, limited in rows:
            calls.add_metric([account, operation, status], n)
            per_account[account] = per_account.get(account, 0) + limited
        for account, n in per_account.items():
            throttled.add_metric([account], n)
        yield calls
        yield throttled


class ApiCallCounters:
    """A call observer feeding Prometheus counters of this process's dotdigital calls."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "dotsync_api_calls",
            "dotdigital API requests sent by this process, by operation and HTTP status "
            f"('{observers.UNREACHABLE}' when no answer came).",
            ["operation", "status"],
            registry=registry,
        )
        self.retries = Counter(
            "dotsync_api_retries", "Retries of dotdigital calls.", ["operation"], registry=registry
        )
        self.rate_limit_waits = Counter(
            "dotsync_api_rate_limit_waits",
            "Calls the rate limiter held back before sending.",
            ["operation"],
            registry=registry,
        )
        self.rate_limit_wait_seconds = Counter(
            "dotsync_api_rate_limit_wait_seconds",
            "Seconds calls spent waiting for the rate limiter.",
            ["operation"],
            registry=registry,
        )

    def call(self, operation: str, status: str) -> None:
        """Count one request and its answer."""
        self.calls.labels(operation, status).inc()

    def retry(self, operation: str) -> None:
        """Count one retry."""
        self.retries.labels(operation).inc()

    def rate_limit_wait(self, operation: str, seconds: float) -> None:
        """Count one rate-limit wait and its seconds."""
        self.rate_limit_waits.labels(operation).inc()
        self.rate_limit_wait_seconds.labels(operation).inc(seconds)


REGISTRY.register(DatabaseCollector())
API_CALLS = ApiCallCounters(REGISTRY)
"""The process's API call counters (registered with the platform transport on import)."""
observers.add_observer(API_CALLS)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition of :data:`REGISTRY`; 403 unless loopback or bearer token."""
    if not may_scrape(request):
        return HttpResponse(
            f"/metrics answers loopback clients only; send 'Authorization: Bearer <token>' with the token "
            f"set in {TOKEN_ENV} on the server.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
