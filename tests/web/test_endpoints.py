"""``/metrics`` and ``/healthz`` through Django's test client, on the e2e shop synced into the sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from django.apps import apps
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

import dotsync.web.metrics  # noqa: F401 - registers the API call counters before the sync below
from dotsync import __version__
from dotsync.cli import main
from dotsync.exceptions import ServerError
from dotsync.models import Importer, JobRun, Website
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.platform.dotdigital.ratelimit import InProcessRateLimiter
from dotsync.reporting import REPORTS, sync_summary
from dotsync.web.access import TOKEN_ENV
from tests.e2e.conftest import _var_dir, run_sync  # noqa: F401 - fixtures
from tests.e2e.conftest import accounts as accounts  # the fixture

pytestmark = pytest.mark.django_db(transaction=False)


def scrape(client: Client, **extra: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` parsed: ``{(sample name, sorted labels): value}``."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_healthz_answers_ok_with_no_personal_data(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": __version__}


def test_healthz_is_503_when_the_database_does_not_answer(client: Client, monkeypatch: Any) -> None:
    # mocked: an in-process test database cannot be made to stop answering for one request
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("dotsync.web.health.connection.cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable", "version": __version__}


def test_metrics_report_the_synced_shop_rows_queue_and_api_calls(client: Client, accounts: Any) -> None:
    before = scrape(client)
    run_sync()
    Importer.objects.create(import_type="contact", website=Website.objects.get(code="outlet"))
    Importer.objects.filter(import_status=Importer.Status.PENDING).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )
    with CaptureQueriesContext(connection) as queries:
        samples = scrape(client)
    # aggregates only: one query per reported table, plus a fixed few (websites, queue, job runs, usage)
    assert len(queries) <= len(REPORTS) + 8, [q["sql"][:80] for q in queries]

    assert samples[("dotsync_database_up", ())] == 1
    # every count of `dotsync status` is a dotsync_rows sample, and nothing else is
    summary = sync_summary()
    expected = {
        ("dotsync_rows", (("state", state), ("table", table), ("website", website))): n
        for table, per_site in summary["tables"].items()
        for website, counts in per_site.items()
        for state, n in counts.items()
        if state != "total"
    }
    assert {k: v for k, v in samples.items() if k[0] == "dotsync_rows"} == expected
    imported_orders = (("state", "imported"), ("table", "email_order"), ("website", "main"))
    assert samples[("dotsync_rows", imported_orders)] > 0
    assert samples[("dotsync_queue_depth", (("website", "main"),))] == 0
    assert samples[("dotsync_queue_depth", (("website", "outlet"),))] == 1
    assert samples[("dotsync_queue_oldest_pending_age_seconds", (("website", "main"),))] == 0
    assert 299 <= samples[("dotsync_queue_oldest_pending_age_seconds", (("website", "outlet"),))] < 400

    def calls(of: dict[Any, float]) -> float:
        return sum(v for (name, _), v in of.items() if name == "dotsync_api_calls_total")

    assert calls(samples) - calls(before) > 0
    # the counters are process-wide (earlier tests' faults are in them): look at what this sync added
    statuses = {
        dict(labels)["status"]
        for (name, labels), v in samples.items()
        if name == "dotsync_api_calls_total" and v > before.get((name, labels), 0)
    }
    assert statuses <= {"200", "201", "202", "204", "404"} and "200" in statuses


def test_metrics_report_job_runs_by_outcome_last_duration_and_last_success(client: Client, db: None) -> None:
    start = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    runs = [("success", 0, 30), ("failed", 60, 65), ("success", 120, 130), ("locked", 130, 130)]
    for outcome, begin, end in runs:
        JobRun.objects.create(
            job_id="order_sync",
            scope="main",
            started_at=start + dt.timedelta(seconds=begin),
            finished_at=start + dt.timedelta(seconds=end),
            outcome=outcome,
        )
    samples = scrape(client)
    runs_of = {dict(k[1])["outcome"]: v for k, v in samples.items() if k[0] == "dotsync_job_runs_total"}
    assert runs_of == {"success": 2, "failed": 1, "locked": 1}
    last = (start + dt.timedelta(seconds=130)).timestamp()
    job = (("job", "order_sync"), ("scope", "main"))
    assert samples[("dotsync_job_last_success_timestamp_seconds", job)] == last
    durations = {k[1]: v for k, v in samples.items() if k[0] == "dotsync_job_last_duration_seconds"}
    assert len(durations) == 1 and list(durations.values()) == [0.0]  # the last run: locked at once


@pytest.mark.parametrize(
    ("remote", "token", "sent", "status"),
    [
        ("127.0.0.1", None, None, 200),
        ("::1", None, None, 200),
        ("10.1.2.3", None, None, 403),
        ("10.1.2.3", None, "Bearer anything", 403),  # no token configured: only loopback
        ("10.1.2.3", "s3cret-token", "Bearer s3cret-token", 200),
        ("10.1.2.3", "s3cret-token", "bearer s3cret-token", 200),
        ("10.1.2.3", "s3cret-token", "Bearer s3cret-tokeN", 403),
        ("10.1.2.3", "s3cret-token", "Basic s3cret-token", 403),
        ("10.1.2.3", "s3cret-token", "Bearer ", 403),
    ],
)
def test_metrics_answer_loopback_or_the_bearer_token(
    client: Client, monkeypatch: Any, remote: str, token: str | None, sent: str | None, status: int
) -> None:
    if token is None:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(TOKEN_ENV, token)
    headers = {"HTTP_AUTHORIZATION": sent} if sent else {}
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == status
    if status == 403:
        assert TOKEN_ENV.encode() in response.content and b"dotsync_" not in response.content
    assert client.get("/healthz", REMOTE_ADDR=remote).status_code == 200  # health is open to all


def test_metrics_count_retries_and_rate_limit_waits_of_this_process(
    client: Client, sandbox: Any, sandbox_account: tuple[str, str]
) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:  # a fake clock: waits pass at once
        now[0] += seconds

    limiter = InProcessRateLimiter(1, 60.0, sleep=sleep, clock=lambda: now[0])
    before = scrape(client)
    with DotdigitalClient(*sandbox_account, base_url=sandbox.url, limiter=limiter, sleep=sleep) as api:
        api.account_info()  # first call of the window: no wait
        sandbox.set_faults(error_rate=1.0, error_status=503)
        try:
            with pytest.raises(ServerError):
                api.account_info()  # waits for the budget, then 503 and retried until it gives up
        finally:
            sandbox.set_faults(reset=True)
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    operation = "account.info"
    assert delta("dotsync_api_calls_total", operation=operation, status="200") == 1
    assert delta("dotsync_api_calls_total", operation=operation, status="503") == 6  # 1 + max_retries
    assert delta("dotsync_api_retries_total", operation=operation) == 5
    assert delta("dotsync_api_rate_limit_waits_total", operation=operation) >= 1
    assert delta("dotsync_api_rate_limit_wait_seconds_total", operation=operation) >= 59


def test_createsuperuser_gives_a_first_admin_login(client: Client, monkeypatch: Any) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-test-password-4242")
    args = ["createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert client.login(username="admin", password="a-long-test-password-4242")
    assert client.get("/admin/").status_code == 200


def test_metrics_report_the_api_usage_every_process_recorded_in_the_last_24_hours(client: Client) -> None:
    try:
        usage = apps.get_model("dotsync", "ApiUsage")
    except LookupError:
        pytest.skip("the dashboard's email_api_usage table is not installed")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = [(0, "2xx", 40, 0), (1, "2xx", 2, 0), (2, "4xx", 5, 3), (30, "2xx", 999, 0)]  # 30 h ago: out
    for hours_ago, status, calls, throttled in rows:
        usage._default_manager.create(
            account="apiuser@sandbox",
            hour=hour - dt.timedelta(hours=hours_ago),
            operation="contacts.import",
            status_class=status,
            calls=calls,
            throttled=throttled,
        )
    samples = scrape(client)
    labels = (("account", "apiuser@sandbox"), ("operation", "contacts.import"))
    assert samples[("dotsync_api_calls_last_24h", (*labels, ("status_class", "2xx")))] == 42
    assert samples[("dotsync_api_calls_last_24h", (*labels, ("status_class", "4xx")))] == 5
    assert samples[("dotsync_api_throttled_last_24h", (("account", "apiuser@sandbox"),))] == 3
