"""The admin dashboard (``/admin/dotsync/dashboard/``) through Django's test client, on the e2e shop
synced into the sandbox: rows per stream as ``dotsync status --json`` counts them, the queue, the
jobs' last and next runs, the API usage charts, and the failed rows with their retry buttons."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from dotsync import usage
from dotsync.cli import main
from dotsync.exceptions import PlatformError
from dotsync.jobs.runner import sync_all
from dotsync.models import ApiUsage, Importer, JobRun, Order, SyncStatus
from dotsync.models.importer import ImportStatus
from dotsync.platform.dotdigital import DotdigitalClient
from dotsync.platform.dotdigital.ratelimit import InProcessRateLimiter
from dotsync.runtime.scheduler import plan
from dotsync.testing.shop import make_customer, make_product, place_order
from tests.e2e.conftest import _var_dir, run_sync  # noqa: F401 - fixtures
from tests.e2e.conftest import accounts as accounts  # the fixture
from tests.jobs.importer_helpers import no_import_retries

pytestmark = pytest.mark.django_db(transaction=False)

URL = "/admin/dotsync/dashboard/"
RETRY = "/admin/dotsync/dashboard/retry/"


@pytest.fixture
def staff(client: Client) -> Client:
    """A logged-in superuser (staff, every permission)."""
    user = get_user_model().objects.create_superuser("admin", "admin@example.invalid", "pw-for-tests")
    client.force_login(user)
    return client


def _status() -> dict[str, Any]:
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _cells(html: str, table: str, website: str) -> list[str]:
    row = re.search(
        rf'<tr data-table="{re.escape(table)}" data-website="{re.escape(website)}">(.*?)</tr>', html
    )
    assert row, (table, website)
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_the_dashboard_shows_what_status_counts_the_jobs_and_the_api_usage(
    staff: Client, accounts: Any, django_assert_max_num_queries: Any
) -> None:
    run_sync()
    status = _status()
    # session and user, then a fixed set of aggregates: one per status line, queue, job runs, the
    # websites' settings (plan), usage per hour and per operation, failed rows per table, the monitor's
    # alerts; no row is read one by one, so the bound holds with 1 or 10,000 rows
    with django_assert_max_num_queries(34):  # + the campaign, cart, automation, consent and SMS lines
        response = staff.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    ctx = response.context
    assert ctx["summary"]["tables"] == status["tables"]  # the same numbers as `dotsync status --json`
    columns = ctx["columns"]
    for table, per_site in status["tables"].items():
        for website, counts in per_site.items():
            cells = _cells(html, table, website)
            assert cells[columns.index("total")] == str(counts["total"])
            for state in ("pending", "imported", "failed"):
                if state in counts:
                    assert cells[columns.index(state)] == str(counts[state]), (table, website, state)
    assert status["tables"]["email_contact"]["main"]["imported"] > 0

    queue = ctx["queue"]
    assert queue["depth"] == 0 and queue["oldest_pending_at"] is None  # the sync drained it
    assert '<strong data-queue="oldest">none</strong>' in html

    # no scheduler ran in this test: every job unit is listed as never run, with its next run due now
    units = {(e.job_id, e.label) for e in plan()}
    assert {(j["job"], j["scope"]) for j in ctx["jobs"]} == units
    assert all(j["last"] is None for j in ctx["jobs"]) and "never run" in html

    # the sync's calls were recorded per hour (flushed at the end of the run) and charted
    recorded = sum(ApiUsage.objects.values_list("calls", flat=True))
    assert recorded > 0 and ctx["usage"]["total_calls"] == recorded
    assert ApiUsage.objects.filter(operation__startswith="contacts", status_class="2xx").exists()
    assert '<svg id="chart-calls"' in html and '<svg id="chart-throttled"' in html
    assert len(re.findall(r'<rect class="bar"', html)) == 24
    assert re.search(r'<rect class="bar" [^>]*height="60"', html)  # the busiest hour is the full height


def test_a_job_run_shows_its_outcome_and_next_run(staff: Client, accounts: Any) -> None:
    from dotsync.runtime.scheduler import run_once

    runs = run_once()
    assert runs
    response = staff.get(URL)
    rows = {(j["job"], j["scope"]): j for j in response.context["jobs"]}
    for run in JobRun.objects.all():
        row = rows[(run.job_id, run.scope)]
        assert row["last"].pk == run.pk or row["last"].started_at >= run.started_at
        if row["minutes"]:
            assert row["next_run"] > run.started_at
    assert f'data-outcome="{runs[0].outcome}"' in response.content.decode()


def test_a_failed_row_shows_its_reason_and_its_retry_button_queues_it_again(
    staff: Client, accounts: Any, sandbox: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run_sync()
    no_import_retries(monkeypatch)
    sandbox.set_faults(import_outcome="RejectedByWatchdog")
    with django_capture_on_commit_callbacks(execute=True):
        make_customer("dora@example.com", "Dora", "Dash")
    sync_all(timeout=30)
    failed = Importer.objects.filter(import_status=ImportStatus.FAILED).order_by("pk").first()
    assert failed is not None and failed.message

    html = staff.get(URL).content.decode()
    row = re.search(rf'<tr data-row="email_importer:{failed.pk}">(.*?)</tr>', html, re.S)
    assert row and failed.message[:40] in row.group(1).replace("&#x27;", "'").replace("&quot;", '"')
    assert f'name="row" value="email_importer:{failed.pk}"' in html and 'value="all"' in html
    assert "csrfmiddlewaretoken" in html

    # the button posts with the CSRF token, as a browser does
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(get_user_model().objects.get(username="admin"))
    page = csrf.get(URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    assert csrf.post(RETRY, {"row": f"email_importer:{failed.pk}"}).status_code == 403  # no token
    response = csrf.post(RETRY, {"row": f"email_importer:{failed.pk}", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302 and response["Location"] == URL
    failed.refresh_from_db()
    assert failed.import_status == ImportStatus.PENDING

    sandbox.set_faults(import_outcome="Finished")
    run_sync(batch=False)
    failed.refresh_from_db()
    assert failed.import_status == ImportStatus.IMPORTED
    assert "dora@example.com" in sandbox.contacts(accounts["main"].username)
    page = staff.get(URL, follow=False)
    assert f'data-row="email_importer:{failed.pk}"' not in page.content.decode()


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL refuses the 13-digit total on write, so no read fails"
)
def test_a_quarantined_record_is_listed_and_retry_all_queues_it_again(
    staff: Client, shop: Any, accounts: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        whale = make_customer("whale@example.com", "Wes", "Whale")
        yacht = make_product("Yacht", "9999999999.99")  # 13 digits with shipping: the read fails
        huge = place_order(whale, [(yacht, 1)], shop.scope.main_en, status="processing")
    run_sync()
    row = Order.objects.get(order_id=huge.pk)
    assert row.sync_status == SyncStatus.FAILED and row.sync_message

    html = staff.get(URL).content.decode()
    listed = re.search(rf'<tr data-row="email_order:{row.pk}">(.*?)</tr>', html, re.S)
    assert listed and "total_incl_tax" in listed.group(1) and "<td>main</td>" in listed.group(1)

    response = staff.post(RETRY, {"row": "all"}, follow=True)
    assert response.status_code == 200
    assert "0 failed import(s) and 1 failed record(s) queued again" in response.content.decode()
    row.refresh_from_db()
    assert row.sync_status == SyncStatus.MODIFIED  # `dotsync retry --failed`'s resync


def test_non_staff_is_sent_to_the_login_page(client: Client, db: None) -> None:
    for url in (URL,):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    user = get_user_model().objects.create_user("shopper", "s@example.invalid", "pw-for-tests")
    client.force_login(user)
    assert client.get(URL)["Location"].startswith("/admin/login/")
    assert client.post(RETRY, {"row": "all"})["Location"].startswith("/admin/login/")


def test_the_admin_index_links_the_dashboard(staff: Client, db: None) -> None:
    html = staff.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in html


def test_usage_is_flushed_in_batches_not_per_call(db: None, monkeypatch: Any) -> None:
    recorder = usage.UsageRecorder("api-user at http://sandbox.invalid")
    monkeypatch.setattr(usage, "FLUSH_EVERY", 5)
    for status in ("200", "200", "429", "200"):
        recorder.call("contacts.get", status)
    assert not ApiUsage.objects.exists()  # nothing written below the batch size
    recorder.call("contacts.get", "unreachable")  # the fifth call flushes
    rows = {(r.status_class, r.calls, r.throttled) for r in ApiUsage.objects.all()}
    assert rows == {("2xx", 3, 0), ("4xx", 1, 1), ("unreachable", 1, 0)}
    recorder.call("contacts.get", "200")
    assert recorder.flush() == 1
    assert ApiUsage.objects.get(status_class="2xx").calls == 4  # the hour's bucket grew: one upsert


def test_rate_limited_answers_are_charted_as_429s(
    staff: Client, sandbox: Any, sandbox_account: tuple[str, str]
) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:  # a fake clock: waits pass at once (the sandbox's minute does not)
        now[0] += seconds

    limiter = InProcessRateLimiter(100, 60.0, sleep=sleep, clock=lambda: now[0])
    with DotdigitalClient(*sandbox_account, base_url=sandbox.url, limiter=limiter, sleep=sleep) as api:
        usage.watch(api, "dashboard-test at sandbox")
        sandbox.set_faults(rate_limit_per_minute=1)
        try:
            api.account_info()  # the minute's one call
            with pytest.raises(PlatformError):
                api.account_info()  # 429, retried (a fake sleep: the minute never passes) until it gives up
        finally:
            sandbox.set_faults(reset=True)
    usage.flush_all()
    throttled = ApiUsage.objects.get(account="dashboard-test at sandbox", status_class="4xx")
    assert throttled.throttled == throttled.calls > 1

    response = staff.get(URL)
    assert response.context["usage"]["total_throttled"] == throttled.throttled
    html = response.content.decode()
    assert f'<span data-usage="throttled">{throttled.throttled}</span>' in html
    assert re.search(r'<rect class="bar throttled" [^>]*height="60"', html)  # this hour, full height
    assert re.search(rf"<td>account.info</td><td>4xx</td><td[^>]*>{throttled.calls}</td>", html)
